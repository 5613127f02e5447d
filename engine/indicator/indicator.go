package indicator

import (
	"errors"
	"fmt"
	"math"
)

// ErrParam is wrapped by every error about an invalid argument: a period
// below 1, a destination slice shorter than the input, or inputs of
// different lengths.
var ErrParam = errors.New("invalid parameter")

func checkPeriod(name string, period int) error {
	if period < 1 {
		return fmt.Errorf("indicator: %s period %d is below 1: %w", name, period, ErrParam)
	}
	return nil
}

func checkDst(name, which string, dst []float64, n int) error {
	if len(dst) < n {
		return fmt.Errorf("indicator: %s %s holds %d values, the input has %d; pass a slice at least as long as the input: %w",
			name, which, len(dst), n, ErrParam)
	}
	return nil
}

func fillNaN(dst []float64) {
	nan := math.NaN()
	for i := range dst {
		dst[i] = nan
	}
}

// SMAInto writes the simple moving average of src over period into dst.
// dst[i] is the mean of src[i-period+1..i]; the first period-1 values are
// NaN (dst[period-1] is the first value). A NaN input makes NaN only the
// means whose window holds it.
func SMAInto(dst, src []float64, period int) error {
	if err := checkPeriod("SMA", period); err != nil {
		return err
	}
	if err := checkDst("SMA", "destination", dst, len(src)); err != nil {
		return err
	}
	smaFrom(dst[:len(src)], src, period, 0)
	return nil
}

// SMA returns the simple moving average of src over period; see SMAInto.
func SMA(src []float64, period int) ([]float64, error) {
	dst := make([]float64, len(src))
	return dst, SMAInto(dst, src, period)
}

// smaFrom computes the SMA of src[start:] into dst (NaN before
// start+period-1).
func smaFrom(dst, src []float64, period, start int) {
	first := start + period - 1
	if first >= len(src) {
		fillNaN(dst)
		return
	}
	fillNaN(dst[:first])
	// sum holds the finite values of the window and bad counts the others,
	// so a NaN or ±Inf spoils only the windows that hold it: a running sum
	// that took it in would stay NaN (NaN-NaN, Inf-Inf) after it left.
	var sum float64
	var bad int
	for i := start; i <= first; i++ {
		sum, bad = enter(sum, bad, src[i])
	}
	p := float64(period)
	for i := first; i < len(src); i++ {
		if i > first {
			x, y := src[i], src[i-period]
			if finite(x) && finite(y) {
				sum += x - y
			} else {
				sum, bad = enter(sum, bad, x)
				sum, bad = leave(sum, bad, y)
			}
		}
		if bad == 0 {
			dst[i] = sum / p
		} else {
			dst[i] = mean(src[i+1-period : i+1])
		}
	}
}

// finite reports whether x is neither NaN nor ±Inf: x-x is 0 exactly then.
func finite(x float64) bool { return x-x == 0 }

// enter adds x to a window's finite sum, or counts it as bad.
func enter(sum float64, bad int, x float64) (float64, int) {
	if finite(x) {
		return sum + x, bad
	}
	return sum, bad + 1
}

// leave takes x, entered before, out of a window's finite sum or bad count.
func leave(sum float64, bad int, x float64) (float64, int) {
	if finite(x) {
		return sum - x, bad
	}
	return sum, bad - 1
}

// mean is the plain mean of w, NaN or ±Inf as IEEE arithmetic gives it.
func mean(w []float64) float64 {
	var sum float64
	for _, x := range w {
		sum += x
	}
	return sum / float64(len(w))
}

// EMAInto writes the exponential moving average of src over period into
// dst, with smoothing factor alpha = 2/(period+1):
//
//	dst[i] = alpha*src[i] + (1-alpha)*dst[i-1]
//
// It is seeded with the simple average of the first period values, so the
// first period-1 values are NaN and dst[period-1] = SMA(period) at that bar
// (the convention of TA-Lib and most charting tools).
func EMAInto(dst, src []float64, period int) error {
	if err := checkPeriod("EMA", period); err != nil {
		return err
	}
	if err := checkDst("EMA", "destination", dst, len(src)); err != nil {
		return err
	}
	emaFrom(dst[:len(src)], src, period, 0)
	return nil
}

// EMA returns the exponential moving average of src over period; see
// EMAInto.
func EMA(src []float64, period int) ([]float64, error) {
	dst := make([]float64, len(src))
	return dst, EMAInto(dst, src, period)
}

// emaFrom computes the EMA of src[start:], seeded with the SMA of
// src[start:start+period], into dst (NaN before start+period-1). dst may
// alias src.
func emaFrom(dst, src []float64, period, start int) {
	first := start + period - 1
	if first >= len(src) {
		fillNaN(dst)
		return
	}
	var sum float64
	for i := start; i <= first; i++ {
		sum += src[i]
	}
	alpha := 2 / float64(period+1)
	prev := sum / float64(period)
	for i := first + 1; i < len(src); i++ {
		prev = alpha*src[i] + (1-alpha)*prev
		dst[i] = prev
	}
	dst[first] = sum / float64(period)
	fillNaN(dst[:first])
}

// MACDResult holds the three MACD series, each as long as the input.
type MACDResult struct {
	// Line is EMA(fast) - EMA(slow); NaN before index slow-1.
	Line []float64
	// Signal is the EMA(signal) of Line, seeded with the mean of the first
	// signal Line values; NaN before index slow+signal-2.
	Signal []float64
	// Hist is Line - Signal; NaN where Signal is.
	Hist []float64
}

// MACDInto writes the moving average convergence/divergence of src into
// line, signal and hist (see MACDResult for the warm-up of each). fast must
// be below slow; the usual parameters are 12, 26 and 9.
func MACDInto(line, signal, hist, src []float64, fast, slow, sig int) error {
	for _, p := range []struct {
		name string
		v    int
	}{{"MACD fast", fast}, {"MACD slow", slow}, {"MACD signal", sig}} {
		if err := checkPeriod(p.name, p.v); err != nil {
			return err
		}
	}
	if fast >= slow {
		return fmt.Errorf("indicator: MACD fast period %d must be below slow period %d: %w", fast, slow, ErrParam)
	}
	n := len(src)
	for _, d := range []struct {
		name string
		s    []float64
	}{{"line", line}, {"signal", signal}, {"histogram", hist}} {
		if err := checkDst("MACD", d.name, d.s, n); err != nil {
			return err
		}
	}
	line, signal, hist = line[:n], signal[:n], hist[:n]
	emaFrom(line, src, fast, 0)
	emaFrom(hist, src, slow, 0) // hist is scratch for EMA(slow) here
	for i := range line {
		line[i] -= hist[i] // NaN until slow-1
	}
	emaFrom(signal, line, sig, slow-1)
	for i := range hist {
		hist[i] = line[i] - signal[i]
	}
	return nil
}

// MACD returns the MACD of src; see MACDInto.
func MACD(src []float64, fast, slow, sig int) (MACDResult, error) {
	n := len(src)
	buf := make([]float64, 3*n)
	r := MACDResult{Line: buf[:n:n], Signal: buf[n : 2*n : 2*n], Hist: buf[2*n:]}
	if err := MACDInto(r.Line, r.Signal, r.Hist, src, fast, slow, sig); err != nil {
		return MACDResult{}, err
	}
	return r, nil
}

// RSIInto writes Wilder's relative strength index of src over period into
// dst, in [0, 100]. With changes d[i] = src[i]-src[i-1], the first average
// gain and loss are the plain means of the first period gains and losses
// (d[1..period]); later ones use Wilder's smoothing
//
//	avg[i] = (avg[i-1]*(period-1) + x[i]) / period
//
// and RSI = 100 - 100/(1 + avgGain/avgLoss). The first period values are
// NaN (dst[period] is the first value). With no losses in the window RSI is
// 100, and 50 when there was no change at all.
func RSIInto(dst, src []float64, period int) error {
	if err := checkPeriod("RSI", period); err != nil {
		return err
	}
	if err := checkDst("RSI", "destination", dst, len(src)); err != nil {
		return err
	}
	n := len(src)
	dst = dst[:n]
	if period >= n {
		fillNaN(dst)
		return nil
	}
	fillNaN(dst[:period])
	var gain, loss float64
	for i := 1; i <= period; i++ {
		d := src[i] - src[i-1]
		if d > 0 {
			gain += d
		} else {
			loss -= d
		}
	}
	p := float64(period)
	gain /= p
	loss /= p
	dst[period] = rsi(gain, loss)
	for i := period + 1; i < n; i++ {
		d := src[i] - src[i-1]
		var g, l float64
		if d > 0 {
			g = d
		} else {
			l = -d
		}
		gain = (gain*(p-1) + g) / p
		loss = (loss*(p-1) + l) / p
		dst[i] = rsi(gain, loss)
	}
	return nil
}

func rsi(gain, loss float64) float64 {
	switch {
	case loss == 0 && gain == 0:
		return 50
	case loss == 0:
		return 100
	}
	return 100 - 100/(1+gain/loss)
}

// RSI returns Wilder's RSI of src; see RSIInto.
func RSI(src []float64, period int) ([]float64, error) {
	dst := make([]float64, len(src))
	return dst, RSIInto(dst, src, period)
}

// Bands holds Bollinger Bands, each as long as the input.
type Bands struct {
	// Upper is Middle plus k standard deviations.
	Upper []float64
	// Middle is the simple moving average.
	Middle []float64
	// Lower is Middle minus k standard deviations.
	Lower []float64
}

// BollingerInto writes Bollinger Bands of src into upper, middle and lower:
// middle is SMA(period) and the bands are middle ± k standard deviations of
// the same window. The standard deviation is the population one (divide by
// period), as in Bollinger's definition. The first period-1 values are NaN,
// and so are the bands of every window that holds a NaN input (its middle is
// the window's plain mean).
// The usual parameters are 20 and 2.
func BollingerInto(upper, middle, lower, src []float64, period int, k float64) error {
	if err := checkPeriod("Bollinger", period); err != nil {
		return err
	}
	if math.IsNaN(k) || math.IsInf(k, 0) || k < 0 {
		return fmt.Errorf("indicator: Bollinger width %v must be a finite number ≥ 0: %w", k, ErrParam)
	}
	n := len(src)
	for _, d := range []struct {
		name string
		s    []float64
	}{{"upper", upper}, {"middle", middle}, {"lower", lower}} {
		if err := checkDst("Bollinger", d.name, d.s, n); err != nil {
			return err
		}
	}
	upper, middle, lower = upper[:n], middle[:n], lower[:n]
	first := period - 1
	if first >= n {
		fillNaN(upper)
		fillNaN(middle)
		fillNaN(lower)
		return nil
	}
	fillNaN(upper[:first])
	fillNaN(middle[:first])
	fillNaN(lower[:first])
	// Sums are of values shifted by the first finite input, which keeps the
	// variance E[x²]-E[x]² from cancelling catastrophically at high price
	// levels. As in smaFrom, non-finite inputs are counted, not summed, so
	// they spoil only the windows that hold them.
	var shift float64
	for _, x := range src {
		if finite(x) {
			shift = x
			break
		}
	}
	var sum, sq float64
	var bad int
	// add puts x into the window (sign 1) or takes it out (sign -1).
	add := func(x float64, sign int) {
		if !finite(x) {
			bad += sign
			return
		}
		d := x - shift
		sum += float64(sign) * d
		sq += float64(sign) * d * d
	}
	for i := 0; i < first; i++ {
		add(src[i], 1)
	}
	p := float64(period)
	for i := first; i < n; i++ {
		add(src[i], 1)
		if i > first {
			add(src[i-period], -1)
		}
		if bad > 0 {
			// The deviation of a window with NaN or ±Inf is NaN.
			middle[i], upper[i], lower[i] = mean(src[i+1-period:i+1]), math.NaN(), math.NaN()
			continue
		}
		avg := sum / p
		v := math.Max(sq/p-avg*avg, 0)
		sd := math.Sqrt(v)
		m := avg + shift
		middle[i] = m
		upper[i] = m + k*sd
		lower[i] = m - k*sd
	}
	return nil
}

// Bollinger returns Bollinger Bands of src; see BollingerInto.
func Bollinger(src []float64, period int, k float64) (Bands, error) {
	n := len(src)
	buf := make([]float64, 3*n)
	b := Bands{Upper: buf[:n:n], Middle: buf[n : 2*n : 2*n], Lower: buf[2*n:]}
	if err := BollingerInto(b.Upper, b.Middle, b.Lower, src, period, k); err != nil {
		return Bands{}, err
	}
	return b, nil
}

// ATRInto writes Wilder's average true range over period into dst. The true
// range of bar i is max(high-low, |high-close[i-1]|, |low-close[i-1]|), and
// high-low for the first bar, which has no previous close. The first ATR is
// the plain mean of the first period true ranges, at index period-1 (the
// first period-1 values are NaN); later ones use Wilder's smoothing
//
//	atr[i] = (atr[i-1]*(period-1) + tr[i]) / period
//
// high, low and close must have the same length.
func ATRInto(dst, high, low, close []float64, period int) error {
	if err := checkPeriod("ATR", period); err != nil {
		return err
	}
	n := len(close)
	if len(high) != n || len(low) != n {
		return fmt.Errorf("indicator: ATR inputs differ in length (high %d, low %d, close %d): %w",
			len(high), len(low), n, ErrParam)
	}
	if err := checkDst("ATR", "destination", dst, n); err != nil {
		return err
	}
	dst = dst[:n]
	first := period - 1
	if first >= n {
		fillNaN(dst)
		return nil
	}
	fillNaN(dst[:first])
	var sum float64
	for i := 0; i <= first; i++ {
		sum += trueRange(high, low, close, i)
	}
	p := float64(period)
	atr := sum / p
	dst[first] = atr
	for i := first + 1; i < n; i++ {
		atr = (atr*(p-1) + trueRange(high, low, close, i)) / p
		dst[i] = atr
	}
	return nil
}

func trueRange(high, low, close []float64, i int) float64 {
	tr := high[i] - low[i]
	if i == 0 {
		return tr
	}
	return math.Max(tr, math.Max(math.Abs(high[i]-close[i-1]), math.Abs(low[i]-close[i-1])))
}

// ATR returns Wilder's average true range; see ATRInto.
func ATR(high, low, close []float64, period int) ([]float64, error) {
	dst := make([]float64, len(close))
	return dst, ATRInto(dst, high, low, close, period)
}

// ROCInto writes the rate of change of src over period into dst, as a
// fraction: dst[i] = src[i]/src[i-period] - 1 (0.05 is +5%). The first
// period values are NaN, and so is any value whose base src[i-period] is 0.
func ROCInto(dst, src []float64, period int) error {
	if err := checkPeriod("ROC", period); err != nil {
		return err
	}
	if err := checkDst("ROC", "destination", dst, len(src)); err != nil {
		return err
	}
	n := len(src)
	dst = dst[:n]
	if period >= n {
		fillNaN(dst)
		return nil
	}
	fillNaN(dst[:period])
	for i := period; i < n; i++ {
		base := src[i-period]
		if base == 0 {
			dst[i] = math.NaN()
			continue
		}
		dst[i] = src[i]/base - 1
	}
	return nil
}

// ROC returns the rate of change of src; see ROCInto.
func ROC(src []float64, period int) ([]float64, error) {
	dst := make([]float64, len(src))
	return dst, ROCInto(dst, src, period)
}
