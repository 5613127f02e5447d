package strategy

import (
	"fmt"
	"math"
)

// Outcome is how one strategy's vote fared on one closed trade.
type Outcome struct {
	// Strategy names the strategy that voted.
	Strategy string `json:"strategy"`
	// Signal is the strategy's vote when the trade was opened, in [-1, 1].
	Signal float64 `json:"signal"`
	// Move is the instrument's price change over the trade, exit/entry-1,
	// whatever side the trade took: a strategy that voted short is rewarded
	// when Move is negative.
	Move float64 `json:"move"`
}

// LearnParams configures UpdateWeights. Zero fields take the defaults in
// brackets.
type LearnParams struct {
	// Rate is the learning rate η [0.2].
	Rate float64
	// Scale is the price move that earns a full reward at a full vote
	// [0.05].
	Scale float64
	// Min and Max bound every weight [0.1, 3]. Min above 0 keeps a strategy
	// that had a bad run able to earn its way back.
	Min, Max float64
}

// DefaultLearnParams returns the defaults.
func DefaultLearnParams() LearnParams { return LearnParams{Rate: 0.2, Scale: 0.05, Min: 0.1, Max: 3} }

func (p LearnParams) withDefaults() (LearnParams, error) {
	d := DefaultLearnParams()
	for _, f := range []struct {
		v   *float64
		def float64
	}{{&p.Rate, d.Rate}, {&p.Scale, d.Scale}, {&p.Min, d.Min}, {&p.Max, d.Max}} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	for _, f := range []struct {
		what string
		v    float64
	}{{"learning rate", p.Rate}, {"reward scale", p.Scale}, {"minimum weight", p.Min}, {"maximum weight", p.Max}} {
		if err := checkPositive("learn", f.what, f.v); err != nil {
			return p, err
		}
	}
	if p.Min > p.Max {
		return p, fmt.Errorf("strategy learn: minimum weight %v is above maximum %v: %w", p.Min, p.Max, ErrParam)
	}
	return p, nil
}

// UpdateWeights returns new ensemble weights after a batch of closed-trade
// outcomes; weights is not modified. It is a multiplicative-weights
// (exponentiated gradient) update: each outcome earns its strategy the
// reward
//
//	r = clamp(Signal·Move/Scale, -1, 1)
//
// (positive when the strategy voted the way the price went), and each
// strategy's weight becomes
//
//	w' = clamp(w·exp(Rate·Σr), Min, Max)
//
// summing the rewards of the whole batch first, so the result does not
// depend on the order of outcomes. A strategy without a weight starts
// from DefaultWeight; strategies without outcomes keep their weight (still
// clamped to [Min, Max]); a weight of 0 (a strategy muted by hand) stays 0. Weights are not normalised: Ensemble divides by
// their sum when it votes. With the defaults, one full-conviction vote on
// a 5% move scales a weight by e^0.2 ≈ 1.22.
func UpdateWeights(weights map[string]float64, outcomes []Outcome, p LearnParams) (map[string]float64, error) {
	p, err := p.withDefaults()
	if err != nil {
		return nil, err
	}
	reward := make(map[string]float64)
	for i, o := range outcomes {
		if o.Strategy == "" {
			return nil, fmt.Errorf("strategy learn: outcome %d names no strategy: %w", i, ErrParam)
		}
		if !finite(o.Signal) || !finite(o.Move) {
			return nil, fmt.Errorf("strategy learn: outcome %d (%s) has signal %v and move %v; both must be finite: %w",
				i, o.Strategy, o.Signal, o.Move, ErrParam)
		}
		reward[o.Strategy] += clamp(clamp(o.Signal) * o.Move / p.Scale)
	}
	out := make(map[string]float64, len(weights)+len(reward))
	for name, w := range weights {
		if !finite(w) || w < 0 {
			return nil, fmt.Errorf("strategy learn: weight %v for %q must be a finite number ≥ 0: %w", w, name, ErrParam)
		}
		out[name] = w
	}
	for name := range reward {
		if _, ok := out[name]; !ok {
			out[name] = DefaultWeight
		}
	}
	for name, w := range out {
		if w == 0 {
			continue
		}
		out[name] = math.Max(p.Min, math.Min(p.Max, w*math.Exp(p.Rate*reward[name])))
	}
	return out, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
