package harness

import (
	"encoding/json"
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

func TestTail(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name      string
		base      float64
		give      []float64
		final     float64
		wantTail  float64
		wantSlope float64
	}{
		// 50 iterations: the window is iterations 26-50, from the point
		// after iteration 25.
		{"one per iteration", 10, series(50, func(i int) float64 { return 10 + float64(i) }), 60, 25, 1},
		{"pool filled by iteration 4", 10, series(50, func(i int) float64 { return 10 + float64(min(i, 4)*8) }), 42, 0, 0},
		// Over ten iterations or more, tail_slope runs between the medians
		// of five points at each end (centred on iterations 25 and 48).
		{"pool filled at iteration 26", 10, series(50, func(i int) float64 { return 10 + 5*step(i >= 26) }), 15, 5, 5.0 / 23},
		{"pool filled at iteration 25", 10, series(50, func(i int) float64 { return 10 + 5*step(i >= 25) }), 15, 0, 0},
		{"settled below the last point", 10, series(50, func(i int) float64 { return 12 + float64(min(i, 4)) }), 14, -2, 0},
		// A steady leak of 12 per iteration whose window starts on a high
		// point: the medians keep tail_slope near 12, where the endpoints
		// alone give 8.
		{"high point at the window's start", 0, series(50, func(i int) float64 { return 12*float64(i) + 100*step(i == 25) }), 600,
			200, (576.0 - 312) / 23},
		{"low final point", 0, series(50, func(i int) float64 { return 12 * float64(i) }), 500, 200, (564.0 - 300) / 23},
		// A dip below the baseline at the start of the window: a return to
		// the baseline is no growth.
		{"dip at the middle", 10, series(50, func(i int) float64 { return 10 - 2*step(i == 25) }), 10, 0, 0},
		{"odd count", 0, series(51, func(i int) float64 { return float64(i) }), 51, 25, 1},
		// Three iterations or fewer: the window starts at the baseline.
		{"three iterations", 5, []float64{6, 7, 8}, 8, 3, 1},
		{"one iteration", 5, []float64{6}, 6, 1, 1},
		{"no iterations", 5, nil, 5, 0, nan},
		// Heap points: the window starts at the latest point at or before
		// its start (iteration 4 of 10 instead of 5).
		{"sparse heap points", 100, []float64{116, nan, nan, 164, nan, nan, 212, nan, nan, 260}, 260, 96, 16},
		{"no baseline", nan, []float64{1, 2, 3, 4}, 4, nan, nan},
		{"no final", 0, []float64{1, 2, 3, 4}, nan, nan, nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tail, tailSlope := newTailer(tt.base, tt.give).at(len(tt.give), tt.final)
			if math.IsNaN(tt.wantTail) {
				require.True(t, math.IsNaN(tail), tail)
			} else {
				require.InDelta(t, tt.wantTail, tail, 1e-9)
			}
			switch {
			case math.IsNaN(tt.wantSlope):
				require.True(t, math.IsNaN(tailSlope), tailSlope)
			default:
				require.InDelta(t, tt.wantSlope, tailSlope, 1e-9)
			}
		})
	}
}

func TestTailStart(t *testing.T) {
	for _, tt := range []struct{ give, want int }{{0, 0}, {1, 0}, {3, 0}, {4, 1}, {6, 3}, {7, 4}, {10, 5}, {50, 25}, {51, 26}} {
		require.Equal(t, tt.want, tailStart(tt.give), "k=%d", tt.give)
	}
	// The start is the middle iteration, which has a heap point (gcMode).
	for n := 6; n <= 200; n++ {
		require.Equal(t, (n+1)/2, tailStart(n), "n=%d", n)
	}
}

func TestShapeOf(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name, metric, unit string
		delta, tail        float64
		want               Shape
	}{
		{"leak", MetricGoroutines, UnitCount, 50, 25, ShapeGrows},
		{"pool", MetricGoroutines, UnitCount, 32, 0, ShapeLevelsOff},
		{"settled", MetricGoroutines, UnitCount, 0, -3, ShapeFlat},
		{"one late", MetricFDs, UnitCount, 9, 1, ShapeGrows},
		{"threads the runtime starts", MetricThreads, UnitCount, 5, 2, ShapeLevelsOff},
		{"thread leak", MetricThreads, UnitCount, 50, 25, ShapeGrows},
		{"heap noise", MetricHeap, UnitBytes, 40 << 10, 8 << 10, ShapeFlat},
		{"rss noise over a pool", MetricRSS, UnitBytes, 12 << 20, 128 << 10, ShapeLevelsOff},
		{"rss leak", MetricRSS, UnitBytes, 50 << 20, 25 << 20, ShapeGrows},
		{"heap cache", MetricHeap, UnitBytes, 2 << 20, 4 << 10, ShapeLevelsOff},
		{"heap leak", MetricHeap, UnitBytes, 800 << 10, 400 << 10, ShapeGrows},
		{"probe", "cache", "", 1, 1, ShapeGrows},
		{"unmeasured", MetricRSS, UnitBytes, nan, nan, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, shapeOf(tt.metric, tt.unit, tt.delta, tt.tail))
		})
	}
}

// firstFail judges iteration k on a run of k iterations: a leak shows after
// the first; a pool that filled in iterations 1-4 and then took one more
// at iteration 30 first fails tail<=0 there.
func TestFirstFailTail(t *testing.T) {
	tail, err := ParseThreshold(MetricGoroutines, "tail<=0")
	require.NoError(t, err)
	tailSlope, err := ParseThreshold(MetricHeap, "tail_slope<8KiB")
	require.NoError(t, err)
	leak := series(50, func(i int) float64 { return 10 + float64(i) })
	require.Equal(t, 1, firstFail([]Threshold{tail}, 10, leak))
	late := series(50, func(i int) float64 { return 10 + float64(min(i, 4)) + step(i >= 30) })
	require.Equal(t, 30, firstFail([]Threshold{tail}, 10, late))
	heap := series(50, func(i int) float64 { return 1<<20 + float64(max(i-20, 0))*(16<<10) })
	got := firstFail([]Threshold{tailSlope}, 1<<20, heap)
	require.Greater(t, got, 21, "the slope of the last half passes 8 KiB a while after the leak starts")
	require.Less(t, got, 50)
}

// A result written before tail and shape existed reads with NaN tails and
// no shape.
func TestMetricJSONWithoutTail(t *testing.T) {
	var m MetricResult
	require.NoError(t, json.Unmarshal([]byte(`{"name":"fds","unit":"count","supported":true,"baseline":3,"final":4,
		"delta":1,"max":4,"min":3,"slope":0.1,"steady":false,"series":[4],"thresholds":[],"verdict":"none"}`), &m))
	require.True(t, math.IsNaN(m.Tail))
	require.True(t, math.IsNaN(m.TailSlope))
	require.Empty(t, m.Shape)

	m = MetricResult{Name: "fds", Tail: 2, TailSlope: 0.5, Shape: ShapeGrows, Series: []float64{}}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	require.Contains(t, string(b), `"tail":2,"tail_slope":0.5,"shape":"grows"`)
	var back MetricResult
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, 2.0, back.Tail)
	require.Equal(t, 0.5, back.TailSlope)
	require.Equal(t, ShapeGrows, back.Shape)
}

// released counts what only the final collection closed, at most delta: a
// descriptor dropped before the baseline and collected at the end is no
// growth of the run.
func TestReleased(t *testing.T) {
	nan := math.NaN()
	r := &runner{havePostGC: true,
		base:   []float64{10, 28, 28, 5, 10},
		final:  []float64{10, 35, 35, 9, nan},
		postGC: []float64{9, 28, 27, 5, 9},
	}
	require.Equal(t, 0.0, r.released(0, MetricFDs), "dropped before the baseline")
	require.Equal(t, 7.0, r.released(1, MetricFDs))
	require.Equal(t, 7.0, r.released(2, MetricConns), "one of the 8 was there at the baseline")
	require.Equal(t, 0.0, r.released(3, MetricGoroutines), "fds and conns only")
	require.Equal(t, 0.0, r.released(4, MetricFDs))
	r.havePostGC = false
	require.Equal(t, 0.0, r.released(1, MetricFDs), "another process: no collection")
}
