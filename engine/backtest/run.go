package backtest

import (
	"fmt"
	"math"
	"time"

	"github.com/leakgate/leakgate/providers"
)

// Direction is the side of a trade.
type Direction string

// Trade directions.
const (
	Long  Direction = "long"
	Short Direction = "short"
)

// Trade is one position from entry to exit.
type Trade struct {
	// Direction is long or short.
	Direction Direction `json:"direction"`
	// EntryIndex and ExitIndex are bar indexes in the series; both fills
	// are at those bars' opens (an open trade's exit is the last bar).
	EntryIndex int `json:"entry_index"`
	// ExitIndex: see EntryIndex.
	ExitIndex int `json:"exit_index"`
	// EntryTime and ExitTime are the times of those bars.
	EntryTime time.Time `json:"entry_time"`
	// ExitTime: see EntryTime.
	ExitTime time.Time `json:"exit_time"`
	// EntryPrice and ExitPrice are fill prices, slippage included.
	EntryPrice float64 `json:"entry_price"`
	// ExitPrice: see EntryPrice.
	ExitPrice float64 `json:"exit_price"`
	// Units is the position size, always positive.
	Units float64 `json:"units"`
	// PnL is the profit after fees and slippage; Return is PnL over the
	// equity at entry.
	PnL float64 `json:"pnl"`
	// Return: see PnL.
	Return float64 `json:"return"`
	// Open is set for a position still open at the end, marked to market
	// at the last close without exit costs.
	Open bool `json:"open,omitempty"`
}

// Result is a single-symbol backtest.
type Result struct {
	Metrics
	// Equity holds the equity at each bar's close; Equity[0] is the
	// starting capital.
	Equity []float64 `json:"equity"`
	// Times holds the bar times of Equity.
	Times []time.Time `json:"times"`
	// TradeLog lists every trade in entry order (Metrics.Trades counts
	// them).
	TradeLog []Trade `json:"trade_log"`
}

// Signaler produces a signal per bar in [-1, 1] (NaN: no signal), where
// dst[i] depends only on bars 0..i. strategy.Strategy and
// strategy.Ensemble implement it.
type Signaler interface {
	Signals(dst []float64, bs []providers.Bar) error
}

// Backtester runs backtests with reusable buffers: after the first run on
// a series of a given length, SMACross allocates nothing. The zero value
// is ready to use. A Backtester must not be used concurrently.
type Backtester struct {
	signal []float64
	equity []float64
	trades []Trade
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// Equity returns the equity curve of the last run. It aliases the
// Backtester's buffer: copy it before the next run if you keep it.
func (b *Backtester) Equity() []float64 { return b.equity }

// Run backtests signals (one per bar of s) under cfg. The result's slices
// are freshly allocated and safe to keep.
func (b *Backtester) Run(s *Series, signals []float64, cfg Config) (Result, error) {
	if s == nil {
		return Result{}, fmt.Errorf("backtest: nil series: %w", ErrParam)
	}
	if len(signals) != s.Len() {
		return Result{}, fmt.Errorf("backtest %s: %d signals for %d bars; pass one signal per bar: %w",
			s.Symbol, len(signals), s.Len(), ErrParam)
	}
	cfg, c, err := cfg.resolve(BarsPerYear(s.Class))
	if err != nil {
		return Result{}, err
	}
	n := s.Len()
	b.equity = grow(b.equity, n)
	b.trades = b.trades[:0]
	st := simulate(s, signals, cfg, c, 0, n, b.equity, &b.trades)
	res := Result{
		Metrics:  st.metrics(b.equity, cfg),
		Equity:   append([]float64(nil), b.equity...),
		Times:    make([]time.Time, n),
		TradeLog: append(make([]Trade, 0, len(b.trades)), b.trades...),
	}
	for i, bar := range s.Bars {
		res.Times[i] = bar.Time
	}
	return res, nil
}

// Run backtests signals (one per bar of s) under cfg; see Backtester.Run.
func Run(s *Series, signals []float64, cfg Config) (Result, error) {
	var b Backtester
	return b.Run(s, signals, cfg)
}

// RunStrategy computes the signals of st over s and backtests them.
func RunStrategy(s *Series, st Signaler, cfg Config) (Result, error) {
	if s == nil || st == nil {
		return Result{}, fmt.Errorf("backtest: nil series or strategy: %w", ErrParam)
	}
	sig := make([]float64, s.Len())
	if err := st.Signals(sig, s.Bars); err != nil {
		return Result{}, fmt.Errorf("backtest %s: %w", s.Symbol, err)
	}
	return Run(s, sig, cfg)
}

// target returns the position the signal asks for, given the current one:
// +1 long, -1 short, 0 flat.
func target(sig float64, cur int8, th float64, allowShort bool) int8 {
	switch {
	case sig > th:
		return 1
	case sig < -th:
		if allowShort {
			return -1
		}
		return 0
	}
	return cur // between the thresholds, or NaN: hold
}

// runStats are the trade statistics of one simulation.
type runStats struct {
	trades, wins, held int
	fees               float64
}

// metrics combines the curve's metrics with the trade statistics.
func (st runStats) metrics(equity []float64, cfg Config) Metrics {
	m := curveMetrics(equity, cfg.BarsPerYear, cfg.RiskFree)
	m.Trades, m.Wins, m.Fees = st.trades, st.wins, st.fees
	if st.trades > 0 {
		m.WinRate = float64(st.wins) / float64(st.trades)
	}
	if len(equity) > 1 {
		m.Exposure = float64(st.held) / float64(len(equity)-1)
	}
	return m
}

// simulate runs signals over bars [from, to) of s and writes the equity at
// each close into equity (to-from points). Equity starts at cfg.Capital at
// the close of bar from; the signal of bar i trades at the open of bar
// i+1. trades, if not nil, receives the trades. It allocates nothing
// beyond appending to trades.
func simulate(s *Series, signals []float64, cfg Config, c costs, from, to int, equity []float64, trades *[]Trade) runStats {
	open, closes := s.Open[:to], s.Close[:to]
	equity = equity[:to-from]
	equity[0] = cfg.Capital
	var (
		st          runStats
		cash        = cfg.Capital
		units       float64
		side        int8
		want        = target(signals[from], 0, cfg.Threshold, cfg.AllowShort)
		entryEquity float64
		entryFill   float64
		entryIdx    int
		broke       bool
	)
	for i := from + 1; i < to; i++ {
		if want != side && !broke {
			if side != 0 {
				// Close the position at this open.
				var fill, fee float64
				if side > 0 {
					fill = open[i] * (1 - c.slip)
					proceeds := units * fill
					fee = proceeds * c.fee
					cash += proceeds - fee
				} else {
					fill = open[i] * (1 + c.slip)
					cost := -units * fill
					fee = cost * c.fee
					cash -= cost + fee
				}
				st.fees += fee
				pnl := cash - entryEquity
				if pnl > 0 {
					st.wins++
				}
				if trades != nil {
					*trades = append(*trades, s.trade(side, entryIdx, i, entryFill, fill, math.Abs(units), pnl, entryEquity, false))
				}
				units, side = 0, 0
			}
			if want != 0 {
				// Open a position with the whole equity; the fee comes out of it.
				entryEquity = cash
				notional := cash / (1 + c.fee)
				fee := notional * c.fee
				if want > 0 {
					entryFill = open[i] * (1 + c.slip)
					units = notional / entryFill
					cash -= notional + fee
				} else {
					entryFill = open[i] * (1 - c.slip)
					units = -notional / entryFill
					cash += notional - fee
				}
				st.fees += fee
				side, entryIdx = want, i
				st.trades++
			}
		}
		e := cash + units*closes[i]
		if side != 0 {
			st.held++
		}
		if e <= 0 && !broke {
			// Wiped out: the position is worth nothing and trading stops.
			broke = true
			if side != 0 && trades != nil {
				*trades = append(*trades, s.trade(side, entryIdx, i, entryFill, closes[i], math.Abs(units), e-entryEquity, entryEquity, false))
			}
			cash, units, side, e = 0, 0, 0, 0
		}
		equity[i-from] = e
		want = target(signals[i], side, cfg.Threshold, cfg.AllowShort)
	}
	if side != 0 {
		// Still open: mark at the last close, no exit costs.
		last := to - 1
		pnl := cash + units*closes[last] - entryEquity
		if pnl > 0 {
			st.wins++
		}
		if trades != nil {
			*trades = append(*trades, s.trade(side, entryIdx, last, entryFill, closes[last], math.Abs(units), pnl, entryEquity, true))
		}
	}
	return st
}

func (s *Series) trade(side int8, from, to int, entry, exit, units, pnl, entryEquity float64, open bool) Trade {
	t := Trade{Direction: Long, EntryIndex: from, ExitIndex: to, EntryTime: s.Bars[from].Time, ExitTime: s.Bars[to].Time,
		EntryPrice: entry, ExitPrice: exit, Units: units, PnL: pnl, Open: open}
	if side < 0 {
		t.Direction = Short
	}
	if entryEquity > 0 {
		t.Return = pnl / entryEquity
	}
	return t
}
