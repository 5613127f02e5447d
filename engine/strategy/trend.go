package strategy

import (
	"fmt"
	"math"

	"github.com/leakgate/leakgate/engine/indicator"
	"github.com/leakgate/leakgate/providers"
)

// Trend follows the trend with an EMA cross confirmed by MACD. Its signal
// is the mean of two parts, each clamped to [-1, 1]:
//
//	cross = (EMA(Fast) - EMA(Slow)) / EMA(Slow) / Band
//	macd  = MACD histogram / close / MACDBand
//
// so a fast EMA Band (2%) above the slow one is a full long vote from the
// cross. Zero fields take the defaults in brackets.
type Trend struct {
	Fast int // fast EMA period [20]
	Slow int // slow EMA period [50]
	// MACD periods [12, 26, 9].
	MACDFast, MACDSlow, MACDSignal int
	// Band is the EMA spread, as a fraction of the slow EMA, that counts as
	// a full vote [0.02].
	Band float64
	// MACDBand is the MACD histogram, as a fraction of the close, that
	// counts as a full vote [0.005].
	MACDBand float64
}

// Name returns "trend".
func (Trend) Name() string { return "trend" }

func (t Trend) withDefaults() (Trend, error) {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&t.Fast, 20)
	def(&t.Slow, 50)
	def(&t.MACDFast, 12)
	def(&t.MACDSlow, 26)
	def(&t.MACDSignal, 9)
	if t.Band == 0 {
		t.Band = 0.02
	}
	if t.MACDBand == 0 {
		t.MACDBand = 0.005
	}
	if err := checkPeriods(t.Name(), period{"fast EMA period", t.Fast}, period{"slow EMA period", t.Slow},
		period{"MACD fast period", t.MACDFast}, period{"MACD slow period", t.MACDSlow}, period{"MACD signal period", t.MACDSignal}); err != nil {
		return t, err
	}
	if t.Fast >= t.Slow {
		return t, fmt.Errorf("strategy trend: fast EMA period %d must be below slow period %d: %w", t.Fast, t.Slow, ErrParam)
	}
	if t.MACDFast >= t.MACDSlow {
		return t, fmt.Errorf("strategy trend: MACD fast period %d must be below slow period %d: %w", t.MACDFast, t.MACDSlow, ErrParam)
	}
	if err := checkPositive(t.Name(), "band", t.Band); err != nil {
		return t, err
	}
	return t, checkPositive(t.Name(), "MACD band", t.MACDBand)
}

type trendState struct {
	close, fast, slow, line, sig, hist []float64
}

func (t Trend) state(bs []providers.Bar) (trendState, error) {
	n := len(bs)
	buf := make([]float64, 5*n)
	s := trendState{close: closes(bs), fast: buf[:n], slow: buf[n : 2*n], line: buf[2*n : 3*n], sig: buf[3*n : 4*n], hist: buf[4*n:]}
	if err := indicator.EMAInto(s.fast, s.close, t.Fast); err != nil {
		return s, err
	}
	if err := indicator.EMAInto(s.slow, s.close, t.Slow); err != nil {
		return s, err
	}
	return s, indicator.MACDInto(s.line, s.sig, s.hist, s.close, t.MACDFast, t.MACDSlow, t.MACDSignal)
}

func (t Trend) parts(s trendState, i int) (cross, macd float64) {
	cross = clamp((s.fast[i] - s.slow[i]) / s.slow[i] / t.Band)
	macd = clamp(s.hist[i] / s.close[i] / t.MACDBand)
	return cross, macd
}

// Signals implements Strategy; the first signal comes at bar
// max(Slow, MACDSlow+MACDSignal-1)-1.
func (t Trend) Signals(dst []float64, bs []providers.Bar) error {
	t, err := t.withDefaults()
	if err != nil {
		return err
	}
	if err := checkDst(t.Name(), dst, len(bs)); err != nil {
		return err
	}
	s, err := t.state(bs)
	if err != nil {
		return err
	}
	for i := range bs {
		c, m := t.parts(s, i)
		dst[i] = (c + m) / 2 // NaN while either part warms up
	}
	return nil
}

// Vote implements Strategy.
func (t Trend) Vote(in Input) (Vote, error) {
	t, err := t.withDefaults()
	if err != nil {
		return Vote{}, err
	}
	need := max(t.Slow, t.MACDSlow+t.MACDSignal-1)
	if len(in.Bars) < need {
		return abstain(t.Name(), "needs %d bars for EMA(%d) and MACD(%d,%d,%d), has %d",
			need, t.Slow, t.MACDFast, t.MACDSlow, t.MACDSignal, len(in.Bars)), nil
	}
	s, err := t.state(in.Bars)
	if err != nil {
		return Vote{}, err
	}
	i := len(in.Bars) - 1
	c, m := t.parts(s, i)
	v := Vote{Strategy: t.Name(), Signal: (c + m) / 2}
	if math.IsNaN(v.Signal) {
		return abstain(t.Name(), "indicators undefined at the last bar"), nil
	}
	rel := "above"
	if s.fast[i] < s.slow[i] {
		rel = "below"
	}
	v.Reasons = []string{
		fmt.Sprintf("EMA(%d) %.4g is %s EMA(%d) %.4g by %+.2f%% (cross vote %s)",
			t.Fast, s.fast[i], rel, t.Slow, s.slow[i], 100*(s.fast[i]/s.slow[i]-1), signed(c)),
		fmt.Sprintf("MACD(%d,%d,%d) line %.4g, signal %.4g, histogram %+.4g (MACD vote %s)",
			t.MACDFast, t.MACDSlow, t.MACDSignal, s.line[i], s.sig[i], s.hist[i], signed(m)),
	}
	return v, nil
}
