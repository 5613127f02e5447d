package strategy

import (
	"fmt"
	"math"

	"github.com/leakgate/leakgate/engine/indicator"
	"github.com/leakgate/leakgate/providers"
)

// Momentum follows the rate of change over Period bars: the signal is
// ROC/Scale clamped to [-1, 1], so a rise of Scale (10%) over Period (20)
// bars is a full long vote. Zero fields take the defaults in brackets.
type Momentum struct {
	Period int     // look-back in bars [20]
	Scale  float64 // rate of change of a full vote [0.10]
}

// Name returns "momentum".
func (Momentum) Name() string { return "momentum" }

func (m Momentum) withDefaults() (Momentum, error) {
	if m.Period == 0 {
		m.Period = 20
	}
	if m.Scale == 0 {
		m.Scale = 0.10
	}
	if err := checkPeriods(m.Name(), period{"period", m.Period}); err != nil {
		return m, err
	}
	return m, checkPositive(m.Name(), "scale", m.Scale)
}

// Signals implements Strategy; the first signal comes at bar Period.
func (m Momentum) Signals(dst []float64, bs []providers.Bar) error {
	m, err := m.withDefaults()
	if err != nil {
		return err
	}
	if err := checkDst(m.Name(), dst, len(bs)); err != nil {
		return err
	}
	dst = dst[:len(bs)]
	if err := indicator.ROCInto(dst, closes(bs), m.Period); err != nil {
		return err
	}
	for i, r := range dst {
		dst[i] = clamp(r / m.Scale)
	}
	return nil
}

// Vote implements Strategy.
func (m Momentum) Vote(in Input) (Vote, error) {
	m, err := m.withDefaults()
	if err != nil {
		return Vote{}, err
	}
	n := len(in.Bars)
	if n <= m.Period {
		return abstain(m.Name(), "needs %d bars for a %d-bar rate of change, has %d", m.Period+1, m.Period, n), nil
	}
	from, to := in.Bars[n-1-m.Period].Close, in.Bars[n-1].Close
	roc := to/from - 1
	sig := clamp(roc / m.Scale)
	if from == 0 || math.IsNaN(sig) { // as indicator.ROC, which Signals uses
		return abstain(m.Name(), "rate of change undefined (close %v %d bars ago)", from, m.Period), nil
	}
	return Vote{Strategy: m.Name(), Signal: sig, Reasons: []string{
		fmt.Sprintf("close %.4g is %+.2f%% from %.4g %d bars ago (full vote at ±%.0f%%)", to, 100*roc, from, m.Period, 100*m.Scale),
	}}, nil
}

// SMACross is the classic moving-average cross: +1 while SMA(Fast) is
// above SMA(Slow), -1 while below, 0 when equal. Zero fields take the
// defaults in brackets. It is the strategy the backtest package runs on
// its allocation-free fast path.
type SMACross struct {
	Fast int // [50]
	Slow int // [200]
}

// Name returns "sma-cross".
func (SMACross) Name() string { return "sma-cross" }

func (c SMACross) withDefaults() (SMACross, error) {
	if c.Fast == 0 {
		c.Fast = 50
	}
	if c.Slow == 0 {
		c.Slow = 200
	}
	if err := checkPeriods(c.Name(), period{"fast period", c.Fast}, period{"slow period", c.Slow}); err != nil {
		return c, err
	}
	if c.Fast >= c.Slow {
		return c, fmt.Errorf("strategy sma-cross: fast period %d must be below slow period %d: %w", c.Fast, c.Slow, ErrParam)
	}
	return c, nil
}

// Signals implements Strategy; the first signal comes at bar Slow-1.
func (c SMACross) Signals(dst []float64, bs []providers.Bar) error {
	c, err := c.withDefaults()
	if err != nil {
		return err
	}
	if err := checkDst(c.Name(), dst, len(bs)); err != nil {
		return err
	}
	cl := closes(bs)
	slow := make([]float64, len(bs))
	if err := indicator.SMAInto(dst, cl, c.Fast); err != nil {
		return err
	}
	if err := indicator.SMAInto(slow, cl, c.Slow); err != nil {
		return err
	}
	for i := range bs {
		dst[i] = crossSign(dst[i], slow[i])
	}
	return nil
}

func crossSign(fast, slow float64) float64 {
	switch {
	case math.IsNaN(fast) || math.IsNaN(slow):
		return math.NaN()
	case fast > slow:
		return 1
	case fast < slow:
		return -1
	}
	return 0
}

// Vote implements Strategy.
func (c SMACross) Vote(in Input) (Vote, error) {
	c, err := c.withDefaults()
	if err != nil {
		return Vote{}, err
	}
	n := len(in.Bars)
	if n < c.Slow {
		return abstain(c.Name(), "needs %d bars for SMA(%d), has %d", c.Slow, c.Slow, n), nil
	}
	var fast, slow float64
	for i := n - c.Slow; i < n; i++ {
		slow += in.Bars[i].Close
		if i >= n-c.Fast {
			fast += in.Bars[i].Close
		}
	}
	fast /= float64(c.Fast)
	slow /= float64(c.Slow)
	sig := crossSign(fast, slow)
	rel := map[float64]string{1: "above", -1: "below", 0: "equal to"}[sig]
	return Vote{Strategy: c.Name(), Signal: sig, Reasons: []string{
		fmt.Sprintf("SMA(%d) %.4g is %s SMA(%d) %.4g", c.Fast, fast, rel, c.Slow, slow),
	}}, nil
}

// SentimentStrategy votes the outside sentiment score (Input.Sentiment),
// clamped to [-1, 1]. It abstains when the score summarises fewer than
// MinSamples observations [1]. It has no history, so its Signals are NaN:
// a backtest cannot replay past sentiment, and applying today's score to
// past bars would be look-ahead.
type SentimentStrategy struct {
	MinSamples int // [1]
}

// Name returns "sentiment".
func (SentimentStrategy) Name() string { return "sentiment" }

// Signals implements Strategy: every signal is NaN.
func (s SentimentStrategy) Signals(dst []float64, bs []providers.Bar) error {
	if err := checkDst(s.Name(), dst, len(bs)); err != nil {
		return err
	}
	for i := range bs {
		dst[i] = math.NaN()
	}
	return nil
}

// Vote implements Strategy.
func (s SentimentStrategy) Vote(in Input) (Vote, error) {
	minSamples := s.MinSamples
	if minSamples == 0 {
		minSamples = 1
	}
	if minSamples < 0 {
		return Vote{}, fmt.Errorf("strategy sentiment: minimum samples %d is negative: %w", minSamples, ErrParam)
	}
	st := in.Sentiment
	if st.Samples < minSamples {
		return abstain(s.Name(), "no sentiment: %d samples, needs %d", st.Samples, minSamples), nil
	}
	if math.IsNaN(st.Score) || math.IsInf(st.Score, 0) {
		return Vote{}, fmt.Errorf("strategy sentiment: score %v is not a finite number in [-1, 1]: %w", st.Score, ErrParam)
	}
	src := st.Source
	if src == "" {
		src = "outside source"
	}
	return Vote{Strategy: s.Name(), Signal: clamp(st.Score), Reasons: []string{
		fmt.Sprintf("%s sentiment %+.2f over %d samples", src, st.Score, st.Samples),
	}}, nil
}
