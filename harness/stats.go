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
