package report

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// The verdict names the statistic that failed, tail_slope included, in
// the metric's unit.
func TestVerdictTextNamesTheStatistic(t *testing.T) {
	tests := []struct {
		expr   string
		unit   string
		actual float64
		want   string
	}{
		{"tail_slope<8KiB", harness.UnitBytes, 18841.6, "✗ tail_slope +18.4KiB/it"},
		{"tail<=0", harness.UnitCount, 3, "✗ tail +3"},
		{"released<=0", harness.UnitCount, 20, "✗ released 20"},
		{"delta<=0", harness.UnitCount, 5, "✗ delta +5"},
		{"slope<8KiB", harness.UnitBytes, 10240, "✗ slope +10.0KiB/it"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			m := harness.MetricResult{Name: "m", Unit: tt.unit, Supported: true, Verdict: harness.VerdictFail,
				Thresholds: []harness.ThresholdResult{{Expr: tt.expr, Actual: tt.actual}}}
			require.Equal(t, tt.want, verdictText(m))
		})
	}
}
