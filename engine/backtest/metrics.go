package backtest

import (
	"fmt"
	"math"
)

// Metrics summarise one equity curve.
type Metrics struct {
	// Bars is the number of equity points (bars in the run); there are
	// Bars-1 returns.
	Bars int `json:"bars"`
	// FinalEquity is the equity at the last close.
	FinalEquity float64 `json:"final_equity"`
	// TotalReturn is FinalEquity/Capital - 1.
	TotalReturn float64 `json:"total_return"`
	// CAGR is the compound annual growth rate over (Bars-1)/BarsPerYear
	// years; -1 when the equity is wiped out.
	CAGR float64 `json:"cagr"`
	// Volatility is the annualised standard deviation of returns.
	Volatility float64 `json:"volatility"`
	// Sharpe is the annualised mean excess return over its standard
	// deviation.
	Sharpe float64 `json:"sharpe"`
	// Sortino is the annualised mean excess return over the downside
	// deviation of the excess returns x = r - rf (rf the per-bar risk-free
	// rate), sqrt(Σ min(x,0)² / returns).
	Sortino float64 `json:"sortino"`
	// MaxDrawdown is the largest fall from a running peak, as a positive
	// fraction of the peak (0.2 is -20%).
	MaxDrawdown float64 `json:"max_drawdown"`
	// Trades is the number of positions opened (a position still open at
	// the end counts, marked at the last close).
	Trades int `json:"trades"`
	// Wins is the number of trades with a positive profit after costs.
	Wins int `json:"wins"`
	// WinRate is Wins/Trades; 0 without trades.
	WinRate float64 `json:"win_rate"`
	// Exposure is the fraction of the Bars-1 holding periods spent in a
	// position (for a portfolio: the mean fraction of equity invested,
	// gross).
	Exposure float64 `json:"exposure"`
	// Fees is the total paid in fees; slippage is in the fill prices.
	Fees float64 `json:"fees"`
}

// curveMetrics computes the return and risk metrics of equity, whose
// first point is the starting value, in one pass with no allocation. Return
// moments are summed shifted by the first excess return, which keeps the
// variance exact for a constant return and accurate when returns are far
// from zero; a new maximum drawdown is the only place that divides by the
// peak.
func curveMetrics(equity []float64, bpy, annualRF float64) Metrics {
	start := equity[0]
	last := equity[len(equity)-1]
	m := Metrics{Bars: len(equity), FinalEquity: last, TotalReturn: last/start - 1}
	if len(equity) < 2 {
		return m
	}
	rf := math.Pow(1+annualRF, 1/bpy) - 1
	prev, peak, floor := start, start, start
	var maxDD, sum, sumSq, down, shift float64
	if start > 0 {
		shift = equity[1]/start - 1 - rf
	}
	for _, e := range equity[1:] {
		var r float64
		if prev > 0 {
			r = e/prev - 1
		}
		prev = e
		x := r - rf
		y := x - shift
		sum += y
		sumSq += y * y
		if x < 0 {
			down += x * x
		}
		if e > peak {
			peak = e
			floor = e * (1 - maxDD)
		} else if e < floor && peak > 0 {
			maxDD = 1 - e/peak
			floor = e
		}
	}
	m.MaxDrawdown = maxDD
	n := float64(len(equity) - 1)
	if growth := last / start; growth > 0 {
		m.CAGR = math.Pow(growth, bpy/n) - 1
	} else {
		m.CAGR = -1
	}
	mean := shift + sum/n
	ann := math.Sqrt(bpy)
	if n > 1 {
		v := (sumSq - sum*sum/n) / (n - 1)
		if sd := math.Sqrt(math.Max(v, 0)); sd > 0 {
			m.Volatility = sd * ann
			m.Sharpe = mean / sd * ann
		}
	}
	if dd := math.Sqrt(down / n); dd > 0 {
		m.Sortino = mean / dd * ann
	}
	return m
}

// EquityMetrics computes the return and risk metrics of an equity curve
// (trade counts, exposure and fees are left 0). equity[0] is the starting
// value; barsPerYear annualises; riskFree is the annual risk-free rate.
func EquityMetrics(equity []float64, barsPerYear, riskFree float64) (Metrics, error) {
	if len(equity) < 2 {
		return Metrics{}, fmt.Errorf("backtest: an equity curve of %d points has no returns; pass at least 2: %w", len(equity), ErrParam)
	}
	if !(equity[0] > 0) || math.IsInf(equity[0], 0) {
		return Metrics{}, fmt.Errorf("backtest: starting equity %v must be a finite number above 0: %w", equity[0], ErrParam)
	}
	if !(barsPerYear > 0) || math.IsInf(barsPerYear, 0) {
		return Metrics{}, fmt.Errorf("backtest: bars per year %v must be a finite number above 0: %w", barsPerYear, ErrParam)
	}
	if math.IsNaN(riskFree) || math.IsInf(riskFree, 0) || riskFree <= -1 {
		return Metrics{}, fmt.Errorf("backtest: risk-free rate %v must be a finite annual rate above -1: %w", riskFree, ErrParam)
	}
	for i, e := range equity[1:] {
		if math.IsNaN(e) || math.IsInf(e, 0) {
			return Metrics{}, fmt.Errorf("backtest: equity point %d is %v: %w", i+1, e, ErrParam)
		}
	}
	return curveMetrics(equity, barsPerYear, riskFree), nil
}
