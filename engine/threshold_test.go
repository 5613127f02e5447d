package engine

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/backtest"
	"github.com/leakgate/leakgate/engine/strategy"
	"github.com/leakgate/leakgate/providers"
)

// TestBacktestTradesAtTheThreshold checks the engine's one threshold
// rule: a signal whose magnitude equals the threshold trades in a
// backtest, as the same score makes analyze act (strategy.Decide), and a
// signal just below it holds.
func TestBacktestTradesAtTheThreshold(t *testing.T) {
	e := newEngine(t, testConfig(t))
	th := strategy.DefaultParams().Threshold
	below := math.Nextafter(th, 0)
	bs := make([]providers.Bar, 6)
	for i := range bs {
		bs[i] = providers.Bar{Time: time.Date(2020, 1, 6+i, 0, 0, 0, 0, time.UTC), Open: 100, High: 101, Low: 99, Close: 100}
	}
	s, err := backtest.NewSeries("AAPL", providers.Equity, bs)
	require.NoError(t, err)
	nan := math.NaN()

	tests := []struct {
		name       string
		give       float64
		allowShort bool
		wantTrades int
	}{
		{name: "long at the threshold", give: th, wantTrades: 1},
		{name: "short at minus the threshold", give: -th, allowShort: true, wantTrades: 1},
		{name: "long above", give: 0.9, wantTrades: 1},
		{name: "hold just below", give: below},
		{name: "hold just above minus", give: -below, allowShort: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, costs, err := e.costs(0, 0, 0, 0, tt.allowShort)
			require.NoError(t, err)
			require.Equal(t, th, costs.Threshold, "the threshold reported is the rule's")
			res, err := backtest.Run(s, []float64{nan, tt.give, tt.give, tt.give, tt.give, tt.give}, cfg)
			require.NoError(t, err)
			require.Equal(t, tt.wantTrades, res.Trades)
		})
	}
}

func TestBacktestThresholdRange(t *testing.T) {
	e := newEngine(t, testConfig(t))
	tests := []struct {
		give    float64
		wantErr bool
	}{
		{give: 0}, // the default
		{give: 0.5},
		{give: 1}, // only a full signal trades
		{give: 1.5, wantErr: true},
		{give: -0.2, wantErr: true},
		{give: math.NaN(), wantErr: true},
	}
	for _, tt := range tests {
		_, _, err := e.costs(0, 0, 0, tt.give, false)
		var ue *UsageError
		require.Equal(t, tt.wantErr, err != nil, "threshold %v: %v", tt.give, err)
		require.Equal(t, tt.wantErr, errors.As(err, &ue), "threshold %v: a usage error", tt.give)
	}
	_, err := e.Backtest(t.Context(), BacktestRequest{BarSource: BarSource{Symbol: "AAPL"}, Threshold: 1.5})
	require.ErrorContains(t, err, "(0, 1]")
}
