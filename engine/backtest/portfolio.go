package backtest

import (
	"fmt"
	"math"
	"time"
)

// DefaultRebalance is the rebalancing period, in bars, when
// PortfolioConfig.Rebalance is 0 (about monthly for daily equity bars).
const DefaultRebalance = 21

// Asset is one holding of a portfolio.
type Asset struct {
	// Series holds the asset's bars.
	Series *Series
	// Weight is the target fraction of equity in the asset, ≥ 0. Weights
	// sum to at most 1; the rest is held as cash.
	Weight float64
	// Signals, if set, drive the asset's position (one per bar of Series,
	// read with Config.Threshold and AllowShort as in Run): the asset
	// holds Weight long, Weight short, or nothing. Nil means always long.
	Signals []float64
}

// PortfolioConfig configures Portfolio.
type PortfolioConfig struct {
	// Config holds costs and rules; BarsPerYear defaults to the smallest of
	// the assets' classes (the common calendar is at most that dense).
	Config
	// Rebalance is the number of bars between rebalances back to the target
	// weights [DefaultRebalance]; negative means never (buy and hold the
	// initial allocation, trading only when a signal changes).
	Rebalance int
}

// PortfolioResult is the outcome of Portfolio.
type PortfolioResult struct {
	// Metrics of the portfolio. Trades counts positions opened per asset
	// (a rebalance adjusts a position, it does not open one); a trade's
	// profit is its cash flows plus its final value. Exposure is the mean
	// fraction of equity invested, gross (long plus short), at the closes.
	Metrics
	// Equity holds the equity at each aligned bar's close; Equity[0] is the
	// starting capital.
	Equity []float64 `json:"equity"`
	// Times holds the common bar times of Equity.
	Times []time.Time `json:"times"`
	// Dropped counts, per asset, the bars outside the common calendar.
	Dropped []int `json:"dropped"`
	// Rebalances counts the scheduled rebalances, the initial allocation
	// included.
	Rebalances int `json:"rebalances"`
	// Weights are the assets' fractions of the final equity (negative for
	// shorts).
	Weights []float64 `json:"weights"`
}

// Portfolio backtests several assets held at target weights and
// rebalanced every Rebalance bars.
//
// # Alignment
//
// Assets trade on different calendars (equities skip weekends, crypto does
// not, forex has Sunday bars), so the portfolio keeps only the times at
// which every asset has a bar (an exact time match, so all series must
// stamp their bars alike, such as midnight UTC for daily bars). A move
// during dropped bars is not lost: it shows in the next common bar's
// prices. Dropped reports how many bars of each asset fell out.
//
// # Trading
//
// The first allocation is made at the open of the second common bar, as
// in Run, and so are rebalances and signal changes: on a rebalance every
// asset returns to Weight of the equity at that open; between rebalances
// only assets whose signal changed trade. Each order pays slippage and
// fees; buys are sized so that their costs fit in the target.
func Portfolio(assets []Asset, cfg PortfolioConfig) (PortfolioResult, error) {
	if err := checkAssets(assets); err != nil {
		return PortfolioResult{}, err
	}
	bpy := math.Inf(1)
	for _, a := range assets {
		bpy = math.Min(bpy, BarsPerYear(a.Series.Class))
	}
	base, c, err := cfg.Config.resolve(bpy)
	if err != nil {
		return PortfolioResult{}, err
	}
	every := cfg.Rebalance
	if every == 0 {
		every = DefaultRebalance
	}
	idx, times := align(assets)
	m := len(times)
	if m < 2 {
		return PortfolioResult{}, fmt.Errorf("backtest portfolio: the assets share %d bar times; at least 2 are needed (check that their histories overlap and stamp bars at the same time of day): %w",
			m, ErrParam)
	}
	res := PortfolioResult{Equity: make([]float64, m), Times: times, Dropped: make([]int, len(assets)), Weights: make([]float64, len(assets))}
	for k, a := range assets {
		res.Dropped[k] = a.Series.Len() - m
	}

	na := len(assets)
	units := make([]float64, na)
	flow := make([]float64, na) // cash flows of each asset's current trade
	pos := make([]int8, na)     // current position direction
	want := make([]int8, na)
	cash := base.Capital
	var st runStats
	var gross float64
	res.Equity[0] = cash
	signal := func(k, j int) float64 {
		if assets[k].Signals == nil {
			return 1
		}
		return assets[k].Signals[idx[k][j]]
	}
	for k := range assets {
		want[k] = target(signal(k, 0), 0, base.Threshold, base.AllowShort)
	}
	broke := false
	for j := 1; j < m; j++ {
		rebalance := j == 1 || (every > 0 && (j-1)%every == 0)
		if rebalance {
			res.Rebalances++
		}
		if !broke {
			eOpen := cash
			for k, a := range assets {
				eOpen += units[k] * a.Series.Open[idx[k][j]]
			}
			for k, a := range assets {
				if !rebalance && want[k] == pos[k] {
					continue
				}
				o := a.Series.Open[idx[k][j]]
				fillDir := o * (1 + c.slip)
				if want[k] < 0 {
					fillDir = o * (1 - c.slip)
				}
				goal := a.Weight * float64(want[k]) * eOpen / (fillDir * (1 + c.fee))
				if want[k] != pos[k] && pos[k] != 0 {
					// Close the current trade first.
					cash, st.fees = fill(cash, st.fees, -units[k], o, c, &flow[k])
					if flow[k] > 0 {
						st.wins++
					}
					units[k], flow[k] = 0, 0
				}
				if want[k] != 0 && pos[k] != want[k] {
					st.trades++
				}
				cash, st.fees = fill(cash, st.fees, goal-units[k], o, c, &flow[k])
				units[k], pos[k] = goal, want[k]
			}
		}
		e := cash
		var invested float64
		for k, a := range assets {
			v := units[k] * a.Series.Close[idx[k][j]]
			e += v
			invested += math.Abs(v)
		}
		if e <= 0 && !broke {
			broke = true
			clear(units)
			clear(pos)
			cash, e = 0, 0
		}
		if e > 0 {
			gross += invested / e
		}
		res.Equity[j] = e
		for k := range assets {
			want[k] = target(signal(k, j), pos[k], base.Threshold, base.AllowShort)
		}
	}
	last := m - 1
	for k, a := range assets {
		v := units[k] * a.Series.Close[idx[k][last]]
		if pos[k] != 0 && flow[k]+v > 0 {
			st.wins++
		}
		if res.Equity[last] > 0 {
			res.Weights[k] = v / res.Equity[last]
		}
	}
	res.Metrics = st.metrics(res.Equity, base)
	res.Exposure = gross / float64(m-1)
	return res, nil
}

// fill trades qty units (negative sells) at open o with slippage and fees,
// returning the new cash and fee total; flow accumulates the trade's cash
// flow.
func fill(cash, fees, qty, o float64, c costs, flow *float64) (float64, float64) {
	if qty == 0 {
		return cash, fees
	}
	price := o * (1 + c.slip)
	if qty < 0 {
		price = o * (1 - c.slip)
	}
	notional := qty * price
	fee := math.Abs(notional) * c.fee
	cash -= notional + fee
	*flow -= notional + fee
	return cash, fees + fee
}

func checkAssets(assets []Asset) error {
	if len(assets) == 0 {
		return fmt.Errorf("backtest portfolio: no assets: %w", ErrParam)
	}
	var sum float64
	for k, a := range assets {
		if a.Series == nil {
			return fmt.Errorf("backtest portfolio: asset %d has no series: %w", k, ErrParam)
		}
		if !(a.Weight >= 0) || math.IsInf(a.Weight, 0) {
			return fmt.Errorf("backtest portfolio: weight %v of %s must be a finite number ≥ 0: %w", a.Weight, a.Series.Symbol, ErrParam)
		}
		if a.Signals != nil && len(a.Signals) != a.Series.Len() {
			return fmt.Errorf("backtest portfolio: %d signals for the %d bars of %s; pass one per bar or none: %w",
				len(a.Signals), a.Series.Len(), a.Series.Symbol, ErrParam)
		}
		sum += a.Weight
	}
	if !(sum > 0) || sum > 1+1e-9 {
		return fmt.Errorf("backtest portfolio: weights sum to %.4g; they are fractions of equity and must sum to more than 0 and at most 1: %w",
			sum, ErrParam)
	}
	return nil
}

// align returns, for each asset, the bar index of each common time, and
// the common times.
func align(assets []Asset) ([][]int, []time.Time) {
	idx := make([][]int, len(assets))
	p := make([]int, len(assets))
	var times []time.Time
	for {
		// The latest of the current times is the candidate.
		var t time.Time
		for k, a := range assets {
			if p[k] >= a.Series.Len() {
				return idx, times
			}
			if bt := a.Series.Bars[p[k]].Time; k == 0 || bt.After(t) {
				t = bt
			}
		}
		all := true
		for k, a := range assets {
			for p[k] < a.Series.Len() && a.Series.Bars[p[k]].Time.Before(t) {
				p[k]++
			}
			if p[k] >= a.Series.Len() {
				return idx, times
			}
			if !a.Series.Bars[p[k]].Time.Equal(t) {
				all = false
			}
		}
		if all {
			times = append(times, t)
			for k := range assets {
				idx[k] = append(idx[k], p[k])
				p[k]++
			}
		}
	}
}
