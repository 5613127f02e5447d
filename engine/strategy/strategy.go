package strategy

import (
	"errors"
	"fmt"
	"math"

	"github.com/leakgate/leakgate/providers"
)

// ErrParam is wrapped by errors about invalid strategy, ensemble or
// decision parameters.
var ErrParam = errors.New("invalid parameter")

// Strategy is a rule that turns bars into a signal in [-1, 1].
//
// Implementations are values that hold only their parameters; they are
// safe for concurrent use.
type Strategy interface {
	// Name identifies the strategy in votes, reasons and ensemble weights.
	Name() string
	// Signals writes the signal at every bar into dst, which must be at
	// least len(bs) long. dst[i] depends only on bs[0..i]; it is NaN where
	// the strategy abstains (during indicator warm-up, or always for
	// strategies whose input has no history, like Sentiment).
	Signals(dst []float64, bs []providers.Bar) error
	// Vote returns the signal at the last bar of in.Bars with the reasons
	// behind it.
	Vote(in Input) (Vote, error)
}

// Input is what a strategy or a decision sees at one point in time.
type Input struct {
	// Symbol names the instrument, for reasons and decisions.
	Symbol string
	// Class is the asset class of the instrument; empty means equity.
	Class providers.AssetClass
	// Bars is the history up to now, oldest first; the last bar is the
	// latest.
	Bars []providers.Bar
	// Sentiment is an outside opinion; its zero value means none.
	Sentiment Sentiment
	// Position is the signed quantity held now (negative: short). Decide
	// uses it to turn a target position into an order.
	Position float64
}

// Sentiment is a sentiment score from outside the price history, such as
// the mean polarity of recent Reddit posts.
type Sentiment struct {
	// Score is in [-1, 1]: -1 very bearish, +1 very bullish.
	Score float64 `json:"score"`
	// Samples is how many observations (posts) the score summarises; 0
	// means there is no sentiment.
	Samples int `json:"samples"`
	// Source names where the score came from ("reddit").
	Source string `json:"source,omitempty"`
}

// Vote is one strategy's opinion at one bar.
type Vote struct {
	// Strategy names the voter.
	Strategy string `json:"strategy"`
	// Signal is in [-1, 1]: +1 strongly long, -1 strongly short. It is 0
	// when Abstain is set.
	Signal float64 `json:"signal"`
	// Abstain is set when the strategy has no opinion (not enough bars, no
	// sentiment); an ensemble leaves it out of the average.
	Abstain bool `json:"abstain,omitempty"`
	// Reasons explain the signal in words, with the indicator values.
	Reasons []string `json:"reasons"`
}

func abstain(name string, format string, args ...any) Vote {
	return Vote{Strategy: name, Abstain: true, Reasons: []string{fmt.Sprintf(format, args...)}}
}

func clamp(x float64) float64 { return math.Max(-1, math.Min(1, x)) }

func closes(bs []providers.Bar) []float64 {
	out := make([]float64, len(bs))
	for i, b := range bs {
		out[i] = b.Close
	}
	return out
}

func checkDst(name string, dst []float64, n int) error {
	if len(dst) < n {
		return fmt.Errorf("strategy %s: destination holds %d signals, there are %d bars; pass a slice at least as long as the bars: %w",
			name, len(dst), n, ErrParam)
	}
	return nil
}

func checkPeriods(name string, periods ...struct {
	what string
	v    int
}) error {
	for _, p := range periods {
		if p.v < 1 {
			return fmt.Errorf("strategy %s: %s %d is below 1: %w", name, p.what, p.v, ErrParam)
		}
	}
	return nil
}

type period = struct {
	what string
	v    int
}

func checkPositive(name, what string, v float64) error {
	if !(v > 0) || math.IsInf(v, 0) {
		return fmt.Errorf("strategy %s: %s %v must be a finite number above 0: %w", name, what, v, ErrParam)
	}
	return nil
}

// signed formats x with an explicit sign and two decimals.
func signed(x float64) string { return fmt.Sprintf("%+.2f", x) }
