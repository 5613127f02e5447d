package harness

import (
	"context"
	"errors"
)

// Names of the built-in metrics, as used in thresholds and reports.
const (
	MetricGoroutines = "goroutines" // goroutines (external targets: go_goroutines)
	MetricFDs        = "fds"        // open file descriptors
	MetricConns      = "conns"      // TCP sockets, in any state, owned by a descriptor
	MetricThreads    = "threads"    // kernel threads
	MetricRSS        = "rss"        // resident set size, bytes
	MetricHeap       = "heap"       // Go live heap after GC, bytes
	MetricChildren   = "children"   // child processes, zombies included
	MetricUnclosed   = "unclosed"   // resources collected without Close (needs Unclosed)
	// MetricGoroutinesLeaked counts the goroutines that the runtime proved
	// leaked: blocked forever on unreachable synchronisation (needs
	// GOEXPERIMENT=goroutineleakprofile).
	MetricGoroutinesLeaked = "goroutines_leaked"
)

// Units of metrics.
const (
	UnitCount = "count"
	UnitBytes = "bytes"
)

// ErrTargetExited matches the error of a run, Sampler or Measure whose
// target process exited. Test with errors.Is.
var ErrTargetExited = errors.New("harness: target process exited")

// ErrUnsupported is returned by a probe that cannot measure its metric on
// this platform or target. Such a metric is reported as unsupported, with
// -1 in snapshots.
var ErrUnsupported = errors.New("harness: unsupported")

// Probe measures one metric of the target.
//
// The harness calls a probe from one goroutine at a time, after every
// iteration, so Sample should be cheap: a counter read, a len under a lock.
type Probe interface {
	// Name is the metric name used in thresholds and reports.
	Name() string
	// Sample returns the current value.
	Sample(ctx context.Context) (float64, error)
}

// ItemProbe is a Probe that can also list what it counts, so that a report
// names the items that are new since the baseline. Items is called only
// for the baseline and the final snapshot.
type ItemProbe interface {
	Probe
	Items(ctx context.Context) ([]string, error)
}

// stage orders the probes within one sample.
type stage int

const (
	// stageCount probes are read first, before any forced GC: os.File and
	// net.Conn close themselves in finalizers, and a collection first would
	// hide exactly the resources that were dropped without Close.
	stageCount stage = iota
	// stageAfterGC probes are read after the forced collection of the
	// sample, if any: counters fed by finalizers.
	stageAfterGC
)

type staged interface{ stage() stage }

// Gauge returns a probe that reads f before any forced garbage collection:
// a pool's open connections (sql.DB's Stats().OpenConnections), a cache's
// size.
func Gauge(name string, f func() float64) Probe { return gaugeProbe{name: name, f: f} }

type gaugeProbe struct {
	name string
	f    func() float64
}

func (g gaugeProbe) Name() string                            { return g.name }
func (g gaugeProbe) Sample(context.Context) (float64, error) { return g.f(), nil }
func (g gaugeProbe) stage() stage                            { return stageCount }

// Counter returns a probe that reads f after the sample's forced garbage
// collection, if any: for counters that finalizers or cleanups increment.
// At the end of a run the harness also waits for the finalizers of the
// last collection before reading it.
func Counter(name string, f func() int64) Probe { return counterProbe{name: name, f: f} }

type counterProbe struct {
	name string
	f    func() int64
}

func (c counterProbe) Name() string                            { return c.name }
func (c counterProbe) Sample(context.Context) (float64, error) { return float64(c.f()), nil }
func (c counterProbe) stage() stage                            { return stageAfterGC }

// Unclosed returns the "unclosed" probe: a process-wide count of resources
// that were garbage-collected without being closed, which any library can
// feed (a finalizer or cleanup that increments it). Its default threshold is
// tail<=0.
func Unclosed(f func() int64) Probe { return Counter(MetricUnclosed, f) }

func probeStage(p Probe) stage {
	if s, ok := p.(staged); ok {
		return s.stage()
	}
	return stageCount
}

// builtin describes a built-in metric.
type builtin struct {
	name       string
	unit       string
	thresholds []string
}

// builtins lists the built-in metrics in report order, with their default
// thresholds. They judge the tail, the last half of the run, so that a pool
// or cache that fills early and then stays level passes while one resource
// more per iteration fails; released<=0 fails descriptors and connections
// dropped without Close that the runtime's collections keep closing, a
// level count too; delta<=0 is the strict alternative (see "Thresholds" in
// the package documentation).
var builtins = []builtin{
	{MetricGoroutines, UnitCount, []string{"tail<=0"}},
	{MetricGoroutinesLeaked, UnitCount, []string{"delta<=0"}},
	{MetricFDs, UnitCount, []string{"tail<=0", "released<=0"}},
	{MetricConns, UnitCount, []string{"tail<=0", "released<=0"}},
	{MetricThreads, UnitCount, []string{"tail<=2"}},
	{MetricChildren, UnitCount, []string{"tail<=0"}},
	{MetricRSS, UnitBytes, []string{"tail<16MiB"}},
	{MetricHeap, UnitBytes, []string{"tail_slope<8KiB"}},
	{MetricUnclosed, UnitCount, []string{"tail<=0"}},
}

func lookupBuiltin(name string) (builtin, bool) {
	for _, b := range builtins {
		if b.name == name {
			return b, true
		}
	}
	return builtin{}, false
}

// BuiltinMetrics returns the names of the built-in metrics in report order.
func BuiltinMetrics() []string {
	names := make([]string, len(builtins))
	for i, b := range builtins {
		names[i] = b.name
	}
	return names
}

// DefaultThresholds returns the default threshold expressions of a built-in
// metric, or nil.
func DefaultThresholds(metric string) []string {
	b, _ := lookupBuiltin(metric)
	return append([]string(nil), b.thresholds...)
}

// metricUnit returns the unit of a metric name: bytes or count for built-in
// ones, "" (any) for probes.
func metricUnit(name string) string {
	if b, ok := lookupBuiltin(name); ok {
		return b.unit
	}
	return ""
}
