package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"time"

	"github.com/leakgate/leakgate/harness/internal/procfs"
	"github.com/leakgate/leakgate/harness/internal/promtext"
	"github.com/leakgate/leakgate/harness/internal/stack"
)

// metricDef is one measured metric of a run.
type metricDef struct {
	name        string
	unit        string
	probe       Probe // nil for built-in metrics
	stage       stage
	unsupported bool
	why         string // why it is unsupported
	err         error  // the first sampling error
}

// gcMode says what a sample does about garbage collection.
type gcMode int

const (
	gcNone  gcMode = iota // no collection: the heap is not read (self)
	gcForce               // force a collection after the counts, then read the heap
	gcDone                // a collection just happened: read the heap
)

// Names of the gauges read from an external target's metrics URL. The heap
// is the first of heapGauges present.
const goroutinesGauge = "go_goroutines"

var heapGauges = []string{"go_gc_heap_live_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_alloc_bytes"}

// sampler reads every metric of one target.
type sampler struct {
	self bool
	defs []*metricDef
	idx  map[string]int

	proc    *procfs.Proc
	scraper *promtext.Scraper
	prom    []string  // goroutinesGauge, then heapGauges
	promOut []float64 // values of prom
	heapGG  string    // the heap gauge the endpoint has

	heapMetric []metrics.Sample
	finSamples []metrics.Sample

	errs []error // of the latest sample, by metric

	attrLabel string       // count only goroutines labelled LabelRun=attrLabel; "" for all
	attrKey   string       // the label as a profile's text prints it
	profBuf   bytes.Buffer // a goroutine profile's text, reused

	gcCost  time.Duration // the latest forced collection's duration
	gcTotal time.Duration
	gcCount int
}

func newSampler(ctx context.Context, o options) (*sampler, error) {
	s := &sampler{
		self:       o.target.IsSelf(),
		idx:        map[string]int{},
		heapMetric: []metrics.Sample{{Name: "/gc/heap/live:bytes"}},
	}
	// Added probes: validate names.
	added := map[string]Probe{}
	for _, p := range o.probes {
		name := p.Name()
		switch {
		case name == "":
			return nil, errors.New("harness: a probe has an empty name")
		case name == MetricUnclosed:
		case isBuiltinName(name):
			return nil, fmt.Errorf("harness: probe %q: the name of a built-in metric", name)
		}
		if _, dup := added[name]; dup {
			return nil, fmt.Errorf("harness: two probes named %q", name)
		}
		added[name] = p
	}
	known := map[string]bool{}
	for _, b := range builtins {
		known[b.name] = true
	}
	for n := range added {
		known[n] = true
	}
	for n := range o.disabled {
		if !known[n] {
			return nil, fmt.Errorf("harness: WithoutProbes: unknown metric %q (want %s or an added probe)", n, builtinNames())
		}
	}
	for _, b := range builtins {
		if o.disabled[b.name] {
			continue
		}
		if b.name == MetricUnclosed {
			if p, ok := added[MetricUnclosed]; ok {
				s.add(&metricDef{name: b.name, unit: b.unit, probe: p, stage: probeStage(p)})
			}
			continue
		}
		s.add(&metricDef{name: b.name, unit: b.unit, stage: builtinStage(b.name)})
	}
	for _, p := range o.probes {
		if p.Name() == MetricUnclosed || o.disabled[p.Name()] {
			continue
		}
		s.add(&metricDef{name: p.Name(), unit: "", probe: p, stage: probeStage(p)})
	}

	if s.self {
		startNetpoll()
	}
	s.supportLeaked()
	if s.needsProc() {
		proc, err := procfs.Open(o.target.pid)
		switch {
		case errors.Is(err, procfs.ErrUnsupported):
			s.unsupport("no /proc on "+runtime.GOOS, MetricFDs, MetricConns, MetricThreads, MetricRSS, MetricChildren)
		case err != nil:
			return nil, fmt.Errorf("harness: target %v: %w", o.target, err)
		default:
			s.proc = proc
		}
	}
	if !s.self {
		if err := s.openScraper(ctx, o.target); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

// startNetpoll makes sure that the runtime's network poller has started.
// It starts with the first timer or pollable descriptor of the process and
// opens descriptors of its own (an epoll and an eventfd on Linux) that
// live as long as the process; the harness's own timers, while settling or
// waiting for finalizers, must not start it after the baseline and have
// those counted as growth. A stopped AfterFunc timer starts it and runs
// nothing.
func startNetpoll() { time.AfterFunc(time.Hour, func() {}).Stop() }

func isBuiltinName(name string) bool { _, ok := lookupBuiltin(name); return ok }

func builtinNames() string {
	var names []string
	for _, b := range builtins {
		names = append(names, b.name)
	}
	return strings.Join(names, ", ")
}

func (s *sampler) add(d *metricDef) {
	s.idx[d.name] = len(s.defs)
	s.defs = append(s.defs, d)
}

// index returns the position of a metric, or -1 when it is not measured.
func (s *sampler) index(name string) int {
	if i, ok := s.idx[name]; ok && !s.defs[i].unsupported {
		return i
	}
	return -1
}

func (s *sampler) unsupport(why string, names ...string) {
	for _, n := range names {
		if i, ok := s.idx[n]; ok {
			s.defs[i].unsupported = true
			s.defs[i].why = why
		}
	}
}

func (s *sampler) needsProc() bool {
	for _, n := range []string{MetricFDs, MetricConns, MetricThreads, MetricRSS, MetricChildren} {
		if _, ok := s.idx[n]; ok {
			return true
		}
	}
	return false
}

// openScraper connects to an external target's metrics URL, if any, and
// finds which gauges it exports. The connection it opens is kept, so it is
// in the target's baseline.
func (s *sampler) openScraper(ctx context.Context, t Target) error {
	if t.metricsURL == "" {
		s.unsupport("no metrics URL for "+t.String(), MetricGoroutines, MetricHeap)
		return nil
	}
	sc, err := promtext.New(t.metricsURL)
	if err != nil {
		return fmt.Errorf("harness: target %v: %w", t, err)
	}
	s.scraper = sc
	s.prom = append([]string{goroutinesGauge}, heapGauges...)
	s.promOut = make([]float64, len(s.prom))
	if err := sc.Scrape(ctx, s.prom, s.promOut); err != nil {
		return fmt.Errorf("harness: target %v: %w", t, err)
	}
	if math.IsNaN(s.promOut[0]) {
		s.unsupport("the metrics URL has no "+goroutinesGauge, MetricGoroutines)
	}
	for i, g := range heapGauges {
		if !math.IsNaN(s.promOut[i+1]) {
			s.heapGG = g
			break
		}
	}
	if s.heapGG == "" {
		s.unsupport("the metrics URL has none of "+strings.Join(heapGauges, ", "), MetricHeap)
	}
	return nil
}

func (s *sampler) close() {
	if s.proc != nil {
		s.proc.Close()
	}
	if s.scraper != nil {
		s.scraper.Close()
	}
}

// errFatal marks a sampling error that ends the run: the target is gone.
// It matches ErrTargetExited.
type errFatal struct{ err error }

func (e errFatal) Error() string   { return e.err.Error() }
func (e errFatal) Unwrap() []error { return []error{ErrTargetExited, e.err} }

// note records a sampling error of metric i: in the latest sample's errors
// and, if it is the metric's first, in the metric. Unsupported metrics are
// marked so; a process that exited is fatal.
func (s *sampler) note(i int, err error) error {
	if i < 0 || err == nil {
		return nil
	}
	d := s.defs[i]
	switch {
	case errors.Is(err, procfs.ErrExited):
		return errFatal{err}
	case errors.Is(err, ErrUnsupported), errors.Is(err, procfs.ErrUnsupported):
		d.unsupported, d.why = true, err.Error()
		return nil
	}
	s.errs = append(s.errs, fmt.Errorf("%s: %w", d.name, err))
	if d.err == nil {
		d.err = err
	}
	return nil
}

// sample reads every metric into v (NaN where not read). The order is the
// point: descriptor, connection and other counts first, then the external
// endpoint, then the forced collection and the heap, then counters that
// finalizers feed.
//
// A quick sample (exact false) is the per-iteration one: it trusts cached
// descriptor classifications where poll(2) shows no change; see
// procfs.Proc.CountFDs.
func (s *sampler) sample(ctx context.Context, gc gcMode, exact bool, v []float64) error {
	s.errs = s.errs[:0]
	for i := range v {
		v[i] = math.NaN()
	}
	if i := s.index(MetricGoroutines); i >= 0 && s.self {
		if n, err := s.goroutineCount(); err != nil {
			s.note(i, err)
		} else {
			v[i] = n
		}
	}
	if s.proc != nil {
		iFD, iConn := s.index(MetricFDs), s.index(MetricConns)
		if iConn < 0 && iFD >= 0 && !s.self {
			// Connections switched off: no connection table to read.
			n, err := s.proc.CountOnly()
			if f := s.note(iFD, err); f != nil {
				return f
			}
			if err == nil {
				v[iFD] = float64(n)
			}
		} else if iFD >= 0 || iConn >= 0 {
			fds, tcp, err := s.proc.CountFDs(exact)
			if err != nil {
				if f := s.note(max(iFD, iConn), err); f != nil {
					return f
				}
			} else {
				set(v, iFD, float64(fds))
				set(v, iConn, float64(tcp))
			}
		}
		iThr, iRSS := s.index(MetricThreads), s.index(MetricRSS)
		if iThr >= 0 || iRSS >= 0 {
			threads, rss, err := s.proc.ReadStat()
			if err != nil {
				if f := s.note(max(iThr, iRSS), err); f != nil {
					return f
				}
			} else {
				set(v, iThr, float64(threads))
				set(v, iRSS, float64(rss))
			}
		}
		if i := s.index(MetricChildren); i >= 0 {
			n, err := s.proc.CountChildren()
			if err != nil {
				if f := s.note(i, err); f != nil {
					return f
				}
			} else {
				v[i] = float64(n)
			}
		}
	}
	if err := s.sampleProbes(ctx, stageCount, v); err != nil {
		return err
	}
	if s.scraper != nil {
		s.scrape(ctx, v)
	}
	if s.self {
		if i := s.index(MetricHeap); i >= 0 && gc != gcNone {
			if gc == gcForce {
				s.forceGC()
			}
			metrics.Read(s.heapMetric)
			if s.heapMetric[0].Value.Kind() == metrics.KindUint64 {
				v[i] = float64(s.heapMetric[0].Value.Uint64())
			} else {
				s.note(i, fmt.Errorf("%w: runtime/metrics has no %s", ErrUnsupported, s.heapMetric[0].Name))
			}
		}
		s.sampleLeaked(gc, exact, v)
	}
	return s.sampleProbes(ctx, stageAfterGC, v)
}

func set(v []float64, i int, x float64) {
	if i >= 0 {
		v[i] = x
	}
}

func (s *sampler) sampleProbes(ctx context.Context, st stage, v []float64) error {
	for i, d := range s.defs {
		if d.probe == nil || d.stage != st || d.unsupported {
			continue
		}
		x, err := d.probe.Sample(ctx)
		if err != nil {
			s.note(i, fmt.Errorf("probe %s: %w", d.name, err))
			continue
		}
		v[i] = x
	}
	return nil
}

func (s *sampler) scrape(ctx context.Context, v []float64) {
	iG, iH := s.index(MetricGoroutines), s.index(MetricHeap)
	if iG < 0 && iH < 0 {
		return
	}
	if err := s.scraper.Scrape(ctx, s.prom, s.promOut); err != nil {
		s.note(max(iG, iH), err)
		return
	}
	set(v, iG, s.promOut[0])
	if iH >= 0 {
		h := s.promOut[1+slices.Index(heapGauges, s.heapGG)]
		if h == 0 && s.heapGG == heapGauges[0] {
			h = math.NaN() // no collection yet: the live heap is not known
		}
		v[iH] = h
	}
}

// baselineJitterScrapes is how many more times the baseline reads an
// external target's goroutines.
const baselineJitterScrapes = 4

// raiseRemoteGoroutines re-reads an external target's goroutine count a few
// times and raises v's goroutines to the highest value seen. A metrics
// endpoint counts its own collector goroutines, one or two depending on
// scheduling, so one reading may sit at the low end of a band that later
// readings keep to the high end of.
func (s *sampler) raiseRemoteGoroutines(ctx context.Context, v []float64) {
	i := s.index(MetricGoroutines)
	if s.scraper == nil || i < 0 || math.IsNaN(v[i]) {
		return
	}
	for range baselineJitterScrapes {
		time.Sleep(time.Millisecond)
		if err := s.scraper.Scrape(ctx, s.prom, s.promOut); err != nil {
			return
		}
		if g := s.promOut[0]; g > v[i] {
			v[i] = g
		}
	}
}

// forceGC runs a collection and accounts for its cost.
func (s *sampler) forceGC() {
	t0 := time.Now()
	runtime.GC()
	s.gcCost = time.Since(t0)
	s.gcTotal += s.gcCost
	s.gcCount++
}

// collect forces a collection and waits until the finalizers and cleanups
// it queued have run: those close what was dropped without Close. When it
// queued any, a second collection frees what they released, so the heap
// read next does not count it.
func (s *sampler) collect(timeout time.Duration) {
	if !s.self {
		return
	}
	before := s.finalizerStats()
	s.forceGC()
	queued := s.finalizerStats()
	s.waitFinalizers(queued, timeout)
	if queued.queued > before.queued {
		s.forceGC()
		s.waitFinalizers(s.finalizerStats(), timeout)
	}
}

// finStats are the runtime's counts of queued and executed finalizers and
// cleanups, summed.
type finStats struct{ queued, executed uint64 }

var finMetrics = []string{
	"/gc/finalizers/queued:finalizers",
	"/gc/finalizers/executed:finalizers",
	"/gc/cleanups/queued:cleanups",
	"/gc/cleanups/executed:cleanups",
}

func (s *sampler) finalizerStats() finStats {
	if s.finSamples == nil {
		s.finSamples = make([]metrics.Sample, len(finMetrics))
		for i, name := range finMetrics {
			s.finSamples[i].Name = name
		}
	}
	metrics.Read(s.finSamples)
	var st finStats
	for i, smp := range s.finSamples {
		if smp.Value.Kind() != metrics.KindUint64 {
			continue
		}
		if i%2 == 0 {
			st.queued += smp.Value.Uint64()
		} else {
			st.executed += smp.Value.Uint64()
		}
	}
	return st
}

// waitFinalizers waits, polling with backoff, until the finalizers and
// cleanups counted in target have run, or the timeout passes.
func (s *sampler) waitFinalizers(target finStats, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	pause := 20 * time.Microsecond
	for s.finalizerStats().executed < target.queued && time.Now().Before(deadline) {
		time.Sleep(pause)
		pause = min(2*pause, 10*time.Millisecond)
	}
}

// details is what the baseline and final snapshots list besides counts
// and goroutines.
type details struct {
	fds      []procfs.FD
	children []procfs.Child
	items    map[string][]string // ItemProbe items by metric
}

// goroutines parses a dump of this process's goroutines; nil when the
// target is another process or goroutines are not measured.
//
// The dump and its text are as large as a few KiB per goroutine: a caller
// that measures the heap reads it before this call, or keeps no more of
// the result than it needs, so that the harness's own memory is not
// counted as the scenario's.
func (s *sampler) goroutines() ([]stack.Goroutine, error) {
	if s.index(MetricGoroutines) < 0 || !s.self {
		return nil, nil
	}
	gs, err := stack.Parse(s.dump())
	if err != nil {
		return nil, fmt.Errorf("goroutine dump: %w", err)
	}
	return s.attributed(gs), nil
}

// details lists the descriptors, children and probe items of the target.
func (s *sampler) details(ctx context.Context) (details, error) {
	var d details
	if s.proc != nil && (s.index(MetricFDs) >= 0 || s.index(MetricConns) >= 0) {
		fds, err := s.proc.FDs()
		if errors.Is(err, procfs.ErrExited) {
			return d, errFatal{err}
		}
		d.fds = fds
		if s.scraper != nil {
			// The harness's own connection to the metrics endpoint.
			own := s.scraper.LocalAddr()
			d.fds = slices.DeleteFunc(d.fds, func(f procfs.FD) bool {
				return f.Conn != nil && f.Conn.Remote.String() == own
			})
		}
	}
	if s.proc != nil && s.index(MetricChildren) >= 0 {
		kids, err := s.proc.Children()
		if errors.Is(err, procfs.ErrExited) {
			return d, errFatal{err}
		}
		d.children = kids
	}
	for i, def := range s.defs {
		ip, ok := def.probe.(ItemProbe)
		if !ok || def.unsupported {
			continue
		}
		items, err := ip.Items(ctx)
		if err != nil {
			s.note(i, fmt.Errorf("probe %s items: %w", def.name, err))
			continue
		}
		if d.items == nil {
			d.items = map[string][]string{}
		}
		d.items[def.name] = items
	}
	return d, nil
}

// Conns counts the target's TCP connections owned by a descriptor, by
// state ("ESTABLISHED", "CLOSE_WAIT", "LISTEN", …), leaving out the
// Sampler's own connection to the metrics URL. For another process it
// reads the connection tables of its network namespace, which costs time
// in proportion to every connection on the host: a caller that samples
// often reads them less often (a load run: Sample every 500ms with conns
// switched off, so that Sample reads no table, and Conns every second).
// It returns ErrUnsupported without /proc, and an error matching
// ErrTargetExited when the target has exited.
func (s *Sampler) Conns(ctx context.Context) (map[string]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.s.proc == nil {
		return nil, fmt.Errorf("harness: conns: %w", ErrUnsupported)
	}
	fds, err := s.s.proc.FDs()
	switch {
	case errors.Is(err, procfs.ErrExited):
		return nil, fmt.Errorf("harness: conns: %w", errFatal{err})
	case errors.Is(err, procfs.ErrUnsupported):
		return nil, fmt.Errorf("harness: conns: %w", ErrUnsupported)
	case err != nil:
		return nil, fmt.Errorf("harness: conns: %w", err)
	}
	own := ""
	if s.s.scraper != nil {
		own = s.s.scraper.LocalAddr()
	}
	states := map[string]int{}
	for _, f := range fds {
		if f.Conn == nil || (own != "" && f.Conn.Remote.String() == own) {
			continue
		}
		states[f.Conn.State]++
	}
	return states, nil
}
