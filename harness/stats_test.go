package harness

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func series(n int, f func(i int) float64) []float64 {
	ys := make([]float64, n)
	for i := range ys {
		ys[i] = f(i + 1)
	}
	return ys
}

// step is 1 where cond holds, 0 elsewhere.
func step(cond bool) float64 {
	if cond {
		return 1
	}
	return 0
}

func TestSlope(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		give []float64
		want float64
	}{
		{"linear", series(50, func(i int) float64 { return 3 + 2*float64(i) }), 2},
		{"flat", series(50, func(int) float64 { return 7 }), 0},
		{"gaps", []float64{1, nan, nan, 4, nan, 6}, 1},
		{"one point", []float64{nan, 5, nan}, nan},
		{"empty", nil, nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slope(tt.give)
			if math.IsNaN(tt.want) {
				require.True(t, math.IsNaN(got), got)
				return
			}
			require.InDelta(t, tt.want, got, 1e-9)
		})
	}
}

func TestSteady(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		give []float64
		want bool
	}{
		{"one per iteration", series(50, func(i int) float64 { return float64(i) }), true},
		{"accelerating", series(50, func(i int) float64 { return float64(i * i) }), true},
		{"every other iteration", series(50, func(i int) float64 { return float64(i / 2) }), true},
		{"flat", series(50, func(int) float64 { return 10 }), false},
		{"one-time step", series(50, func(i int) float64 { return step(i > 10) }), false},
		{"step in the second half", series(50, func(i int) float64 { return 3 * step(i > 35) }), false},
		{"step at the last iteration", series(50, func(i int) float64 { return step(i == 50) }), false},
		{"step at the middle", series(50, func(i int) float64 { return 3 * step(i > 25) }), false},
		{"growth from a fifth of the run", series(50, func(i int) float64 { return float64(max(i-10, 0)) }), true},
		{"speeding up fourfold", series(50, func(i int) float64 { return math.Exp2(float64(i) / 25) }), true},
		{"grows then plateaus", series(50, func(i int) float64 { return float64(min(i, 20)) }), false},
		{"noise around a level", series(50, func(i int) float64 { return float64(i % 3) }), false},
		{"decelerating to a halt", series(50, func(i int) float64 { return math.Sqrt(float64(min(i, 30))) }), false},
		{"sparse heap points", []float64{100, nan, nan, 116, nan, nan, 132, nan, nan, 148}, true},
		{"too few points", []float64{1, nan, 2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, steady(tt.give))
		})
	}
}

func TestExtremesAndPercentile(t *testing.T) {
	hi, lo := extremes([]float64{3, math.NaN()}, []float64{-1, 9})
	require.Equal(t, 9.0, hi)
	require.Equal(t, -1.0, lo)
	hi, _ = extremes([]float64{math.NaN()})
	require.True(t, math.IsNaN(hi))

	ds := make([]time.Duration, 100)
	for i := range ds {
		ds[i] = time.Duration(100-i) * time.Millisecond
	}
	require.Equal(t, 50*time.Millisecond, percentile(ds, 0.5))
	require.Equal(t, 95*time.Millisecond, percentile(ds, 0.95))
	require.Equal(t, 100*time.Millisecond, percentile(ds, 1))
	require.Equal(t, time.Duration(0), percentile(nil, 0.5))
}
