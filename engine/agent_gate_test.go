package engine

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAgentGateRefusesNaN: the risk gate itself, not only the flags,
// keeps NaN from trading.
func TestAgentGateRefusesNaN(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name                  string
		confidence, threshold float64
		want                  bool
	}{
		{name: "above", confidence: 0.7, threshold: 0.6, want: true},
		{name: "at", confidence: 0.6, threshold: 0.6, want: true},
		{name: "below", confidence: 0.5, threshold: 0.6, want: false},
		{name: "zero threshold", confidence: 0.01, threshold: 0, want: true},
		{name: "NaN confidence", confidence: nan, threshold: 0.6, want: false},
		{name: "NaN confidence, zero threshold", confidence: nan, threshold: 0, want: false},
		{name: "NaN threshold", confidence: 0.9, threshold: nan, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, meetsThreshold(tt.confidence, tt.threshold))
		})
	}

	e := newEngine(t, testConfig(t))
	for _, th := range []float64{nan, math.Inf(1), math.Inf(-1), 1.5, -0.5} {
		_, err := e.RunAgent(t.Context(), AgentOptions{Threshold: th, MaxCycles: 1, Watchlist: []string{"AAPL"}})
		var ue *UsageError
		require.ErrorAs(t, err, &ue, "threshold %v", th)
	}
	for _, c := range []float64{nan, math.Inf(1)} {
		_, err := e.Backtest(t.Context(), BacktestRequest{BarSource: BarSource{Symbol: "AAPL"}, Capital: c})
		var ue *UsageError
		require.ErrorAs(t, err, &ue, "capital %v", c)
	}
}
