package backtest

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/leakgate/leakgate/engine/backtest/internal/pool"
)

// Objective is the metric walk-forward optimisation maximises.
type Objective string

// Objectives.
const (
	ObjectiveSharpe  Objective = "sharpe"
	ObjectiveSortino Objective = "sortino"
	ObjectiveReturn  Objective = "return"
	ObjectiveCAGR    Objective = "cagr"
	// ObjectiveCalmar is CAGR over maximum drawdown (CAGR when there is no
	// drawdown).
	ObjectiveCalmar Objective = "calmar"
)

// Objectives lists the valid objectives.
var Objectives = []Objective{ObjectiveSharpe, ObjectiveSortino, ObjectiveReturn, ObjectiveCAGR, ObjectiveCalmar}

// ParseObjective parses an objective name; empty means ObjectiveSharpe.
func ParseObjective(s string) (Objective, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ObjectiveSharpe, nil
	}
	for _, o := range Objectives {
		if string(o) == s {
			return o, nil
		}
	}
	return "", fmt.Errorf("backtest: unknown objective %q: use one of %v: %w", s, Objectives, ErrParam)
}

// Score returns the value of the objective for m.
func (o Objective) Score(m Metrics) float64 {
	switch o {
	case ObjectiveSortino:
		return m.Sortino
	case ObjectiveReturn:
		return m.TotalReturn
	case ObjectiveCAGR:
		return m.CAGR
	case ObjectiveCalmar:
		if m.MaxDrawdown == 0 {
			return m.CAGR
		}
		return m.CAGR / m.MaxDrawdown
	}
	return m.Sharpe
}

// SMAGrid returns every SMA cross (f, s) with f from fasts, s from slows
// and f < s, fast-major.
func SMAGrid(fasts, slows []int) []SMAParams {
	var g []SMAParams
	for _, f := range fasts {
		for _, s := range slows {
			if f < s {
				g = append(g, SMAParams{Fast: f, Slow: s})
			}
		}
	}
	return g
}

// WalkForwardConfig configures WalkForward.
type WalkForwardConfig struct {
	// Config holds costs and rules for every run. Capital is the starting
	// equity of the out-of-sample curve.
	Config
	// Train and Test are window lengths in bars. Windows roll forward by
	// Test bars, so test windows tile the history after the first Train
	// bars (the last one may be shorter).
	Train, Test int
	// Anchored keeps every training window starting at bar 0 (an expanding
	// window) instead of rolling it.
	Anchored bool
	// Grid lists the SMA crosses to choose from in each training window.
	Grid []SMAParams
	// Objective is the in-sample metric to maximise [ObjectiveSharpe].
	// Ties go to the earlier grid point.
	Objective Objective
	// Workers bounds the goroutines evaluating the grid [GOMAXPROCS].
	Workers int
}

// Window is one train/test split and its outcome. Ranges are bar indexes,
// from inclusive, to exclusive.
type Window struct {
	// TrainFrom and TrainTo bound the training bars.
	TrainFrom int `json:"train_from"`
	// TrainTo: see TrainFrom.
	TrainTo int `json:"train_to"`
	// TestFrom and TestTo bound the test bars.
	TestFrom int `json:"test_from"`
	// TestTo: see TestFrom.
	TestTo int `json:"test_to"`
	// TrainStart is the time of the first training bar.
	TrainStart time.Time `json:"train_start"`
	// TestStart is the time of the first test bar.
	TestStart time.Time `json:"test_start"`
	// TestEnd is the time of the last test bar.
	TestEnd time.Time `json:"test_end"`
	// Best is the grid point that maximised the objective in training.
	Best SMAParams `json:"best"`
	// InSample are Best's metrics on the training window.
	InSample Metrics `json:"in_sample"`
	// OutOfSample are Best's metrics on the test window.
	OutOfSample Metrics `json:"out_of_sample"`
}

// WalkForwardResult is the outcome of WalkForward.
type WalkForwardResult struct {
	// Windows are the train/test splits in time order.
	Windows []Window `json:"windows"`
	// Equity is the out-of-sample equity: Capital at the close of the bar
	// before the first test window, then one point per test bar, each
	// window continuing from the previous one's final equity.
	Equity []float64 `json:"equity"`
	// Times holds the bar times of Equity.
	Times []time.Time `json:"times"`
	// Metrics are those of Equity, with trades and fees summed over the
	// test windows.
	Metrics Metrics `json:"metrics"`
}

// WalkForward optimises an SMA cross on rolling training windows and
// scores each window's best parameters on the test window that follows.
//
// Indicators are computed on the whole history, so a window's first
// signals use the bars before it (the past, never the future). In each
// test window the position starts flat and the signal of the bar before
// the window may trade at the window's first open; an open position at the
// window's end is marked to market, and the next window starts flat again
// (re-entering costs a fee). Grid points are evaluated by a bounded pool of
// Workers goroutines, all joined before WalkForward returns; cancelling
// ctx stops it early with ctx's error.
func WalkForward(ctx context.Context, s *Series, cfg WalkForwardConfig) (WalkForwardResult, error) {
	if s == nil {
		return WalkForwardResult{}, fmt.Errorf("walk-forward: nil series: %w", ErrParam)
	}
	n := s.Len()
	if cfg.Train < 2 || cfg.Test < 1 {
		return WalkForwardResult{}, fmt.Errorf("walk-forward: train window %d and test window %d must be at least 2 and 1 bars: %w",
			cfg.Train, cfg.Test, ErrParam)
	}
	if cfg.Train+cfg.Test > n {
		return WalkForwardResult{}, fmt.Errorf("walk-forward: train window %d + test window %d exceeds %d bars; use fewer bars per window or more history: %w",
			cfg.Train, cfg.Test, n, ErrParam)
	}
	if len(cfg.Grid) == 0 {
		return WalkForwardResult{}, fmt.Errorf("walk-forward: empty parameter grid; pass SMA crosses, e.g. SMAGrid(fasts, slows): %w", ErrParam)
	}
	for _, p := range cfg.Grid {
		if err := p.check(n); err != nil {
			return WalkForwardResult{}, fmt.Errorf("walk-forward: %w", err)
		}
	}
	obj, err := ParseObjective(string(cfg.Objective))
	if err != nil {
		return WalkForwardResult{}, err
	}
	base, c, err := cfg.Config.resolve(BarsPerYear(s.Class))
	if err != nil {
		return WalkForwardResult{}, err
	}

	var windows []Window
	for from := cfg.Train; from < n; from += cfg.Test {
		w := Window{TrainFrom: from - cfg.Train, TrainTo: from, TestFrom: from, TestTo: min(from+cfg.Test, n)}
		if cfg.Anchored {
			w.TrainFrom = 0
		}
		w.TrainStart, w.TestStart, w.TestEnd = s.Bars[w.TrainFrom].Time, s.Bars[w.TestFrom].Time, s.Bars[w.TestTo-1].Time
		windows = append(windows, w)
	}

	// In-sample metrics of every (window, grid point). Each job computes
	// its signals over its window only, from the series' prefix sums, into
	// its worker's scratch.
	g := len(cfg.Grid)
	inSample := make([]Metrics, len(windows)*g)
	workers := pool.Workers(cfg.Workers, len(inSample))
	scratch := make([]float64, 2*n*workers)
	err = pool.Run(ctx, workers, len(inSample), func(worker, j int) {
		w, k := windows[j/g], j%g
		sig := scratch[2*n*worker : 2*n*worker+n]
		eq := scratch[2*n*worker+n : 2*n*(worker+1)][:w.TrainTo-w.TrainFrom]
		smaSignalsRange(sig, s.cum, cfg.Grid[k], w.TrainFrom, w.TrainTo)
		inSample[j] = simulate(s, sig, base, c, w.TrainFrom, w.TrainTo, eq, nil).metrics(eq, base)
	})
	if err != nil {
		return WalkForwardResult{}, fmt.Errorf("walk-forward: %w", err)
	}

	// Out of sample, in order: each window continues the previous equity.
	res := WalkForwardResult{Windows: windows}
	res.Equity = append(make([]float64, 0, n-cfg.Train+1), base.Capital)
	res.Times = append(make([]time.Time, 0, n-cfg.Train+1), s.Bars[cfg.Train-1].Time)
	var total runStats
	sig, eq := scratch[:n], scratch[n:2*n]
	for wi := range windows {
		w := &res.Windows[wi]
		best, bestScore := 0, math.Inf(-1)
		for k := range g {
			if sc := obj.Score(inSample[wi*g+k]); sc > bestScore {
				best, bestScore = k, sc
			}
		}
		w.Best, w.InSample = cfg.Grid[best], inSample[wi*g+best]
		run := base
		run.Capital = res.Equity[len(res.Equity)-1]
		seg := eq[:w.TestTo-w.TestFrom+1]
		if run.Capital > 0 {
			smaSignalsRange(sig, s.cum, w.Best, w.TestFrom-1, w.TestTo)
			st := simulate(s, sig, run, c, w.TestFrom-1, w.TestTo, seg, nil)
			w.OutOfSample = st.metrics(seg, run)
			total.trades += st.trades
			total.wins += st.wins
			total.held += st.held
			total.fees += st.fees
		} else {
			clear(seg) // wiped out in an earlier window
		}
		res.Equity = append(res.Equity, seg[1:]...)
		for i := w.TestFrom; i < w.TestTo; i++ {
			res.Times = append(res.Times, s.Bars[i].Time)
		}
	}
	res.Metrics = total.metrics(res.Equity, base)
	return res, nil
}
