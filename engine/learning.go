package engine

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/engine/store"
	"github.com/leakgate/leakgate/engine/strategy"
)

// StrategyStats is one strategy's record over the closed trades it voted
// on. Its return on a trade is the price move in the direction of its vote
// (what following it alone would have earned), before fees.
type StrategyStats struct {
	// Strategy names the strategy.
	Strategy string `json:"strategy"`
	// Trades counts closed trades the strategy voted on (abstentions and
	// zero signals do not count).
	Trades  int     `json:"trades"`
	WinRate float64 `json:"win_rate"`
	// AvgReturn is the mean return per trade, as a fraction.
	AvgReturn float64 `json:"avg_return"`
	// ProfitFactor is gross gains over gross losses; +Inf (JSON null) with
	// gains and no losses, 0 without gains.
	ProfitFactor Num `json:"profit_factor"`
	// Weight is the current ensemble weight.
	Weight float64 `json:"weight"`
}

// PortfolioStats summarise the closed trades themselves, after fees.
type PortfolioStats struct {
	// Trades, WinRate, AvgReturn and ProfitFactor as for a strategy,
	// over the trades' own returns; TotalPnL sums their PnL.
	Trades       int     `json:"trades"`
	WinRate      float64 `json:"win_rate"`
	AvgReturn    float64 `json:"avg_return"`
	ProfitFactor Num     `json:"profit_factor"`
	TotalPnL     float64 `json:"total_pnl"`
}

// LearningReport is the result of LearningReport.
type LearningReport struct {
	// Strategies holds one entry per strategy, by name; Portfolio the
	// trades' own record.
	Strategies []StrategyStats `json:"strategies"`
	Portfolio  PortfolioStats  `json:"portfolio"`
	// Since is the time of the oldest trade in memory, if any.
	Since time.Time `json:"since"`
}

type tally struct {
	n, wins    int
	sum        float64
	gain, loss float64
}

func (t *tally) add(r float64) {
	t.n++
	t.sum += r
	if r > 0 {
		t.wins++
		t.gain += r
	} else {
		t.loss -= r
	}
}

func (t *tally) winRate() float64 {
	if t.n == 0 {
		return 0
	}
	return float64(t.wins) / float64(t.n)
}

func (t *tally) avg() float64 {
	if t.n == 0 {
		return 0
	}
	return t.sum / float64(t.n)
}

func (t *tally) profitFactor() Num {
	switch {
	case t.loss > 0:
		return Num(t.gain / t.loss)
	case t.gain > 0:
		return Num(math.Inf(1))
	}
	return 0
}

// LearningReport summarises the memory: per-strategy win rate, average
// return and profit factor, the portfolio's own, and the current ensemble
// weights (which closed trades update as they are recorded).
func (e *Engine) LearningReport(ctx context.Context) (*LearningReport, error) {
	ms, err := e.st.Memories(ctx, store.MemoryFilter{})
	if err != nil {
		return nil, err
	}
	w, err := e.st.Weights(ctx)
	if err != nil {
		return nil, err
	}
	per := map[string]*tally{}
	var port tally
	rep := &LearningReport{}
	for _, m := range ms {
		port.add(m.Return)
		rep.Portfolio.TotalPnL += m.PnL
		if rep.Since.IsZero() || m.ClosedAt.Before(rep.Since) {
			rep.Since = m.ClosedAt
		}
		if !(m.EntryPrice > 0) {
			continue
		}
		move := m.ExitPrice/m.EntryPrice - 1
		for _, v := range m.Votes {
			if v.Abstain || v.Signal == 0 {
				continue
			}
			t := per[v.Strategy]
			if t == nil {
				t = &tally{}
				per[v.Strategy] = t
			}
			t.add(math.Copysign(1, v.Signal) * move)
		}
	}
	names := map[string]bool{}
	for _, s := range strategy.DefaultStrategies() {
		names[s.Name()] = true
	}
	for n := range per {
		names[n] = true
	}
	for n := range w {
		names[n] = true
	}
	for n := range names {
		t := per[n]
		if t == nil {
			t = &tally{}
		}
		weight, ok := w[n]
		if !ok {
			weight = strategy.DefaultWeight
		}
		rep.Strategies = append(rep.Strategies, StrategyStats{Strategy: n, Trades: t.n, WinRate: t.winRate(),
			AvgReturn: t.avg(), ProfitFactor: t.profitFactor(), Weight: weight})
	}
	sort.Slice(rep.Strategies, func(i, j int) bool { return rep.Strategies[i].Strategy < rep.Strategies[j].Strategy })
	rep.Portfolio.Trades, rep.Portfolio.WinRate, rep.Portfolio.AvgReturn, rep.Portfolio.ProfitFactor =
		port.n, port.winRate(), port.avg(), port.profitFactor()
	return rep, nil
}

// PruneOptions selects what PruneMemory removes. When both OlderThan and
// Keep are zero, PruneMemory applies the configuration's memory.retention
// and memory.keep instead.
type PruneOptions struct {
	// OlderThan removes trades closed longer ago than this; zero (with a
	// Keep) removes none by age.
	OlderThan time.Duration
	// Keep removes all but the newest Keep trades; zero means no limit.
	Keep int
	// DryRun reports without removing.
	DryRun bool
}

// PruneMemory removes closed trades from the memory and reports what it
// removed.
func (e *Engine) PruneMemory(ctx context.Context, o PruneOptions) (store.PruneResult, error) {
	if o.OlderThan < 0 || o.Keep < 0 {
		return store.PruneResult{}, Usagef("--older-than and --keep must not be negative")
	}
	if o.OlderThan == 0 && o.Keep == 0 {
		o.OlderThan, o.Keep = memoryRetention(e.cfg.Memory.Retention), e.cfg.Memory.Keep
	}
	var cutoff time.Time
	if o.OlderThan > 0 {
		cutoff = e.now().Add(-o.OlderThan)
	}
	return e.st.PruneMemory(ctx, cutoff, o.Keep, o.DryRun)
}

// memoryRetention is the age bound of the configured memory.retention r:
// 0 is config.DefaultMemoryRetention, and a negative r (-1s) is none
// (returned as 0: no trade is removed by age).
func memoryRetention(r time.Duration) time.Duration {
	switch {
	case r == 0:
		return config.DefaultMemoryRetention
	case r < 0:
		return 0
	}
	return r
}
