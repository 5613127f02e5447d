package strategy

import (
	"fmt"
	"math"

	"github.com/leakgate/leakgate/engine/indicator"
	"github.com/leakgate/leakgate/providers"
)

// MeanReversion bets on a return to the mean after stretched moves. Its
// signal is the mean of two parts in [-1, 1]:
//
//   - RSI: +1 at or below Oversold, -1 at or above Overbought, linear in
//     between (0 at the midpoint);
//   - Bollinger: 1 - 2·%B, clamped, where %B = (close-lower)/(upper-lower):
//     +1 at the lower band, 0 at the middle, -1 at the upper band (0 when
//     the bands have no width).
//
// Zero fields take the defaults in brackets.
type MeanReversion struct {
	RSIPeriod  int     // RSI period [14]
	Oversold   float64 // RSI level of a full long vote [30]
	Overbought float64 // RSI level of a full short vote [70]
	BandPeriod int     // Bollinger period [20]
	BandWidth  float64 // Bollinger width in standard deviations [2]
}

// Name returns "mean-reversion".
func (MeanReversion) Name() string { return "mean-reversion" }

func (m MeanReversion) withDefaults() (MeanReversion, error) {
	if m.RSIPeriod == 0 {
		m.RSIPeriod = 14
	}
	if m.Oversold == 0 {
		m.Oversold = 30
	}
	if m.Overbought == 0 {
		m.Overbought = 70
	}
	if m.BandPeriod == 0 {
		m.BandPeriod = 20
	}
	if m.BandWidth == 0 {
		m.BandWidth = 2
	}
	if err := checkPeriods(m.Name(), period{"RSI period", m.RSIPeriod}, period{"Bollinger period", m.BandPeriod}); err != nil {
		return m, err
	}
	if !(0 < m.Oversold && m.Oversold < m.Overbought && m.Overbought < 100) {
		return m, fmt.Errorf("strategy mean-reversion: RSI levels need 0 < oversold (%v) < overbought (%v) < 100: %w",
			m.Oversold, m.Overbought, ErrParam)
	}
	return m, checkPositive(m.Name(), "Bollinger width", m.BandWidth)
}

type meanRevState struct {
	close, rsi  []float64
	up, mid, lo []float64
}

func (m MeanReversion) state(bs []providers.Bar) (meanRevState, error) {
	n := len(bs)
	buf := make([]float64, 4*n)
	s := meanRevState{close: closes(bs), rsi: buf[:n], up: buf[n : 2*n], mid: buf[2*n : 3*n], lo: buf[3*n:]}
	if err := indicator.RSIInto(s.rsi, s.close, m.RSIPeriod); err != nil {
		return s, err
	}
	return s, indicator.BollingerInto(s.up, s.mid, s.lo, s.close, m.BandPeriod, m.BandWidth)
}

func (m MeanReversion) parts(s meanRevState, i int) (rsiVote, bandVote, pctB float64) {
	mid := (m.Oversold + m.Overbought) / 2
	r := s.rsi[i]
	if r <= mid {
		rsiVote = clamp((mid - r) / (mid - m.Oversold))
	} else {
		rsiVote = clamp(-(r - mid) / (m.Overbought - mid))
	}
	width := s.up[i] - s.lo[i]
	switch {
	case math.IsNaN(width):
		bandVote, pctB = math.NaN(), math.NaN()
	case width == 0:
		bandVote, pctB = 0, 0.5
	default:
		pctB = (s.close[i] - s.lo[i]) / width
		bandVote = clamp(1 - 2*pctB)
	}
	return rsiVote, bandVote, pctB
}

// Signals implements Strategy; the first signal comes at bar
// max(RSIPeriod, BandPeriod-1).
func (m MeanReversion) Signals(dst []float64, bs []providers.Bar) error {
	m, err := m.withDefaults()
	if err != nil {
		return err
	}
	if err := checkDst(m.Name(), dst, len(bs)); err != nil {
		return err
	}
	s, err := m.state(bs)
	if err != nil {
		return err
	}
	for i := range bs {
		r, b, _ := m.parts(s, i)
		dst[i] = (r + b) / 2
	}
	return nil
}

// Vote implements Strategy.
func (m MeanReversion) Vote(in Input) (Vote, error) {
	m, err := m.withDefaults()
	if err != nil {
		return Vote{}, err
	}
	need := max(m.RSIPeriod+1, m.BandPeriod)
	if len(in.Bars) < need {
		return abstain(m.Name(), "needs %d bars for RSI(%d) and Bollinger(%d), has %d",
			need, m.RSIPeriod, m.BandPeriod, len(in.Bars)), nil
	}
	s, err := m.state(in.Bars)
	if err != nil {
		return Vote{}, err
	}
	i := len(in.Bars) - 1
	r, b, pctB := m.parts(s, i)
	v := Vote{Strategy: m.Name(), Signal: (r + b) / 2}
	if math.IsNaN(v.Signal) {
		return abstain(m.Name(), "indicators undefined at the last bar"), nil
	}
	zone := "neutral"
	switch {
	case s.rsi[i] <= m.Oversold:
		zone = "oversold"
	case s.rsi[i] >= m.Overbought:
		zone = "overbought"
	}
	v.Reasons = []string{
		fmt.Sprintf("RSI(%d) %.1f is %s (%.0f/%.0f) (RSI vote %s)", m.RSIPeriod, s.rsi[i], zone, m.Oversold, m.Overbought, signed(r)),
		fmt.Sprintf("close %.4g at %.0f%% of Bollinger(%d, %.1f) band %.4g..%.4g (band vote %s)",
			s.close[i], 100*pctB, m.BandPeriod, m.BandWidth, s.lo[i], s.up[i], signed(b)),
	}
	return v, nil
}
