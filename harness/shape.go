package harness

import "math"

// Shape says how a metric moved over a run: not at all, up and then level
// (a pool that fills, a cache, a one-time step), or up to the end (a leak).
// It is computed from delta and tail (see "Statistics" in the package
// documentation) and is reported, not a verdict: thresholds decide.
type Shape string

// Shapes of a metric. A metric that could not be measured has none ("").
const (
	// ShapeFlat: the final value is not above the baseline.
	ShapeFlat Shape = "flat"
	// ShapeLevelsOff: the metric grew, but not over the tail window, the
	// last half of the run.
	ShapeLevelsOff Shape = "levels off"
	// ShapeGrows: the metric still grew over the tail window.
	ShapeGrows Shape = "grows"
)

// shapeNoise is the growth that a metric's shape does not count as
// growth: the live heap after a collection moves by a few KiB from run to
// run (the runtime's own allocations), resident memory by up to a few
// hundred KiB (pages the allocator touches or returns; 128 KiB over the
// tail of a clean run in the shape study), and the runtime starts a
// thread or two on its own when a system call blocks (which is also why
// threads default to tail<=2). Other counts and added probes grow by any
// amount above zero.
func shapeNoise(name, unit string) float64 {
	switch {
	case name == MetricRSS:
		return 1 << 20
	case unit == UnitBytes:
		return 64 << 10
	case name == MetricThreads:
		return 2
	}
	return 0
}

// shapeOf classifies a metric's growth from its delta and tail.
func shapeOf(name, unit string, delta, tail float64) Shape {
	if math.IsNaN(delta) || math.IsNaN(tail) {
		return ""
	}
	noise := shapeNoise(name, unit)
	switch {
	case tail > noise:
		return ShapeGrows
	case delta > noise:
		return ShapeLevelsOff
	}
	return ShapeFlat
}
