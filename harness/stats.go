package harness

import (
	"math"
	"slices"
	"time"
)

// slope returns the least-squares slope of the points (x, ys[x-1]) for
// x = 1..len(ys), skipping NaN values; NaN with fewer than two points.
func slope(ys []float64) float64 { return slopeRange(ys, 0, len(ys)) }

// slopeRange is slope over ys[lo:hi], with x still the iteration number.
func slopeRange(ys []float64, lo, hi int) float64 {
	var n, sx, sy, sxx, sxy float64
	for i := lo; i < hi; i++ {
		y := ys[i]
		if math.IsNaN(y) {
			continue
		}
		x := float64(i + 1)
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	den := n*sxx - sx*sx
	if n < 2 || den == 0 {
		return math.NaN()
	}
	return (n*sxy - sx*sy) / den
}

// steady reports whether a series grows steadily rather than in a one-time
// step: split at the middle measured point (which belongs to both halves),
// the second half must still rise, end to end, and both halves'
// least-squares slopes must be positive, the second's at least half the
// first's and the first's at least a quarter of the second's. A series that
// grows and then plateaus, or jumps once in the first half, fails on the
// second half's slope; one that jumps once in the second half fails on the
// first half's. Growth that speeds up stays steady unless it starts late in
// the run.
func steady(ys []float64) bool {
	var idx []int
	for i, y := range ys {
		if !math.IsNaN(y) {
			idx = append(idx, i)
		}
	}
	if len(idx) < 3 {
		return false
	}
	mid := idx[len(idx)/2]
	last := idx[len(idx)-1]
	s1 := slopeRange(ys, idx[0], mid+1)
	s2 := slopeRange(ys, mid, last+1)
	if math.IsNaN(s1) || math.IsNaN(s2) {
		return false
	}
	return ys[last] > ys[mid] && s1 > 0 && s2 > 0 && s2 >= s1/2 && s1 >= s2/4
}

// extremes returns the maximum and minimum of the non-NaN values.
func extremes(vs ...[]float64) (hi, lo float64) {
	hi, lo = math.NaN(), math.NaN()
	for _, v := range vs {
		for _, x := range v {
			if math.IsNaN(x) {
				continue
			}
			if math.IsNaN(hi) || x > hi {
				hi = x
			}
			if math.IsNaN(lo) || x < lo {
				lo = x
			}
		}
	}
	return hi, lo
}

// percentile returns the p-th percentile (0..1) of ds by the nearest-rank
// method; 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(rank, 0)]
}

// minTail is the fewest iterations in the tail window.
const minTail = 3

// tailStart returns where the tail window of a run of k measured iterations
// starts, as an index into the points of the run (0 the baseline, i the
// point after measured iteration i): the window is the last half of the
// iterations, at least minTail of them. Its start is then the middle point,
// which always has a heap point (see gcMode); with minTail iterations or
// fewer it is the baseline.
func tailStart(k int) int { return max(k-max(k/2, minTail), 0) }

// tailer computes the tail statistics of any prefix of a series: tail, the
// final value minus the value at the start of the tail window (or the
// baseline, if higher), and tail_slope, tail per iteration of the window
// (over a window of ten iterations or more, between the medians of the five
// points at each end).
// Each prefix costs O(1), so that firstFail stays linear in the length of
// a soak run.
//
// tail_slope is not a least-squares fit: a heap read from another
// process's metrics endpoint moves only at that process's collections, in
// steps, and a fit over half the run weighs a step in the middle of the
// window by up to 1.5 times its height per iteration of the window, twice
// the noise of the whole run's slope. Growth per iteration weighs any step
// by its height alone, and a steady leak at its rate.
type tailer struct {
	base float64
	pts  []float64 // pts[0] the baseline, pts[i] the point after iteration i
	last []int     // last[i]: the latest index <= i with a value, -1 if none
	// settled, when not NaN, is a settled value of point settledIdx: the
	// start of the window when it is that point and lower.
	settledIdx int
	settled    float64
}

// settledAt records v, a value the metric settled to after point k, for
// the window that starts there. NaN records nothing.
func (t *tailer) settledAt(k int, v float64) { t.settledIdx, t.settled = k, v }

func newTailer(baseline float64, series []float64) *tailer {
	t := &tailer{base: baseline, pts: make([]float64, 0, len(series)+1), settled: math.NaN()}
	t.pts = append(append(t.pts, baseline), series...)
	t.last = make([]int, len(t.pts))
	prev := -1
	for i, y := range t.pts {
		if !math.IsNaN(y) {
			prev = i
		}
		t.last[i] = prev
	}
	return t
}

// at returns tail and tail_slope for the first k measured iterations, with
// final as their final value. The window starts at the latest point with a
// value at or before tailStart(k). Both are NaN when the final value or the
// baseline is, tail_slope also when there are no iterations.
func (t *tailer) at(k int, final float64) (tail, tailSlope float64) {
	k = min(k, len(t.pts)-1)
	j := t.last[tailStart(k)]
	if j < 0 || math.IsNaN(t.base) {
		return math.NaN(), math.NaN()
	}
	// A start below the baseline (a count that dipped while something of
	// the warm-up ended) does not make a return to the baseline growth:
	// tail is never more than delta.
	start := t.pts[j]
	if j == t.settledIdx && t.settled < start {
		start = t.settled
	}
	tail = final - max(t.base, start)
	if k == j {
		return tail, math.NaN()
	}
	if k-j < 2*levelPoints {
		return tail, tail / float64(k-j)
	}
	// Over a longer window, each end is the median of the points around
	// it, so that one high or low point at either end (a buffer a pool
	// keeps for a moment) neither hides a steady leak nor makes one.
	start, cs := t.level(max(j-levelPoints/2, 0), j+levelPoints/2, k, final)
	end, ce := t.level(k-levelPoints+1, k, k, final)
	if math.IsNaN(start) || math.IsNaN(end) || ce <= cs {
		return tail, tail / float64(k-j)
	}
	return tail, (end - max(t.base, start)) / (ce - cs)
}

// levelPoints is how many points the median at each end of a long tail
// window takes.
const levelPoints = 5

// level returns the median of the points with a value in pts[lo..hi],
// with final in place of pts[k], and the mean of their indices; NaN when
// none has a value.
func (t *tailer) level(lo, hi, k int, final float64) (median, center float64) {
	var buf [levelPoints]float64
	vs := buf[:0]
	var sum, n float64
	for i := lo; i <= hi && len(vs) < levelPoints; i++ {
		y := t.pts[i]
		if i == k {
			y = final
		}
		if math.IsNaN(y) {
			continue
		}
		vs = append(vs, y)
		sum += float64(i)
		n++
	}
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		median = vs[len(vs)/2]
	} else {
		median = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	return median, sum / n
}
