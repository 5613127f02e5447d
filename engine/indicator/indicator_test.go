package indicator

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var nan = math.NaN()

// requireSeries compares element-wise; NaN in want requires NaN in got,
// ±Inf the same infinity.
func requireSeries(t *testing.T, want, got []float64) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		switch {
		case math.IsNaN(want[i]):
			require.Truef(t, math.IsNaN(got[i]), "index %d: want NaN, got %v", i, got[i])
		case math.IsInf(want[i], 0):
			require.Equalf(t, want[i], got[i], "index %d", i)
		default:
			require.InDeltaf(t, want[i], got[i], 1e-9, "index %d", i)
		}
	}
}

func TestSMA(t *testing.T) {
	tests := []struct {
		name   string
		give   []float64
		period int
		want   []float64
	}{
		// (1+2+3)/3 = 2, (2+3+4)/3 = 3, (3+4+5)/3 = 4.
		{name: "period 3", give: []float64{1, 2, 3, 4, 5}, period: 3, want: []float64{nan, nan, 2, 3, 4}},
		{name: "period 1 is the input", give: []float64{4, 1, 7}, period: 1, want: []float64{4, 1, 7}},
		{name: "period longer than input", give: []float64{1, 2}, period: 3, want: []float64{nan, nan}},
		{name: "empty", give: nil, period: 3, want: []float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SMA(tt.give, tt.period)
			require.NoError(t, err)
			requireSeries(t, tt.want, got)
		})
	}
}

// A NaN or infinite input spoils only the windows that hold it.
func TestSMAAfterNonFinite(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name string
		give []float64
		want []float64
	}{
		// Windows of 2: [1 NaN] [NaN 3] [3 4] [4 5].
		{name: "NaN", give: []float64{1, nan, 3, 4, 5}, want: []float64{nan, nan, nan, 3.5, 4.5}},
		// [1 +Inf] [+Inf 3] [3 4]: the mean of a window with +Inf is +Inf.
		{name: "+Inf", give: []float64{1, inf, 3, 4}, want: []float64{nan, inf, inf, 3.5}},
		// [+Inf -Inf] has no mean; [-Inf 2] is -Inf.
		{name: "+Inf and -Inf", give: []float64{inf, -inf, 2, 6}, want: []float64{nan, nan, -inf, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SMA(tt.give, 2)
			require.NoError(t, err)
			requireSeries(t, tt.want, got)
		})
	}
}

func TestEMA(t *testing.T) {
	// alpha = 2/(3+1) = 0.5; seed at index 2 = (2+4+6)/3 = 4.
	// index 3: 0.5*8  + 0.5*4 = 6
	// index 4: 0.5*12 + 0.5*6 = 9
	// index 5: 0.5*6  + 0.5*9 = 7.5
	got, err := EMA([]float64{2, 4, 6, 8, 12, 6}, 3)
	require.NoError(t, err)
	requireSeries(t, []float64{nan, nan, 4, 6, 9, 7.5}, got)
}

func TestMACD(t *testing.T) {
	src := []float64{2, 4, 6, 8, 12, 6}
	// EMA(2), alpha 2/3, seed at 1 = (2+4)/2 = 3:
	//   2: 2/3*6  + 1/3*3    = 5
	//   3: 2/3*8  + 1/3*5    = 7
	//   4: 2/3*12 + 1/3*7    = 31/3
	//   5: 2/3*6  + 1/3*31/3 = 67/9
	// EMA(3) (see TestEMA): 4, 6, 9, 7.5 at indices 2..5.
	// Line = EMA(2)-EMA(3): 1, 1, 31/3-9 = 4/3, 67/9-15/2 = -1/18.
	// Signal = EMA(2) of the line from index 2, seed at 3 = (1+1)/2 = 1:
	//   4: 2/3*4/3     + 1/3*1    = 11/9
	//   5: 2/3*(-1/18) + 1/3*11/9 = -1/27 + 11/27 = 10/27
	// Hist = Line-Signal: 0, 4/3-11/9 = 1/9, -1/18-10/27 = -23/54.
	got, err := MACD(src, 2, 3, 2)
	require.NoError(t, err)
	requireSeries(t, []float64{nan, nan, 1, 1, 4.0 / 3, -1.0 / 18}, got.Line)
	requireSeries(t, []float64{nan, nan, nan, 1, 11.0 / 9, 10.0 / 27}, got.Signal)
	requireSeries(t, []float64{nan, nan, nan, 0, 1.0 / 9, -23.0 / 54}, got.Hist)
}

func TestRSI(t *testing.T) {
	tests := []struct {
		name string
		give []float64
		want []float64
	}{
		{
			// changes: +1, -0.5, +1, +0.5, -1
			// index 3: gain (1+0+1)/3 = 2/3, loss 0.5/3 = 1/6, RS 4, RSI 100-100/5 = 80
			// index 4: gain (2/3*2+0.5)/3 = 11/18, loss (1/6*2+0)/3 = 1/9,
			//          RS 5.5, RSI 100-100/6.5 = 1100/13
			// index 5: gain (11/18*2+0)/3 = 11/27, loss (1/9*2+1)/3 = 11/27, RSI 50
			name: "mixed",
			give: []float64{10, 11, 10.5, 11.5, 12, 11},
			want: []float64{nan, nan, nan, 80, 1100.0 / 13, 50},
		},
		{name: "only gains", give: []float64{1, 2, 3, 4, 5}, want: []float64{nan, nan, nan, 100, 100}},
		{name: "only losses", give: []float64{5, 4, 3, 2}, want: []float64{nan, nan, nan, 0}},
		{name: "flat", give: []float64{3, 3, 3, 3}, want: []float64{nan, nan, nan, 50}},
		{name: "too short", give: []float64{1, 2, 3}, want: []float64{nan, nan, nan}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RSI(tt.give, 3)
			require.NoError(t, err)
			requireSeries(t, tt.want, got)
		})
	}
}

func TestBollinger(t *testing.T) {
	// Window [1 2 3]: mean 2, population variance (1+0+1)/3 = 2/3.
	// Window [2 3 5]: mean 10/3, deviations -4/3 -1/3 5/3,
	//                 variance (16+1+25)/9/3 = 14/9, sd = sqrt(14)/3.
	sd2, sd3 := math.Sqrt(2.0/3), math.Sqrt(14)/3
	wantMid := []float64{nan, nan, 2, 10.0 / 3}
	wantUp := []float64{nan, nan, 2 + 2*sd2, 10.0/3 + 2*sd3}
	wantLow := []float64{nan, nan, 2 - 2*sd2, 10.0/3 - 2*sd3}
	tests := []struct {
		name  string
		shift float64
	}{
		{name: "small prices", shift: 0},
		// The same window a million higher: the bands move, their width must not.
		{name: "high prices", shift: 1e6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := []float64{1, 2, 3, 5}
			for i := range src {
				src[i] += tt.shift
			}
			got, err := Bollinger(src, 3, 2)
			require.NoError(t, err)
			requireSeries(t, addTo(wantMid, tt.shift), got.Middle)
			requireSeries(t, addTo(wantUp, tt.shift), got.Upper)
			requireSeries(t, addTo(wantLow, tt.shift), got.Lower)
		})
	}
}

// A NaN input, even the first one, spoils only the bands of the windows
// that hold it.
func TestBollingerAfterNaN(t *testing.T) {
	// Windows of 3: [NaN 1 2] [1 2 3] [2 3 5]; see TestBollinger for the last
	// two.
	got, err := Bollinger([]float64{nan, 1, 2, 3, 5}, 3, 2)
	require.NoError(t, err)
	sd, sd2 := math.Sqrt(2.0/3), math.Sqrt(14)/3
	requireSeries(t, []float64{nan, nan, nan, 2, 10.0 / 3}, got.Middle)
	requireSeries(t, []float64{nan, nan, nan, 2 + 2*sd, 10.0/3 + 2*sd2}, got.Upper)
	requireSeries(t, []float64{nan, nan, nan, 2 - 2*sd, 10.0/3 - 2*sd2}, got.Lower)
}

func addTo(s []float64, c float64) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = v + c
	}
	return out
}

func TestATR(t *testing.T) {
	high := []float64{10, 11, 12, 11}
	low := []float64{8, 9, 11, 9}
	closes := []float64{9, 10.5, 11.5, 9.5}
	// TR: bar 0: 10-8 = 2
	//     bar 1: max(11-9, |11-9|, |9-9|)            = 2
	//     bar 2: max(12-11, |12-10.5|, |11-10.5|)    = 1.5
	//     bar 3: max(11-9, |11-11.5|, |9-11.5|)      = 2.5 (gap down)
	// ATR(2): index 1 = (2+2)/2 = 2; index 2 = (2*1+1.5)/2 = 1.75;
	//         index 3 = (1.75*1+2.5)/2 = 2.125.
	got, err := ATR(high, low, closes, 2)
	require.NoError(t, err)
	requireSeries(t, []float64{nan, 2, 1.75, 2.125}, got)
}

func TestROC(t *testing.T) {
	// index 2: 12/10-1 = 0.2; index 3: 9.9/11-1 = -0.1; index 4: 13/12-1 = 1/12.
	got, err := ROC([]float64{10, 11, 12, 9.9, 13}, 2)
	require.NoError(t, err)
	requireSeries(t, []float64{nan, nan, 0.2, -0.1, 1.0 / 12}, got)
	// A zero base has no rate of change.
	got, err = ROC([]float64{0, 1, 2}, 2)
	require.NoError(t, err)
	requireSeries(t, []float64{nan, nan, nan}, got)
}

func TestParamErrors(t *testing.T) {
	src := []float64{1, 2, 3}
	short := make([]float64, 2)
	tests := []struct {
		name string
		call func() error
	}{
		{"SMA period 0", func() error { _, err := SMA(src, 0); return err }},
		{"SMA short destination", func() error { return SMAInto(short, src, 2) }},
		{"EMA negative period", func() error { _, err := EMA(src, -1); return err }},
		{"MACD fast not below slow", func() error { _, err := MACD(src, 26, 12, 9); return err }},
		{"MACD signal 0", func() error { _, err := MACD(src, 12, 26, 0); return err }},
		{"MACD short histogram", func() error { return MACDInto(src, src, short, src, 1, 2, 1) }},
		{"RSI period 0", func() error { _, err := RSI(src, 0); return err }},
		{"Bollinger negative width", func() error { _, err := Bollinger(src, 2, -1); return err }},
		{"Bollinger NaN width", func() error { _, err := Bollinger(src, 2, nan); return err }},
		{"ATR length mismatch", func() error { _, err := ATR(src, short, src, 2); return err }},
		{"ROC period 0", func() error { _, err := ROC(src, 0); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.call(), ErrParam)
		})
	}
}

// allInto runs every indicator in its allocation-free form and returns the
// outputs in a fixed order.
func allInto(t testing.TB, out [][]float64, high, low, closes []float64) {
	require.NoError(t, SMAInto(out[0], closes, 5))
	require.NoError(t, EMAInto(out[1], closes, 5))
	require.NoError(t, MACDInto(out[2], out[3], out[4], closes, 3, 7, 4))
	require.NoError(t, RSIInto(out[5], closes, 5))
	require.NoError(t, BollingerInto(out[6], out[7], out[8], closes, 5, 2))
	require.NoError(t, ATRInto(out[9], high, low, closes, 5))
	require.NoError(t, ROCInto(out[10], closes, 5))
}

func randomBars(n int, seed uint64) (high, low, closes []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	high, low, closes = make([]float64, n), make([]float64, n), make([]float64, n)
	p := 100.0
	for i := range closes {
		p *= 1 + 0.02*(r.Float64()-0.5)
		closes[i] = p
		high[i] = p * (1 + 0.01*r.Float64())
		low[i] = p * (1 - 0.01*r.Float64())
	}
	return high, low, closes
}

func newOut(n int) [][]float64 {
	out := make([][]float64, 11)
	for i := range out {
		out[i] = make([]float64, n)
	}
	return out
}

// Changing bar k must not change any indicator value before k.
func TestNoLookAhead(t *testing.T) {
	const n, k = 60, 40
	high, low, closes := randomBars(n, 7)
	before := newOut(n)
	allInto(t, before, high, low, closes)
	high[k], low[k], closes[k] = high[k]*1.5, low[k]*0.5, closes[k]*1.2
	after := newOut(n)
	allInto(t, after, high, low, closes)
	for j := range before {
		require.Equalf(t, bitsOf(before[j][:k]), bitsOf(after[j][:k]), "output %d changed before bar %d", j, k)
		require.NotEqualf(t, bitsOf(before[j][k:]), bitsOf(after[j][k:]), "output %d ignores bar %d", j, k)
	}
}

// bitsOf makes NaN comparable: equal slices have equal bit patterns.
func bitsOf(s []float64) []uint64 {
	out := make([]uint64, len(s))
	for i, v := range s {
		out[i] = math.Float64bits(v)
	}
	return out
}

func TestIntoMatchesConvenienceWithoutAllocating(t *testing.T) {
	const n = 200
	high, low, closes := randomBars(n, 3)
	out := newOut(n + 10) // longer destinations are fine
	allocs := testing.AllocsPerRun(10, func() { allInto(t, out, high, low, closes) })
	require.Zero(t, allocs)

	sma, err := SMA(closes, 5)
	require.NoError(t, err)
	requireSeries(t, sma, out[0][:n])
	macd, err := MACD(closes, 3, 7, 4)
	require.NoError(t, err)
	requireSeries(t, macd.Hist, out[4][:n])
	bb, err := Bollinger(closes, 5, 2)
	require.NoError(t, err)
	requireSeries(t, bb.Lower, out[8][:n])
}
