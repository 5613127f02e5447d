package backtest

import (
	"fmt"
	"math"
)

// SMAParams are the periods of an SMA cross.
type SMAParams struct {
	// Fast is the shorter period.
	Fast int `json:"fast"`
	// Slow is the longer period.
	Slow int `json:"slow"`
}

func (p SMAParams) check(n int) error {
	if p.Fast < 1 || p.Fast >= p.Slow {
		return fmt.Errorf("backtest: SMA cross %d/%d needs 1 ≤ fast < slow: %w", p.Fast, p.Slow, ErrParam)
	}
	if p.Slow > n {
		return fmt.Errorf("backtest: SMA cross %d/%d needs %d bars, the series has %d: %w", p.Fast, p.Slow, p.Slow, n, ErrParam)
	}
	return nil
}

// smaSignals writes the SMA-cross signal from prefix sums of closes into
// dst: +1 while SMA(fast) > SMA(slow), -1 while below, 0 when equal, NaN
// before bar slow-1.
func smaSignals(dst, cum []float64, p SMAParams) { smaSignalsRange(dst, cum, p, 0, len(cum)-1) }

// smaSignalsRange writes the signals of bars [from, to) only.
func smaSignalsRange(dst, cum []float64, p SMAParams, from, to int) {
	nan := math.NaN()
	first := max(from, p.Slow-1)
	for i := from; i < min(first, to); i++ {
		dst[i] = nan
	}
	// Compare sums scaled by the other period: fastSum/fast > slowSum/slow
	// without dividing.
	ff, fs := float64(p.Fast), float64(p.Slow)
	for i := first; i < to; i++ {
		f := (cum[i+1] - cum[i+1-p.Fast]) * fs
		s := (cum[i+1] - cum[i+1-p.Slow]) * ff
		switch {
		case f > s:
			dst[i] = 1
		case f < s:
			dst[i] = -1
		default:
			dst[i] = 0
		}
	}
}

// SMACross backtests the SMA(fast)/SMA(slow) cross of closing prices over
// s: long while the fast average is above the slow one, short (with
// AllowShort) or flat while below. It is the allocation-free fast path:
// after the first call for a series length it allocates nothing. It
// returns the metrics without a trade list; Equity returns the curve until
// the next run. Signals agree with strategy.SMACross.
func (b *Backtester) SMACross(s *Series, fast, slow int, cfg Config) (Metrics, error) {
	if s == nil {
		return Metrics{}, fmt.Errorf("backtest: nil series: %w", ErrParam)
	}
	p := SMAParams{Fast: fast, Slow: slow}
	if err := p.check(s.Len()); err != nil {
		return Metrics{}, err
	}
	cfg, c, err := cfg.resolve(BarsPerYear(s.Class))
	if err != nil {
		return Metrics{}, err
	}
	n := s.Len()
	b.signal = grow(b.signal, n)
	b.equity = grow(b.equity, n)
	smaSignals(b.signal, s.cum, p)
	return simulate(s, b.signal, cfg, c, 0, n, b.equity, nil).metrics(b.equity, cfg), nil
}
