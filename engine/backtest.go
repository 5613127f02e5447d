package engine

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/leakgate/leakgate/engine/backtest"
	"github.com/leakgate/leakgate/engine/backtest/montecarlo"
	"github.com/leakgate/leakgate/engine/bars"
	"github.com/leakgate/leakgate/engine/strategy"
	"github.com/leakgate/leakgate/providers"
)

// Strategy names the backtest commands accept.
const (
	StrategyEnsemble    = "ensemble"
	StrategyBuyAndHold  = "buy-and-hold"
	DefaultBacktestSpan = 3 * 365 * 24 * time.Hour
)

// StrategyNames lists the strategies a backtest can run: the ensemble of
// the default strategies with the learned weights, each strategy alone,
// the SMA cross, and buy-and-hold.
func StrategyNames() []string {
	out := []string{StrategyEnsemble}
	for _, s := range strategy.DefaultStrategies() {
		if s.Name() != "sentiment" { // no history: it abstains in backtests
			out = append(out, s.Name())
		}
	}
	return append(out, strategy.SMACross{}.Name(), StrategyBuyAndHold)
}

// buyAndHold is always long.
type buyAndHold struct{}

func (buyAndHold) Signals(dst []float64, bs []providers.Bar) error {
	for i := range bs {
		dst[i] = 1
	}
	return nil
}

// signaler returns the strategy called name.
func (e *Engine) signaler(ctx context.Context, name string) (backtest.Signaler, error) {
	switch name {
	case "", StrategyEnsemble:
		return e.ensemble(ctx)
	case StrategyBuyAndHold:
		return buyAndHold{}, nil
	case strategy.SMACross{}.Name():
		return strategy.SMACross{}, nil
	}
	for _, s := range strategy.DefaultStrategies() {
		if s.Name() == name {
			return s, nil
		}
	}
	return nil, Usagef("unknown strategy %q: use one of %s", name, strings.Join(StrategyNames(), ", "))
}

// BarSource says where a backtest's bars come from.
type BarSource struct {
	// Symbol is what the bars are of (with CSV, it sets the asset class).
	Symbol string
	// CSV, when set, is a file read with bars.LoadCSVContext instead of
	// asking the providers, at most MaxCSVBytes of it
	// [bars.DefaultMaxBytes]. A read that ctx cancels ends promptly, even
	// one blocked on a pipe or FIFO. The file is opened without blocking,
	// so a FIFO without a writer reads as empty.
	CSV         string
	MaxCSVBytes int64
	// From and To bound the history; zero To means the provider's latest
	// bar, zero From means DefaultBacktestSpan before To.
	From, To time.Time
}

// series loads and validates the bars of src.
func (e *Engine) series(ctx context.Context, src BarSource) (*backtest.Series, string, error) {
	sym, class, err := normalize(src.Symbol)
	if err != nil {
		return nil, "", err
	}
	if !src.From.IsZero() && !src.To.IsZero() && !src.From.Before(src.To) {
		return nil, "", Usagef("--from %s is not before --to %s", src.From.Format(time.DateOnly), src.To.Format(time.DateOnly))
	}
	var bs []providers.Bar
	origin := e.md.Name()
	if src.CSV != "" {
		origin = src.CSV
		bs, err = loadCSV(ctx, src.CSV, src.MaxCSVBytes)
		if err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return nil, "", err
			}
			if errors.Is(err, bars.ErrTooLarge) {
				err = fmt.Errorf("%w; raise the cap with --csv-max-bytes", err)
			}
			var pe *os.PathError
			if errors.As(err, &pe) && pe.Op == "open" {
				return nil, "", Usagef("--csv: %w", err)
			}
			return nil, "", &BadDataError{Symbol: sym, Source: src.CSV, Report: &bars.Report{}, Err: err}
		}
		bs = trim(bs, src.From, src.To)
	} else {
		bs, err = e.history(ctx, sym, class, src.From, src.To)
		if err != nil {
			return nil, "", err
		}
	}
	s, err := backtest.NewSeries(sym, class, bs)
	switch {
	case errors.Is(err, bars.ErrBadData):
		return nil, "", &BadDataError{Symbol: sym, Source: origin, Err: err}
	case errors.Is(err, backtest.ErrParam):
		return nil, "", Usagef("%s from %s: %w; widen --from/--to", sym, origin, err)
	case err != nil:
		return nil, "", err
	}
	return s, origin, nil
}

// loadCSV reads the bars of the CSV file at path, at most maxBytes of it.
// The file is opened without blocking (a FIFO without a writer does not
// hang the open), and canceling ctx ends a read blocked on a pipe at once
// through a read deadline.
func loadCSV(ctx context.Context, path string, maxBytes int64) ([]providers.Bar, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) }) // ErrNoDeadline: not pollable, reads do not block
	defer stop()
	return bars.LoadCSVContext(ctx, f, bars.Limits{MaxBytes: maxBytes})
}

// trim keeps the bars within [from, to]; zero bounds are open.
func trim(bs []providers.Bar, from, to time.Time) []providers.Bar {
	out := bs[:0:0]
	for _, b := range bs {
		if (from.IsZero() || !b.Time.Before(from)) && (to.IsZero() || !b.Time.After(to)) {
			out = append(out, b)
		}
	}
	return out
}

// history fetches daily bars of sym in [from, to]. A zero to is the
// provider's latest bar (asked for with the default range first, since
// recorded data ends in the past).
func (e *Engine) history(ctx context.Context, sym string, class providers.AssetClass, from, to time.Time) ([]providers.Bar, error) {
	if to.IsZero() {
		var err error
		if to, err = e.latest(ctx, sym, class); err != nil {
			return nil, err
		}
	}
	if from.IsZero() {
		from = to.Add(-DefaultBacktestSpan)
	}
	bs, err := e.md.Bars(ctx, providers.BarQuery{Symbol: sym, Interval: providers.Day, From: from, To: to})
	if err != nil {
		return nil, e.dataError(sym, class, err)
	}
	return append([]providers.Bar(nil), bs...), nil
}

// latest returns the time of the latest data of sym: its quote's time,
// or when the quote has none, the last of the provider's default bars.
func (e *Engine) latest(ctx context.Context, sym string, class providers.AssetClass) (time.Time, error) {
	q, err := e.quote(ctx, sym, class)
	if err != nil {
		return time.Time{}, err
	}
	if !q.Time.IsZero() {
		return q.Time, nil
	}
	bs, err := e.md.Bars(ctx, providers.BarQuery{Symbol: sym, Interval: providers.Day})
	if err != nil {
		return time.Time{}, e.dataError(sym, class, err)
	}
	if len(bs) == 0 {
		return time.Time{}, e.dataError(sym, class, providers.ErrNoData)
	}
	return bs[len(bs)-1].Time, nil
}

// BacktestRequest configures Backtest.
type BacktestRequest struct {
	BarSource
	// Strategy is one of StrategyNames [ensemble].
	Strategy string
	// Capital is the starting equity [platform.starting_cash].
	Capital float64
	// FeeBps and SlippageBps default to the fees section; pass a negative
	// value for zero.
	FeeBps, SlippageBps float64
	AllowShort          bool
	// Threshold is the signal magnitude that trades, in (0, 1] [0.2, as
	// analyze]: a signal trades when its magnitude reaches it (see
	// Thresholds in the package documentation).
	Threshold float64
}

// backtestThreshold converts a threshold under the engine's rule
// (|signal| ≥ t) into the one engine/backtest compares with, which trades
// only above it (signal > t): the largest float64 below t. No float64 lies
// between the two, so signal > backtestThreshold(t) exactly when
// signal ≥ t, for every signal.
func backtestThreshold(t float64) float64 { return math.Nextafter(t, math.Inf(-1)) }

// costs returns the backtest configuration of the given settings (zero
// ones take the configuration's or the defaults) and the costs to report.
// The threshold must be 0 (the default) or in (0, 1].
func (e *Engine) costs(capital, fee, slip, threshold float64, short bool) (backtest.Config, Costs, error) {
	if threshold == 0 {
		threshold = strategy.DefaultParams().Threshold
	}
	if !(threshold > 0 && threshold <= 1) {
		return backtest.Config{}, Costs{}, Usagef("threshold %v: use a signal magnitude in (0, 1], such as 0.2; "+
			"a signal trades when it reaches the threshold, as in analyze", threshold)
	}
	for _, v := range []struct {
		name string
		v    float64
	}{{"capital", capital}, {"fee", fee}, {"slippage", slip}} {
		if math.IsNaN(v.v) || math.IsInf(v.v, 0) {
			return backtest.Config{}, Costs{}, Usagef("%s %v: use a finite number", v.name, v.v)
		}
	}
	c := backtest.Config{Capital: capital, FeeBps: fee, SlippageBps: slip, AllowShort: short, Threshold: backtestThreshold(threshold)}
	if c.Capital == 0 {
		c.Capital = e.cfg.Platform.StartingCash
	}
	if !(c.Capital > 0) {
		return backtest.Config{}, Costs{}, Usagef("capital %v: use a positive starting equity", c.Capital)
	}
	switch {
	case c.FeeBps == 0:
		c.FeeBps = e.cfg.Fees.FeeBps
	case c.FeeBps < 0:
		c.FeeBps = 0
	}
	switch {
	case c.SlippageBps == 0:
		c.SlippageBps = e.cfg.Fees.SlippageBps
	case c.SlippageBps < 0:
		c.SlippageBps = 0
	}
	return c, Costs{Capital: c.Capital, FeeBps: c.FeeBps, SlippageBps: c.SlippageBps, AllowShort: c.AllowShort,
		Threshold: threshold}, nil
}

// Costs are the costs and rules a backtest ran with.
type Costs struct {
	// Capital is the starting equity; FeeBps and SlippageBps the costs per
	// fill in basis points; AllowShort lets signals open shorts.
	Capital     float64 `json:"capital"`
	FeeBps      float64 `json:"fee_bps"`
	SlippageBps float64 `json:"slippage_bps"`
	AllowShort  bool    `json:"allow_short"`
	// Threshold is the signal magnitude that changes position: a signal
	// trades when its magnitude reaches it.
	Threshold float64 `json:"threshold"`
}

// BacktestResult is the result of Backtest.
type BacktestResult struct {
	// Symbol and Strategy say what was run.
	Symbol   string `json:"symbol"`
	Strategy string `json:"strategy"`
	// Source is the provider or file the bars came from.
	Source string `json:"source"`
	Config Costs  `json:"config"`
	backtest.Result
	// Warnings are data quirks validation found (not errors).
	Warnings []string `json:"warnings,omitempty"`
}

func warnings(rep *bars.Report) []string {
	var out []string
	if rep == nil {
		return nil
	}
	for _, is := range rep.Issues {
		if is.Severity == bars.Warning && len(out) < 5 {
			out = append(out, is.String())
		}
	}
	if rep.Warnings > len(out) {
		out = append(out, fmt.Sprintf("… %d data warnings in all", rep.Warnings))
	}
	return out
}

func wrapParam(err error) error {
	if errors.Is(err, backtest.ErrParam) || errors.Is(err, montecarlo.ErrParam) || errors.Is(err, strategy.ErrParam) {
		return &UsageError{Err: err}
	}
	return err
}

// Backtest runs a strategy over historical bars with fees and slippage.
func (e *Engine) Backtest(ctx context.Context, r BacktestRequest) (*BacktestResult, error) {
	sig, err := e.signaler(ctx, r.Strategy)
	if err != nil {
		return nil, err
	}
	cfg, costs, err := e.costs(r.Capital, r.FeeBps, r.SlippageBps, r.Threshold, r.AllowShort)
	if err != nil {
		return nil, err
	}
	s, origin, err := e.series(ctx, r.BarSource)
	if err != nil {
		return nil, err
	}
	res, err := backtest.RunStrategy(s, sig, cfg)
	if err != nil {
		return nil, wrapParam(err)
	}
	name := r.Strategy
	if name == "" {
		name = StrategyEnsemble
	}
	return &BacktestResult{Symbol: s.Symbol, Strategy: name, Source: origin, Config: costs, Result: res, Warnings: warnings(s.Report)}, nil
}

// PortfolioRequest configures PortfolioBacktest.
type PortfolioRequest struct {
	// Symbols are the assets.
	Symbols []string
	// Weights are the target fractions, one per symbol; empty means equal
	// weights.
	Weights []float64
	// Rebalance is the number of bars between rebalances [21]; negative
	// means never.
	Rebalance int
	// Strategy, when set, drives each asset's position; empty holds every
	// asset long.
	Strategy    string
	From, To    time.Time
	Capital     float64
	FeeBps      float64
	SlippageBps float64
}

// PortfolioResult is the result of PortfolioBacktest.
type PortfolioResult struct {
	// Symbols and Targets are the assets and their target weights;
	// Config the costs; Warnings data quirks of any asset.
	Symbols []string  `json:"symbols"`
	Targets []float64 `json:"target_weights"`
	Config  Costs     `json:"config"`
	backtest.PortfolioResult
	Warnings []string `json:"warnings,omitempty"`
}

// PortfolioBacktest backtests several symbols held at target weights and
// rebalanced periodically.
func (e *Engine) PortfolioBacktest(ctx context.Context, r PortfolioRequest) (*PortfolioResult, error) {
	if len(r.Symbols) < 1 {
		return nil, Usagef("no symbols: pass --symbols AAPL,SPY")
	}
	w := r.Weights
	if len(w) == 0 {
		for range r.Symbols {
			w = append(w, 1/float64(len(r.Symbols)))
		}
	}
	if len(w) != len(r.Symbols) {
		return nil, Usagef("%d weights for %d symbols: pass one weight per symbol", len(w), len(r.Symbols))
	}
	var sum float64
	for _, x := range w {
		if !(x >= 0) || math.IsInf(x, 0) {
			return nil, Usagef("weight %v: use fractions ≥ 0 such as 0.6,0.4", x)
		}
		sum += x
	}
	if sum > 1+1e-9 {
		return nil, Usagef("weights sum to %.4g: they must sum to at most 1 (the rest is cash)", sum)
	}
	var sig backtest.Signaler
	if r.Strategy != "" {
		var err error
		if sig, err = e.signaler(ctx, r.Strategy); err != nil {
			return nil, err
		}
	}
	out := &PortfolioResult{Targets: w}
	if r.To.IsZero() {
		// One window for all: it ends at the earliest of the latest bars.
		for _, raw := range r.Symbols {
			sym, class, err := normalize(raw)
			if err != nil {
				return nil, err
			}
			t, err := e.latest(ctx, sym, class)
			if err != nil {
				return nil, err
			}
			if r.To.IsZero() || t.Before(r.To) {
				r.To = t
			}
		}
	}
	assets := make([]backtest.Asset, len(r.Symbols))
	for i, sym := range r.Symbols {
		s, _, err := e.series(ctx, BarSource{Symbol: sym, From: r.From, To: r.To})
		if err != nil {
			return nil, err
		}
		out.Symbols = append(out.Symbols, s.Symbol)
		out.Warnings = append(out.Warnings, warnings(s.Report)...)
		assets[i] = backtest.Asset{Series: s, Weight: w[i]}
		if sig != nil {
			assets[i].Signals = make([]float64, s.Len())
			if err := sig.Signals(assets[i].Signals, s.Bars); err != nil {
				return nil, wrapParam(err)
			}
		}
	}
	cfg, costs, err := e.costs(r.Capital, r.FeeBps, r.SlippageBps, 0, false)
	if err != nil {
		return nil, err
	}
	out.Config = costs
	res, err := backtest.Portfolio(assets, backtest.PortfolioConfig{Config: cfg, Rebalance: r.Rebalance})
	if err != nil {
		return nil, wrapParam(err)
	}
	out.PortfolioResult = res
	return out, nil
}

// WalkForwardRequest configures WalkForward.
type WalkForwardRequest struct {
	BarSource
	// Train and Test are window lengths in bars [252, 63].
	Train, Test int
	// Fast and Slow are the SMA periods of the grid [5,10,20 and 50,100].
	Fast, Slow []int
	Objective  string
	Anchored   bool
	Capital    float64
	FeeBps     float64
	// SlippageBps: see BacktestRequest.
	SlippageBps float64
}

// WalkForwardResult is the result of WalkForward.
type WalkForwardResult struct {
	// Symbol, Source and Objective say what was optimised, Grid over which
	// SMA crosses, Config with what costs; Result holds the windows and the
	// out-of-sample curve; Warnings data quirks.
	Symbol    string                     `json:"symbol"`
	Source    string                     `json:"source"`
	Objective string                     `json:"objective"`
	Grid      []backtest.SMAParams       `json:"grid"`
	Config    Costs                      `json:"config"`
	Result    backtest.WalkForwardResult `json:"result"`
	Warnings  []string                   `json:"warnings,omitempty"`
}

// WalkForward optimises an SMA cross on rolling training windows and
// scores each choice on the following test window.
func (e *Engine) WalkForward(ctx context.Context, r WalkForwardRequest) (*WalkForwardResult, error) {
	if r.Train == 0 {
		r.Train = 252
	}
	if r.Test == 0 {
		r.Test = 63
	}
	if len(r.Fast) == 0 {
		r.Fast = []int{5, 10, 20}
	}
	if len(r.Slow) == 0 {
		r.Slow = []int{50, 100}
	}
	obj, err := backtest.ParseObjective(r.Objective)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	grid := backtest.SMAGrid(r.Fast, r.Slow)
	if len(grid) == 0 {
		return nil, Usagef("the grid is empty: every --fast period must be below some --slow period")
	}
	s, origin, err := e.series(ctx, r.BarSource)
	if err != nil {
		return nil, err
	}
	cfg, costs, err := e.costs(r.Capital, r.FeeBps, r.SlippageBps, 0, false)
	if err != nil {
		return nil, err
	}
	res, err := backtest.WalkForward(ctx, s, backtest.WalkForwardConfig{Config: cfg, Train: r.Train, Test: r.Test,
		Anchored: r.Anchored, Grid: grid, Objective: obj})
	if err != nil {
		return nil, wrapParam(err)
	}
	return &WalkForwardResult{Symbol: s.Symbol, Source: origin, Objective: string(obj), Grid: grid, Config: costs,
		Result: res, Warnings: warnings(s.Report)}, nil
}

// MonteCarloRequest configures MonteCarlo.
type MonteCarloRequest struct {
	BarSource
	// Strategy's backtest supplies the returns to resample [ensemble];
	// buy-and-hold resamples the price returns.
	Strategy string
	Sims     int
	Days     int
	// Seed makes the run reproducible; 0 picks a random seed, reported in
	// the result.
	Seed  uint64
	Block int
	// Capital is the starting equity [platform.starting_cash].
	Capital float64
	Ruin    float64
}

// MonteCarloResult is the result of MonteCarlo.
type MonteCarloResult struct {
	// Symbol, Strategy and Source say whose returns were resampled; Seed
	// reproduces the run; Returns counts the returns resampled; Initial is
	// the starting equity; Result holds the statistics.
	Symbol   string            `json:"symbol"`
	Strategy string            `json:"strategy"`
	Source   string            `json:"source"`
	Seed     uint64            `json:"seed"`
	Returns  int               `json:"returns"`
	Initial  float64           `json:"initial"`
	Result   montecarlo.Result `json:"result"`
}

// MonteCarlo bootstraps the per-bar returns of a strategy's backtest into
// simulated paths, on every core, and reports percentiles of final equity,
// VaR, CVaR and the probability of ruin.
func (e *Engine) MonteCarlo(ctx context.Context, r MonteCarloRequest) (*MonteCarloResult, error) {
	if math.IsNaN(r.Ruin) || math.IsInf(r.Ruin, 0) {
		return nil, Usagef("ruin %v: use a finite fraction of the initial equity, such as 0.5", r.Ruin)
	}
	bt, err := e.Backtest(ctx, BacktestRequest{BarSource: r.BarSource, Strategy: r.Strategy, Capital: r.Capital})
	if err != nil {
		return nil, err
	}
	rets, err := montecarlo.Returns(bt.Equity)
	if err != nil {
		return nil, wrapParam(err)
	}
	seed := r.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
	initial := bt.Config.Capital
	res, err := montecarlo.Run(ctx, rets, montecarlo.Config{Sims: r.Sims, Days: r.Days, Seed: seed, Block: r.Block,
		Initial: initial, Ruin: r.Ruin})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, wrapParam(err)
	}
	return &MonteCarloResult{Symbol: bt.Symbol, Strategy: bt.Strategy, Source: bt.Source, Seed: seed, Returns: len(rets),
		Initial: initial, Result: res}, nil
}
