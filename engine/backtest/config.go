package backtest

import (
	"fmt"
	"math"
)

// DefaultCapital is the starting equity when Config.Capital is 0.
const DefaultCapital = 10_000.0

// Config sets the costs and rules of a backtest. The zero value is a
// long-only, cost-free run with DefaultCapital.
type Config struct {
	// Capital is the starting equity [DefaultCapital].
	Capital float64
	// FeeBps is the fee per fill, in basis points of the traded notional
	// (10 is 0.1%).
	FeeBps float64
	// SlippageBps moves every fill against the trader, in basis points of
	// the open price.
	SlippageBps float64
	// AllowShort lets negative signals open short positions; otherwise they
	// only close longs.
	AllowShort bool
	// Threshold is the signal magnitude needed to change position, in
	// [0, 1): above +Threshold goes long, below -Threshold goes short (or
	// flat), anything else holds.
	Threshold float64
	// BarsPerYear annualises Sharpe, Sortino and CAGR [BarsPerYear(class)].
	BarsPerYear float64
	// RiskFree is the annual risk-free rate subtracted from returns in
	// Sharpe and Sortino (0.02 is 2%).
	RiskFree float64
}

// costs are the per-fill rates derived from a Config.
type costs struct {
	fee, slip float64
}

func (c Config) resolve(barsPerYear float64) (Config, costs, error) {
	if c.Capital == 0 {
		c.Capital = DefaultCapital
	}
	if c.BarsPerYear == 0 {
		c.BarsPerYear = barsPerYear
	}
	for _, f := range []struct {
		what string
		v    float64
	}{{"capital", c.Capital}, {"bars per year", c.BarsPerYear}} {
		if !(f.v > 0) || math.IsInf(f.v, 0) {
			return c, costs{}, fmt.Errorf("backtest: %s %v must be a finite number above 0: %w", f.what, f.v, ErrParam)
		}
	}
	for _, f := range []struct {
		what string
		v    float64
	}{{"fee", c.FeeBps}, {"slippage", c.SlippageBps}} {
		if !(f.v >= 0 && f.v < 10_000) {
			return c, costs{}, fmt.Errorf("backtest: %s %v bps must be in [0, 10000) (10 bps is 0.1%%): %w", f.what, f.v, ErrParam)
		}
	}
	if !(c.Threshold >= 0 && c.Threshold < 1) {
		return c, costs{}, fmt.Errorf("backtest: threshold %v must be in [0, 1): %w", c.Threshold, ErrParam)
	}
	if math.IsNaN(c.RiskFree) || math.IsInf(c.RiskFree, 0) || c.RiskFree <= -1 {
		return c, costs{}, fmt.Errorf("backtest: risk-free rate %v must be a finite annual rate above -1 (0.02 is 2%%): %w", c.RiskFree, ErrParam)
	}
	return c, costs{fee: c.FeeBps / 10_000, slip: c.SlippageBps / 10_000}, nil
}
