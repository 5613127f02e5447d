package report

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

func TestChartTailWindow(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		series []float64
		want   string // the window's title; "" for none
	}{
		{"one point", []float64{5}, ""},
		{"three points start at the baseline", []float64{5, 6, 7}, "iterations 1–3"},
		{"ten points", []float64{5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, "iterations 6–10"},
		{"gaps", []float64{5, nan, nan, 8, nan, 10, nan, nan, nan, 14}, "iterations 6–10"},
		{"fifty points", make([]float64, 50), "iterations 26–50"},
	}
	for _, tt := range tests {
		for _, full := range []bool{true, false} {
			t.Run(tt.name, func(t *testing.T) {
				m := harness.MetricResult{Name: "goroutines", Unit: harness.UnitCount, Supported: true, Baseline: 4, Series: tt.series}
				svg, err := chartSVG(m, full)
				require.NoError(t, err)
				require.NotContains(t, string(svg), "rgba(1,2,3,")
				require.NotContains(t, string(svg), "rgba(3,2,1,")
				if tt.want == "" {
					require.NotContains(t, string(svg), "tail-window")
					return
				}
				require.Equal(t, 1, strings.Count(string(svg), `<g class="tail-window">`))
				require.Contains(t, string(svg), "<title>tail window: "+tt.want+",")
			})
		}
	}
}
