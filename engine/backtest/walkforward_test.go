package backtest

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/strategy"
	"github.com/leakgate/leakgate/providers"
)

var testGrid = SMAGrid([]int{5, 10, 20}, []int{30, 60, 120})

func TestWalkForwardWindows(t *testing.T) {
	s := walk(t, 1000, 21)
	tests := []struct {
		name      string
		cfg       WalkForwardConfig
		wantTrain [][2]int
		wantTest  [][2]int
	}{
		{
			name:      "rolling",
			cfg:       WalkForwardConfig{Train: 300, Test: 200, Grid: testGrid},
			wantTrain: [][2]int{{0, 300}, {200, 500}, {400, 700}, {600, 900}},
			wantTest:  [][2]int{{300, 500}, {500, 700}, {700, 900}, {900, 1000}},
		},
		{
			name:      "anchored",
			cfg:       WalkForwardConfig{Train: 400, Test: 300, Grid: testGrid, Anchored: true},
			wantTrain: [][2]int{{0, 400}, {0, 700}},
			wantTest:  [][2]int{{400, 700}, {700, 1000}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := WalkForward(t.Context(), s, tt.cfg)
			require.NoError(t, err)
			require.Len(t, res.Windows, len(tt.wantTest))
			for i, w := range res.Windows {
				require.Equal(t, tt.wantTrain[i], [2]int{w.TrainFrom, w.TrainTo})
				require.Equal(t, tt.wantTest[i], [2]int{w.TestFrom, w.TestTo})
				require.Equal(t, s.Bars[w.TestFrom].Time, w.TestStart)
			}
			oos := 1000 - tt.wantTest[0][0]
			require.Len(t, res.Equity, oos+1)
			require.Len(t, res.Times, oos+1)
			require.Equal(t, DefaultCapital, res.Equity[0])
			require.Equal(t, s.Bars[tt.wantTest[0][0]-1].Time, res.Times[0])
			require.Equal(t, s.Bars[999].Time, res.Times[oos])
			require.InDelta(t, res.Equity[oos]/DefaultCapital-1, res.Metrics.TotalReturn, 1e-12)
		})
	}
}

// The chosen parameters maximise the in-sample objective, checked through
// the public API: strategy.SMACross signals, muted before the training
// window, run by Run and measured by EquityMetrics.
func TestWalkForwardPicksTheBestInSample(t *testing.T) {
	s := walk(t, 900, 22)
	cfg := WalkForwardConfig{Config: Config{FeeBps: 5}, Train: 400, Test: 250, Grid: testGrid}
	res, err := WalkForward(t.Context(), s, cfg)
	require.NoError(t, err)
	for _, w := range res.Windows {
		best := math.Inf(-1)
		var bestP SMAParams
		for _, p := range testGrid {
			sig := make([]float64, s.Len())
			require.NoError(t, strategy.SMACross{Fast: p.Fast, Slow: p.Slow}.Signals(sig, s.Bars))
			for i := range w.TrainFrom {
				sig[i] = math.NaN()
			}
			full, err := Run(s, sig, cfg.Config)
			require.NoError(t, err)
			m, err := EquityMetrics(full.Equity[w.TrainFrom:w.TrainTo], 365, 0)
			require.NoError(t, err)
			if m.Sharpe > best+1e-9 {
				best, bestP = m.Sharpe, p
			}
		}
		require.Equal(t, bestP, w.Best)
		require.InDelta(t, best, w.InSample.Sharpe, 1e-9)
	}
}

// Results do not depend on the number of workers.
func TestWalkForwardWorkersAgree(t *testing.T) {
	s := walk(t, 1200, 23)
	cfg := WalkForwardConfig{Config: Config{FeeBps: 5, AllowShort: true}, Train: 300, Test: 100,
		Grid: SMAGrid([]int{3, 5, 8, 13, 21}, []int{34, 55, 89, 144}), Objective: ObjectiveSortino}
	cfg.Workers = 1
	one, err := WalkForward(t.Context(), s, cfg)
	require.NoError(t, err)
	cfg.Workers = 7
	many, err := WalkForward(t.Context(), s, cfg)
	require.NoError(t, err)
	require.Equal(t, one, many)
}

func TestWalkForwardSPY(t *testing.T) {
	s := loadSeries(t, "SPY_daily_2007-12-31_2017-12-29_yahoo.csv", "SPY", providers.Equity)
	res, err := WalkForward(t.Context(), s, benchWalkForwardConfig())
	require.NoError(t, err)
	require.Len(t, res.Windows, (s.Len()-504+125)/126)
	require.Greater(t, res.Metrics.Trades, 0)
	for _, m := range []float64{res.Metrics.Sharpe, res.Metrics.CAGR, res.Metrics.MaxDrawdown} {
		require.False(t, math.IsNaN(m) || math.IsInf(m, 0))
	}
	require.Greater(t, res.Metrics.FinalEquity, 0.0)
}

func TestWalkForwardErrors(t *testing.T) {
	s := walk(t, 300, 24)
	tests := []struct {
		name    string
		cfg     WalkForwardConfig
		wantMsg string
	}{
		{name: "windows exceed history", cfg: WalkForwardConfig{Train: 500, Test: 100, Grid: testGrid},
			wantMsg: "walk-forward: train window 500 + test window 100 exceeds 300 bars; use fewer bars per window or more history"},
		{name: "no test window", cfg: WalkForwardConfig{Train: 100, Grid: testGrid}, wantMsg: "test window 0"},
		{name: "empty grid", cfg: WalkForwardConfig{Train: 100, Test: 50}, wantMsg: "empty parameter grid"},
		{name: "bad grid point", cfg: WalkForwardConfig{Train: 100, Test: 50, Grid: []SMAParams{{Fast: 50, Slow: 20}}}, wantMsg: "SMA cross 50/20"},
		{name: "slow longer than history", cfg: WalkForwardConfig{Train: 100, Test: 50, Grid: []SMAParams{{Fast: 5, Slow: 400}}}, wantMsg: "needs 400 bars"},
		{name: "unknown objective", cfg: WalkForwardConfig{Train: 100, Test: 50, Grid: testGrid, Objective: "alpha"}, wantMsg: `unknown objective "alpha"`},
		{name: "negative fee", cfg: WalkForwardConfig{Train: 100, Test: 50, Grid: testGrid, Config: Config{FeeBps: -2}}, wantMsg: "fee -2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := WalkForward(t.Context(), s, tt.cfg)
			require.ErrorIs(t, err, ErrParam)
			require.ErrorContains(t, err, tt.wantMsg)
		})
	}
}

func TestWalkForwardCancelled(t *testing.T) {
	s := walk(t, 600, 25)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := WalkForward(ctx, s, WalkForwardConfig{Train: 200, Test: 100, Grid: testGrid, Workers: 4})
	require.ErrorIs(t, err, context.Canceled)
}

func TestParseObjective(t *testing.T) {
	for _, o := range Objectives {
		got, err := ParseObjective(" " + string(o) + " ")
		require.NoError(t, err)
		require.Equal(t, o, got)
	}
	got, err := ParseObjective("")
	require.NoError(t, err)
	require.Equal(t, ObjectiveSharpe, got)
	m := Metrics{Sharpe: 1, Sortino: 2, TotalReturn: 3, CAGR: 0.5, MaxDrawdown: 0.25}
	require.Equal(t, []float64{1, 2, 3, 0.5, 2}, []float64{ObjectiveSharpe.Score(m), ObjectiveSortino.Score(m),
		ObjectiveReturn.Score(m), ObjectiveCAGR.Score(m), ObjectiveCalmar.Score(m)})
}
