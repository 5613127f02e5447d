package harness

import (
	"fmt"
	"runtime/pprof"
	"time"
)

// goroutineLeakUnsupported is why goroutines_leaked is unsupported in a
// binary built without the experiment.
const goroutineLeakUnsupported = "needs a binary built with GOEXPERIMENT=goroutineleakprofile (Go 1.26)"

// LeakedSummary starts the summary of a goroutine finding whose goroutines
// the runtime proved leaked (Finding.Leaked).
const LeakedSummary = "leaked: blocked forever on unreachable synchronisation"

// goroutineLeakProfile is the runtime's "goroutineleak" profile, nil in a
// binary built without GOEXPERIMENT=goroutineleakprofile. Writing it runs a
// garbage collection that finds the goroutines blocked on channels, mutexes
// or wait groups that no goroutine able to run can reach: they can never
// wake. The runtime marks them "(leaked)" in goroutine dumps from then on.
func goroutineLeakProfile() *pprof.Profile { return pprof.Lookup("goroutineleak") }

// builtinStage is when a sample reads a built-in metric: goroutines_leaked
// after the counts, since its profile collects garbage.
func builtinStage(name string) stage {
	if name == MetricGoroutinesLeaked {
		return stageAfterGC
	}
	return stageCount
}

// supportLeaked marks goroutines_leaked unsupported where it cannot be
// measured: another process, or a binary without the experiment.
func (s *sampler) supportLeaked() {
	switch {
	case !s.self:
		s.unsupport("this process only", MetricGoroutinesLeaked)
	case goroutineLeakProfile() == nil:
		s.unsupport(goroutineLeakUnsupported, MetricGoroutinesLeaked)
	}
}

// sampleLeaked reads goroutines_leaked, in the samples that collect
// garbage and are exact (the baseline, the final one after its
// collection, Sampler.Sample): the profile's collection is a full one,
// too slow for every iteration. In an attributed run it counts the leaked
// goroutines with the run's label.
func (s *sampler) sampleLeaked(gc gcMode, exact bool, v []float64) {
	i := s.index(MetricGoroutinesLeaked)
	if i < 0 || !s.self || !exact || gc == gcNone {
		return
	}
	t0 := time.Now()
	n, err := s.countLabelled(goroutineLeakProfile())
	s.gcTotal += time.Since(t0)
	s.gcCount++
	if err != nil {
		s.note(i, fmt.Errorf("goroutineleak profile: %w", err))
		return
	}
	v[i] = float64(n)
}
