package strategy

import (
	"fmt"
	"math"

	"github.com/leakgate/leakgate/providers"
)

// DefaultWeight is the weight of a strategy an Ensemble has no weight for.
const DefaultWeight = 1.0

// Ensemble combines strategies into one vote: the weighted mean of the
// signals of the strategies that do not abstain,
//
//	score = Σ wᵢ·sᵢ / Σ wᵢ
//
// Weights are keyed by strategy name; a missing name weighs DefaultWeight
// and a zero weight mutes a strategy. Learned weights come from
// UpdateWeights.
type Ensemble struct {
	// Strategies vote in this order; names must be unique.
	Strategies []Strategy
	// Weights are per strategy name, each ≥ 0.
	Weights map[string]float64
}

// DefaultStrategies returns Trend, MeanReversion, Momentum and
// SentimentStrategy with their default parameters.
func DefaultStrategies() []Strategy {
	return []Strategy{Trend{}, MeanReversion{}, Momentum{}, SentimentStrategy{}}
}

// DefaultEnsemble returns the default strategies with equal weights.
func DefaultEnsemble() Ensemble { return Ensemble{Strategies: DefaultStrategies()} }

// Tally is an ensemble's vote at one bar.
type Tally struct {
	// Score is the weighted mean signal in [-1, 1]; 0 when every strategy
	// abstains.
	Score float64 `json:"score"`
	// Agreement is the share of the voting weight whose signal has the
	// sign of Score, in [0, 1].
	Agreement float64 `json:"agreement"`
	// Voters is the number of strategies that voted with a weight above 0.
	Voters int `json:"voters"`
	// Votes holds every strategy's vote, in ensemble order.
	Votes []Vote `json:"votes"`
	// Weights holds the weight used for each strategy, by name.
	Weights map[string]float64 `json:"weights"`
}

func (e Ensemble) weight(name string) float64 {
	if w, ok := e.Weights[name]; ok {
		return w
	}
	return DefaultWeight
}

func (e Ensemble) validate() error {
	if len(e.Strategies) == 0 {
		return fmt.Errorf("strategy: the ensemble has no strategies; use DefaultStrategies(): %w", ErrParam)
	}
	seen := make(map[string]bool, len(e.Strategies))
	for _, s := range e.Strategies {
		if s == nil {
			return fmt.Errorf("strategy: the ensemble holds a nil strategy: %w", ErrParam)
		}
		if seen[s.Name()] {
			return fmt.Errorf("strategy: the ensemble holds %q twice; weights are per name: %w", s.Name(), ErrParam)
		}
		seen[s.Name()] = true
	}
	for name, w := range e.Weights {
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			return fmt.Errorf("strategy: weight %v for %q must be a finite number ≥ 0: %w", w, name, ErrParam)
		}
	}
	return nil
}

// Vote asks every strategy for its vote on in and combines them.
func (e Ensemble) Vote(in Input) (Tally, error) {
	if err := e.validate(); err != nil {
		return Tally{}, err
	}
	t := Tally{Votes: make([]Vote, 0, len(e.Strategies)), Weights: make(map[string]float64, len(e.Strategies))}
	var sum, wsum float64
	for _, s := range e.Strategies {
		v, err := s.Vote(in)
		if err != nil {
			return Tally{}, err
		}
		w := e.weight(s.Name())
		t.Weights[s.Name()] = w
		t.Votes = append(t.Votes, v)
		if v.Abstain || w == 0 {
			continue
		}
		t.Voters++
		sum += w * v.Signal
		wsum += w
	}
	if wsum == 0 {
		return t, nil
	}
	t.Score = clamp(sum / wsum)
	var agree float64
	for _, v := range t.Votes {
		w := t.Weights[v.Strategy]
		if !v.Abstain && w > 0 && sameSign(v.Signal, t.Score) {
			agree += w
		}
	}
	t.Agreement = agree / wsum
	return t, nil
}

func sameSign(a, b float64) bool {
	return (a > 0 && b > 0) || (a < 0 && b < 0) || (a == 0 && b == 0)
}

// Signals writes the ensemble's score at every bar into dst (at least
// len(bs) long): the weighted mean of the strategies' signals that are not
// NaN at that bar, or NaN when all abstain. Like each strategy's, dst[i]
// depends only on bs[0..i].
func (e Ensemble) Signals(dst []float64, bs []providers.Bar) error {
	if err := e.validate(); err != nil {
		return err
	}
	if err := checkDst("ensemble", dst, len(bs)); err != nil {
		return err
	}
	n := len(bs)
	sum := make([]float64, 2*n)
	wsum, sig := sum[n:], make([]float64, n)
	sum = sum[:n]
	for _, s := range e.Strategies {
		w := e.weight(s.Name())
		if w == 0 {
			continue
		}
		if err := s.Signals(sig, bs); err != nil {
			return err
		}
		for i, x := range sig {
			if !math.IsNaN(x) {
				sum[i] += w * x
				wsum[i] += w
			}
		}
	}
	for i := range n {
		if wsum[i] == 0 {
			dst[i] = math.NaN()
			continue
		}
		dst[i] = clamp(sum[i] / wsum[i])
	}
	return nil
}
