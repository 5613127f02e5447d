package harness

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/leakgate/leakgate/harness/internal/procfs"
)

// Limits of the phases that run after cancellation or that must not hang.
const (
	finalizerWait   = time.Second      // per collection, for its finalizers
	teardownTimeout = 30 * time.Second // Teardown's context, which the run's cancellation does not end
	finalTimeout    = 10 * time.Second // the final snapshot of a cancelled run
	settleMaxPause  = 100 * time.Millisecond
	maxPrealloc     = 4096 // series points allocated ahead; more are appended
)

// Run runs a scenario and measures the target: Setup, warm-up, baseline
// snapshot, the measured iterations with a sample after each, settle, final
// snapshot, Teardown. See the package documentation for each step.
//
// Run returns an error, with no Result, when the options or the scenario
// are invalid. Otherwise it returns a Result, and an error when the run did
// not complete: a scenario failure (errors.Is(err, ErrScenario), status
// "error"), a measurement failure such as the target exiting (status
// "error"), or cancellation (status "cancelled"; what was measured is
// reported). A leak is not an error: check Result.Passed or Status.
//
// Run starts no goroutines: it is safe in tests that use goleak.
func Run(ctx context.Context, sc Scenario, opts ...Option) (*Result, error) {
	if err := sc.validate(); err != nil {
		return nil, err
	}
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	s, err := newSampler(ctx, o)
	if err != nil {
		return nil, err
	}
	defer s.close()
	label, err := s.attribute(sc.Name, o)
	if err != nil {
		return nil, err
	}
	checks, err := s.thresholds(o)
	if err != nil {
		return nil, err
	}
	if s.self && s.index(MetricHeap) >= 0 && raiseProfileRate(o.profileRate) {
		defer restoreProfileRate()
	}
	r := &runner{sc: sc, o: o, s: s, checks: checks, label: label}
	r.run(ctx)
	return r.res, r.err
}

// thresholds parses the thresholds of every measured metric: the explicit
// ones of WithThreshold, or the defaults.
func (s *sampler) thresholds(o options) ([][]Threshold, error) {
	var errs []error
	for name := range o.thresholds {
		i, ok := s.idx[name]
		switch {
		case o.disabled[name]:
			errs = append(errs, fmt.Errorf("harness: threshold on %s: the metric is switched off by WithoutProbes", name))
		case !ok && name == MetricUnclosed:
			errs = append(errs, fmt.Errorf("harness: threshold on %s: the metric needs a probe (WithProbes(Unclosed(f)))", name))
		case !ok:
			errs = append(errs, fmt.Errorf("harness: threshold on %s: unknown metric (want %s or an added probe)", name, builtinNames()))
		case s.defs[i].unsupported:
			errs = append(errs, fmt.Errorf("harness: threshold on %s: the metric is not measured on this target: %s", name, s.defs[i].why))
		}
	}
	out := make([][]Threshold, len(s.defs))
	for i, d := range s.defs {
		exprs, ok := o.thresholds[d.name]
		if !ok && !s.unattributed(d.name) {
			exprs = DefaultThresholds(d.name)
		}
		for _, e := range exprs {
			th, err := ParseThreshold(d.name, e)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out[i] = append(out[i], th)
		}
	}
	return out, errors.Join(errs...)
}

type runner struct {
	sc     Scenario
	o      options
	s      *sampler
	checks [][]Threshold
	label  string // LabelRun's value, this process only
	res    *Result
	err    error

	scenarioTime time.Duration // setup, warm-up, iterations, teardown
	measuredTime time.Duration // measured iterations only
	durations    []time.Duration
	completed    int
	series       [][]float64 // [metric][iteration]

	base, final, postGC []float64
	settleMin           []float64 // lowest goroutines, fds and conns while settling
	baseAt, finalAt     time.Time
	baseDet, finalDet   details
	// afterGC lists the descriptors after the final collection, when it
	// closed some: what it released is finalDet's minus these.
	afterGC        []procfs.FD
	baseGoroutines []int     // IDs, sorted
	goroutineFinds []Finding // only when there are more than at the baseline
	// midK is the measured iteration after which the goroutines settled
	// once (0: not done), midSettled their lowest count then (NaN for the
	// other metrics): the start of the tail window, taken as the final
	// value is.
	midK                 int
	midSettled           []float64
	havePostGC, haveBase bool
	gcPaused             bool
	midDone              bool        // WithDuration's middle heap point was taken
	baseHeap, finalHeap  heapProfile // allocation sites, of this process or from a pprof URL
	heapNote             string      // why another process's heap profiles are missing
}

func (r *runner) run(ctx context.Context) {
	start := time.Now()
	n := len(r.s.defs)
	r.res = &Result{
		Schema:     Schema,
		Scenario:   r.sc.Name,
		Target:     TargetInfo{PID: r.o.target.PID(), Self: r.s.self, MetricsURL: r.o.target.metricsURL},
		Started:    start,
		Iterations: Iterations{Requested: r.o.iterations, Warmup: r.o.warmup},
		Metrics:    []MetricResult{},
		Findings:   []Finding{},
	}
	r.series = make([][]float64, n)
	for i := range r.series {
		r.series[i] = make([]float64, 0, min(r.o.iterations, maxPrealloc))
	}
	r.base, r.final, r.postGC = make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range r.final {
		r.final[i] = math.NaN()
	}

	status, runErr := r.phases(ctx)

	r.res.DurationSeconds = time.Since(start).Seconds()
	r.res.Timing.ScenarioSeconds = r.scenarioTime.Seconds()
	r.res.Timing.HarnessSeconds = max(time.Since(start)-r.scenarioTime, 0).Seconds()
	r.res.Timing.ForcedGCs = r.s.gcCount
	r.res.Timing.GCSeconds = r.s.gcTotal.Seconds()
	r.res.Iterations.Completed = r.completed
	if len(r.durations) > 0 {
		var sum time.Duration
		for _, d := range r.durations {
			sum += d
		}
		r.res.Timing.P50Seconds = percentile(r.durations, 0.50).Seconds()
		r.res.Timing.P95Seconds = percentile(r.durations, 0.95).Seconds()
		r.res.Timing.MeanSeconds = (sum / time.Duration(len(r.durations))).Seconds()
		r.res.Timing.MaxSeconds = slices.Max(r.durations).Seconds()
	}
	if r.haveBase {
		r.evaluate()
		r.noteAttribution()
	}
	leak := false
	var metricErr error
	for _, m := range r.res.Metrics {
		switch m.Verdict {
		case VerdictFail:
			leak = true
		case VerdictError:
			metricErr = errors.Join(metricErr, fmt.Errorf("harness: metric %s: %s", m.Name, m.Reason))
		}
	}
	switch {
	case status != "":
	case metricErr != nil:
		status, runErr = StatusError, metricErr
	case leak:
		status = StatusLeak
	default:
		status = StatusPass
	}
	r.res.Status = status
	if runErr != nil {
		r.res.Error = runErr.Error()
	}
	r.err = runErr
}

// phases runs the scenario and takes the samples. It returns a status and
// error only for a run that did not complete.
func (r *runner) phases(ctx context.Context) (status Status, err error) {
	sc := r.sc
	if sc.Setup != nil {
		if err := r.timed(func() error { return r.labelled(ctx, sc.Setup) }); err != nil {
			return r.stopped(ctx, &ScenarioError{Phase: "setup", Err: err})
		}
	}
	if sc.Teardown != nil {
		defer func() {
			tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
			defer cancel()
			if terr := r.timed(func() error { return r.labelled(tctx, sc.Teardown) }); terr != nil && err == nil {
				status, err = StatusError, &ScenarioError{Phase: "teardown", Err: terr}
			}
		}()
	}
	defer r.resumeGC() // before Teardown
	for i := 0; i < r.o.warmup; i++ {
		if ctx.Err() != nil {
			return r.stopped(ctx, nil)
		}
		if err := r.timed(func() error { return r.labelled(ctx, func(ctx context.Context) error { return sc.Run(ctx, i) }) }); err != nil {
			return r.stopped(ctx, &ScenarioError{Phase: "iteration", Iteration: i, Err: err})
		}
		r.report(Progress{Phase: PhaseWarmup, Iteration: i + 1, Of: r.o.warmup})
	}
	if ctx.Err() != nil {
		return r.stopped(ctx, nil)
	}

	// Baseline: after the collections, so that what setup and warm-up
	// dropped does not inflate it.
	r.s.collect(finalizerWait)
	r.baseAt = time.Now()
	if err := r.s.sample(ctx, gcDone, true, r.base); err != nil {
		return StatusError, fmt.Errorf("harness: baseline: %w", err)
	}
	// The goroutines the warm-up left running for a moment are not the
	// baseline: it settles as the start of the tail window and the final
	// value do.
	if i := r.s.index(MetricGoroutines); i >= 0 {
		r.base[i] = r.settleGoroutines(ctx, r.base[i])
	}
	r.s.raiseRemoteGoroutines(ctx, r.base)
	if r.baseDet, err = r.s.details(ctx); err != nil {
		return StatusError, fmt.Errorf("harness: baseline: %w", err)
	}
	gs, err := r.s.goroutines()
	if err != nil {
		return StatusError, fmt.Errorf("harness: baseline: %w", err)
	}
	r.baseGoroutines = goroutineIDs(gs) // the dump itself is garbage, not in the heap points
	if r.s.self && r.s.index(MetricHeap) >= 0 {
		r.baseHeap = readHeapProfile(false) // as of the baseline's collection
	} else {
		r.baseHeap, r.heapNote = r.s.remoteHeap(ctx, r.o.target, false) // after the counts, like the final one
	}
	r.haveBase = true

	row := make([]float64, len(r.s.defs))
	for k := 1; k <= r.o.iterations; k++ {
		if ctx.Err() != nil {
			status, err = r.stopped(ctx, nil)
			break
		}
		iter := r.o.warmup + k - 1
		last := r.last(k)
		if last {
			r.pauseGC()
		}
		t0 := time.Now()
		ierr := r.labelled(ctx, func(ctx context.Context) error { return sc.Run(ctx, iter) })
		d := time.Since(t0)
		r.scenarioTime += d
		if ierr != nil {
			status, err = r.stopped(ctx, &ScenarioError{Phase: "iteration", Iteration: iter, Err: ierr})
			break
		}
		r.measuredTime += d
		r.durations = append(r.durations, d)
		if serr := r.s.sample(ctx, r.gcMode(k, last), false, row); serr != nil {
			status, err = StatusError, fmt.Errorf("harness: iteration %d: %w", iter, serr)
			break
		}
		for i := range row {
			r.series[i] = append(r.series[i], row[i])
		}
		r.completed = k
		if r.o.duration <= 0 && !last && k == tailStart(r.o.iterations) {
			r.settleMiddle(ctx, k, row)
		}
		if r.o.progress != nil {
			d := Delta{}
			for i, def := range r.s.defs {
				if !def.unsupported && !math.IsNaN(row[i]) && row[i] >= 0 && r.base[i] >= 0 {
					d[def.name] = row[i] - r.base[i]
				}
			}
			r.report(Progress{Phase: PhaseMeasure, Iteration: k, Of: r.o.iterations, Delta: d})
		}
		if last {
			break
		}
	}
	if status == StatusError && errors.As(err, new(errFatal)) {
		return status, err
	}
	r.pauseGC() // when the iterations stopped early

	if status == "" {
		r.settle(ctx)
		if !r.res.Timing.Settled && ctx.Err() != nil {
			// Cancelled while settling: the counts may still have been on
			// their way back, so a leak would be no verdict.
			status, err = r.stopped(ctx, nil)
		}
	}
	fctx := ctx
	if status != "" {
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), finalTimeout)
		defer cancel()
	}
	if ferr := r.finalSnapshot(fctx); ferr != nil && status == "" {
		return StatusError, fmt.Errorf("harness: final snapshot: %w", ferr)
	}
	return status, err
}

// stopped classifies an early stop: an error while the context is done is
// a cancellation.
func (r *runner) stopped(ctx context.Context, err error) (Status, error) {
	if ctx.Err() != nil {
		return StatusCancelled, fmt.Errorf("harness: run cancelled after %d of %d iterations: %w",
			r.completed, r.o.iterations, context.Cause(ctx))
	}
	return StatusError, err
}

func (r *runner) timed(f func() error) error {
	t0 := time.Now()
	err := f()
	r.scenarioTime += time.Since(t0)
	return err
}

// gcMode decides whether sample k (1-based) forces a collection for a heap
// point: always after the first and the middle iteration, so that there are
// three points with the final one; never after the last (the final
// snapshot's collection gives that point, after the descriptors are
// counted); and otherwise when the collections so far plus one more stay
// within the GC budget of the measured scenario time.
func (r *runner) gcMode(k int, last bool) gcMode {
	switch {
	case !r.s.self || r.s.index(MetricHeap) < 0 || last:
		return gcNone
	case k == 1 || r.middle(k):
		return gcForce
	case float64(r.s.gcTotal+r.s.gcCost) <= r.o.gcBudget*float64(r.measuredTime): // in float64: the budget may be +Inf
		return gcForce
	}
	return gcNone
}

// last reports whether measured iteration k (1-based) is the last: the
// requested number, or with WithDuration the one that, at the mean
// iteration time so far, would end past the duration.
func (r *runner) last(k int) bool {
	if k >= r.o.iterations {
		return true
	}
	if r.o.duration <= 0 || k < 2 {
		return false
	}
	mean := time.Since(r.baseAt) / time.Duration(k-1)
	return time.Since(r.baseAt)+mean >= r.o.duration
}

// middle reports whether measured iteration k is the middle one, which
// always gets a heap point: (n+1)/2 of n, or with WithDuration the first
// that ends past half the duration.
func (r *runner) middle(k int) bool {
	if r.o.duration <= 0 {
		return k == (r.o.iterations+1)/2
	}
	if r.midDone || time.Since(r.baseAt) < r.o.duration/2 {
		return false
	}
	r.midDone = true
	return true
}

// report calls the progress callback, if any.
func (r *runner) report(p Progress) {
	if r.o.progress == nil {
		return
	}
	p.Elapsed = time.Since(r.res.Started)
	p.Duration = r.o.duration
	r.o.progress(p)
}

// pauseGC turns automatic garbage collection off, in this process, from
// the start of the last measured iteration (or the end of the iterations,
// if they stopped early) until the final counts. Settling and the final
// snapshot then see every descriptor and connection dropped since the
// latest collection, whatever the rest of the process allocates meanwhile;
// only the final forced collection releases them, and that is a finding.
func (r *runner) pauseGC() {
	if r.gcPaused || !r.s.self || (r.s.index(MetricFDs) < 0 && r.s.index(MetricConns) < 0) {
		return
	}
	pauseGC()
	r.gcPaused = true
}

// resumeGC ends pauseGC.
func (r *runner) resumeGC() {
	if r.gcPaused {
		resumeGC()
		r.gcPaused = false
	}
}

// settled are the metrics settling waits for.
var settled = []string{MetricGoroutines, MetricFDs, MetricConns}

// midSettleTime bounds the settling at the start of the tail window, which
// ends once the goroutines have not fallen for midSettleQuiet.
const (
	midSettleTime  = 250 * time.Millisecond
	midSettleQuiet = 20 * time.Millisecond
)

// settleMiddle settles the goroutines after measured iteration k, the
// start of the tail window, and keeps their lowest count: like the final
// value, the window's start then counts no goroutine that an iteration
// leaves running for a moment (an HTTP connection's loops), so that tail
// compares like with like. Descriptors and connections keep their sample:
// in a run that collects after every iteration, what the collection's
// finalizers close while settling here is still open at the end, before
// the final collection (released counts that). row holds the sample after
// iteration k.
func (r *runner) settleMiddle(ctx context.Context, k int, row []float64) {
	i := r.s.index(MetricGoroutines)
	if i < 0 || math.IsNaN(row[i]) {
		return
	}
	r.midK = k
	r.midSettled = make([]float64, len(r.s.defs))
	for j := range r.midSettled {
		r.midSettled[j] = math.NaN()
	}
	r.midSettled[i] = r.settleGoroutines(ctx, row[i])
}

// settleGoroutines samples the goroutines until they have not fallen for
// midSettleQuiet (at most midSettleTime, or the settle timeout if
// shorter) and returns the lowest count seen, from; from when the target
// has no goroutine count.
func (r *runner) settleGoroutines(ctx context.Context, from float64) float64 {
	i := r.s.index(MetricGoroutines)
	if i < 0 || math.IsNaN(from) {
		return from
	}
	low := from
	deadline := time.Now().Add(min(midSettleTime, r.o.settleTimeout))
	cur := make([]float64, len(r.s.defs))
	pause := time.Millisecond
	quietSince := time.Now()
	for time.Now().Before(deadline) {
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return low
		case <-t.C:
		}
		if err := r.s.sample(ctx, gcNone, false, cur); err != nil || math.IsNaN(cur[i]) {
			return low
		}
		if cur[i] < low {
			low = cur[i]
			quietSince = time.Now()
		} else if time.Since(quietSince) >= midSettleQuiet {
			return low
		}
		pause = min(2*pause, settleMaxPause)
	}
	return low
}

// settle polls goroutines, descriptors and connections, with backoff, until
// none is above its baseline or the settle timeout passes. It keeps the
// lowest value of each seen meanwhile in r.settleMin.
func (r *runner) settle(ctx context.Context) {
	r.report(Progress{Phase: PhaseSettle, Iteration: r.completed, Of: r.o.iterations})
	t0 := time.Now()
	defer func() { r.res.Timing.SettleSeconds = time.Since(t0).Seconds() }()
	deadline := t0.Add(r.o.settleTimeout)
	row := make([]float64, len(r.s.defs))
	r.settleMin = make([]float64, len(r.s.defs))
	for i := range r.settleMin {
		r.settleMin[i] = math.NaN()
	}
	pause := time.Millisecond
	for {
		if err := r.s.sample(ctx, gcNone, true, row); err != nil {
			return
		}
		done := true
		for _, name := range settled {
			i := r.s.index(name)
			if i < 0 || math.IsNaN(row[i]) {
				continue
			}
			if math.IsNaN(r.settleMin[i]) || row[i] < r.settleMin[i] {
				r.settleMin[i] = row[i]
			}
			if r.settleMin[i] > r.base[i] {
				done = false
			}
		}
		if done {
			r.res.Timing.Settled = true
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		t := time.NewTimer(min(pause, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		pause = min(2*pause, settleMaxPause)
	}
}

// finalSnapshot counts and lists before any collection, then collects and
// counts again: what only the collection released is a finding, and the
// heap is read after it. Goroutine stacks are dumped last, so that the
// dump, which grows with a goroutine leak, is not in the heap.
func (r *runner) finalSnapshot(ctx context.Context) error {
	r.finalAt = time.Now()
	if err := r.s.sample(ctx, gcNone, true, r.final); err != nil {
		return err
	}
	// A count that went back to its baseline while settling was not
	// leaked, even if it jitters up again: a metrics endpoint's own
	// goroutines come and go with each scrape.
	for i, low := range r.settleMin {
		if !math.IsNaN(low) && (math.IsNaN(r.final[i]) || low < r.final[i]) {
			r.final[i] = low
		}
	}
	det, err := r.s.details(ctx)
	if err != nil {
		return err
	}
	r.finalDet = det
	// Goroutine stacks cost milliseconds with thousands of goroutines: dump
	// them only when there are more goroutines than at the baseline, and
	// before the collection, whose finalizers may end some of them (an
	// unclosed transport's connection loops): the findings then list what
	// the final count counted.
	// The dump is grouped at once and dropped: it is the harness's memory,
	// not the scenario's, when the collection measures the heap.
	if i := r.s.index(MetricGoroutines); i >= 0 && r.final[i] > r.base[i] {
		if err := r.groupGoroutines(); err != nil {
			return err
		}
	}
	r.resumeGC()
	if r.s.self {
		r.s.collect(finalizerWait)
		if err := r.s.sample(ctx, gcDone, true, r.postGC); err != nil {
			return err
		}
		r.havePostGC = true
		// List what is left now, before Teardown closes anything: the
		// descriptors the collection released are the difference.
		if r.s.proc != nil && r.releasedAny() {
			if after, err := r.s.proc.FDs(); err == nil {
				r.afterGC = after
			}
		}
		if r.baseHeap != nil {
			r.finalHeap = readHeapProfile(true) // as of the final collection
		}
		for i, d := range r.s.defs {
			if d.name == MetricHeap || d.stage == stageAfterGC {
				r.final[i] = r.postGC[i]
			}
		}
		// The last heap point is the final, collected one.
		if i := r.s.index(MetricHeap); i >= 0 && r.completed > 0 && math.IsNaN(r.series[i][r.completed-1]) {
			r.series[i][r.completed-1] = r.final[i]
		}
	} else if r.baseHeap != nil {
		r.finalHeap, r.heapNote = r.s.remoteHeap(ctx, r.o.target, true)
	}
	// Proven leaks are marked in dumps taken after the collection that
	// found them: dump again when there are new ones.
	if i := r.s.index(MetricGoroutinesLeaked); i >= 0 && r.final[i] > r.base[i] {
		if err := r.groupGoroutines(); err != nil {
			return err
		}
	}
	return nil
}

// groupGoroutines dumps this process's goroutines and groups those that are
// new since the baseline into findings.
func (r *runner) groupGoroutines() error {
	gs, err := r.s.goroutines()
	if err != nil {
		return err
	}
	if r.s.self {
		r.goroutineFinds = goroutineFindings(r.baseGoroutines, gs)
	}
	return nil
}

// evaluate computes every metric's statistics, verdicts and findings.
func (r *runner) evaluate() {
	res := r.res
	res.Baseline = snapshotOf(r.s.defs, r.baseAt, r.base)
	res.Final = snapshotOf(r.s.defs, r.finalAt, r.final)
	for i, d := range r.s.defs {
		m := MetricResult{Name: d.name, Unit: d.unit, Supported: !d.unsupported}
		if m.Unit == "" && d.probe == nil {
			m.Unit = UnitCount
		}
		series := r.series[i][:r.completed]
		if d.unsupported {
			m.Reason = d.why
			nan := math.NaN()
			m.Baseline, m.Final, m.Delta, m.Max, m.Min, m.Slope = nan, nan, nan, nan, nan, nan
			m.Tail, m.TailSlope = nan, nan
			m.Series = []float64{}
			m.Verdict = VerdictUnsupported
			if len(r.o.thresholds[d.name]) > 0 {
				// Found unsupported only while sampling: a threshold that
				// was asked for is never a silent pass.
				m.Verdict = VerdictError
				m.Reason = "has thresholds but is not measured on this target: " + d.why
			}
			res.Metrics = append(res.Metrics, m)
			continue
		}
		m.Baseline, m.Final = r.base[i], r.final[i]
		m.Delta = m.Final - m.Baseline
		m.Max, m.Min = extremes([]float64{m.Baseline, m.Final}, series)
		m.Slope = slope(series)
		m.Steady = steady(series)
		tl := newTailer(m.Baseline, series)
		if r.midK > 0 && r.midK == tailStart(len(series)) {
			tl.settledAt(r.midK, r.midSettled[i])
		}
		m.Tail, m.TailSlope = tl.at(len(series), m.Final)
		m.Shape = shapeOf(m.Name, m.Unit, m.Delta, m.Tail)
		m.Series = slices.Clone(series)
		v := values{baseline: m.Baseline, final: m.Final, delta: m.Delta, max: m.Max, min: m.Min, slope: m.Slope,
			tail: m.Tail, tailSlope: m.TailSlope, released: r.released(i, d.name)}
		m.Verdict = VerdictNone
		unknown := false
		for _, th := range r.checks[i] {
			actual, limit, ok := th.eval(v)
			m.Thresholds = append(m.Thresholds, ThresholdResult{Expr: th.Expr, Actual: actual, Limit: limit, Passed: ok})
			switch {
			case math.IsNaN(actual) || math.IsNaN(limit):
				unknown = true
			case !ok:
				m.Verdict = VerdictFail
			}
		}
		if m.Verdict == VerdictFail {
			m.FirstFail = firstFail(r.checks[i], m.Baseline, series)
		}
		if m.Verdict != VerdictFail && len(r.checks[i]) > 0 {
			m.Verdict = VerdictPass
			if unknown {
				m.Verdict = VerdictUnknown
			}
		}
		if d.err != nil {
			m.Reason = d.err.Error()
			if math.IsNaN(m.Baseline) || math.IsNaN(m.Final) {
				m.Verdict = VerdictError
			}
		}
		m.Breakdown = r.breakdown(d.name)
		res.Metrics = append(res.Metrics, m)
	}
	res.Findings = append(res.Findings, r.findings()...)
}

// released is the statistic of that name: how many of a metric's
// descriptors or connections were open before the final collection and
// closed by it (dropped without Close; the gc-released finding lists them),
// at most delta: one dropped before the baseline (by an earlier test, say)
// and collected only now is no growth of the run. It is 0 for other
// metrics, and where the harness does not collect (another process).
func (r *runner) released(i int, name string) float64 {
	if !r.havePostGC || (name != MetricFDs && name != MetricConns) ||
		math.IsNaN(r.final[i]) || math.IsNaN(r.postGC[i]) || math.IsNaN(r.base[i]) {
		return 0
	}
	return max(min(r.final[i]-r.postGC[i], r.final[i]-r.base[i]), 0)
}

// firstFail returns the first measured iteration (1-based) after which the
// thresholds, evaluated on the series up to it as if it were the final
// value, fail and keep failing to the end; len(series) when only the final
// value fails them. The tail statistics of iteration k are those of a run
// of k iterations, whose tail window is the last half of those: a pool
// that fills in the first iterations fails a run that short, so only the
// iteration that starts the last failing stretch counts, not the first
// failure (a pool that filled, then a leak from iteration 30: 30).
func firstFail(checks []Threshold, baseline float64, series []float64) int {
	var n, sx, sy, sxx, sxy float64 // running least-squares sums
	lo, hi := baseline, baseline
	tl := newTailer(baseline, series)
	first := 0 // the start of the current failing stretch
	for k, y := range series {
		if math.IsNaN(y) {
			continue
		}
		x := float64(k + 1)
		n, sx, sy, sxx, sxy = n+1, sx+x, sy+y, sxx+x*x, sxy+x*y
		lo, hi = min(lo, y), max(hi, y)
		sl := math.NaN()
		if den := n*sxx - sx*sx; n >= 2 && den != 0 {
			sl = (n*sxy - sx*sy) / den
		}
		tail, tailSlope := tl.at(k+1, y)
		v := values{baseline: baseline, final: y, delta: y - baseline, max: hi, min: lo, slope: sl, tail: tail, tailSlope: tailSlope}
		failed := false
		for _, th := range checks {
			if actual, limit, ok := th.eval(v); !ok && !math.IsNaN(actual) && !math.IsNaN(limit) {
				failed = true
				break
			}
		}
		switch {
		case !failed:
			first = 0
		case first == 0:
			first = k + 1
		}
	}
	if first == 0 {
		return len(series)
	}
	return first
}

func (r *runner) breakdown(metric string) []BreakdownRow {
	var key func(procfs.FD) (string, bool)
	switch metric {
	case MetricFDs:
		key = func(f procfs.FD) (string, bool) { return f.Kind, true }
	case MetricConns:
		key = func(f procfs.FD) (string, bool) {
			if f.Conn == nil {
				return "", false
			}
			return f.Conn.State, true
		}
	default:
		return nil
	}
	rows := map[string]*BreakdownRow{}
	var order []string
	count := func(fds []procfs.FD, final bool) {
		for _, f := range fds {
			k, ok := key(f)
			if !ok {
				continue
			}
			row, seen := rows[k]
			if !seen {
				row = &BreakdownRow{Key: k}
				rows[k] = row
				order = append(order, k)
			}
			if final {
				row.Final++
			} else {
				row.Baseline++
			}
		}
	}
	count(r.baseDet.fds, false)
	count(r.finalDet.fds, true)
	slices.Sort(order)
	out := make([]BreakdownRow, 0, len(order))
	for _, k := range order {
		out = append(out, *rows[k])
	}
	return out
}

func (r *runner) findings() []Finding {
	var out []Finding
	out = append(out, r.goroutineFinds...)
	fresh := newFDs(r.baseDet.fds, r.finalDet.fds)
	if r.s.index(MetricFDs) >= 0 {
		out = append(out, fdFindings(r.finalDet.fds, fresh)...)
	}
	if r.s.index(MetricConns) >= 0 {
		out = append(out, connFindings(r.finalDet.fds, fresh)...)
	}
	if r.s.index(MetricChildren) >= 0 {
		out = append(out, childFindings(r.baseDet.children, r.finalDet.children)...)
	}
	for _, d := range r.s.defs {
		if items, ok := r.finalDet.items[d.name]; ok {
			out = append(out, itemFindings(d.name, r.baseDet.items[d.name], items)...)
		}
	}
	out = append(out, r.gcReleased()...)
	if m, ok := r.res.Metric(MetricHeap); ok && m.Verdict == VerdictFail && (r.finalHeap != nil || r.heapNote != "") {
		out = append(out, allocSiteFindings(r.baseHeap, r.finalHeap, r.heapNote)...)
	}
	return out
}

// gcReleased reports descriptors and connections that were open before the
// final collection and closed after it.
func (r *runner) gcReleased() []Finding {
	if !r.havePostGC {
		return nil
	}
	var out []Finding
	var gone []procfs.FD
	if r.afterGC != nil {
		gone = goneFDs(r.finalDet.fds, r.afterGC)
	}
	for _, name := range []string{MetricFDs, MetricConns} {
		i := r.s.index(name)
		if i < 0 || math.IsNaN(r.final[i]) || math.IsNaN(r.postGC[i]) || r.postGC[i] >= r.final[i] {
			continue
		}
		out = append(out, gcReleasedFinding(name, int(r.final[i]-r.postGC[i]), gone))
	}
	return out
}

// releasedAny reports whether the final collection closed descriptors or
// connections.
func (r *runner) releasedAny() bool {
	for _, name := range []string{MetricFDs, MetricConns} {
		if i := r.s.index(name); i >= 0 && r.postGC[i] < r.final[i] {
			return true
		}
	}
	return false
}
