// Package harness finds resource leaks by repetition: it runs a scenario
// many times, samples the process's goroutines, file descriptors, TCP
// connections, threads, child processes, resident memory and Go heap before,
// during and after, and fails when their growth passes thresholds.
//
// It is a library for any Go project's tests, and knows nothing of the
// code it measures:
//
//	func TestExportDoesNotLeak(t *testing.T) {
//		srv := startServer(t)
//		harness.Check(t, harness.Scenario{
//			Name: "export",
//			Run: func(ctx context.Context, i int) error {
//				return srv.Client().Export(ctx, "AAPL")
//			},
//		})
//	}
//
// Check fails the test with a report such as
//
//	leakgate: export: LEAK, 50/50 iterations (warm-up 5) in 812ms, iteration p50 9.9ms p95 12ms, not settled after 2s
//	METRIC      BASELINE  FINAL    DELTA     TAIL  MAX      SLOPE/IT  GROWTH          THRESHOLD   VERDICT
//	goroutines  12        62       +50       +25   62       +1.00     grows steadily  tail<=0     FAIL (tail 25)
//	    50 × blocked in select at http/transport.go:2652 in net/http.(*persistConn).writeLoop, created by net/http.(*Transport).dialConn
//	        goroutine 97 [select]:
//	        ...
//	fds         14        64       +50       +25   64       +1.00     grows steadily  tail<=0     FAIL (tail 25)
//	    50 × socket tcp 127.0.0.1:41234->127.0.0.1:8080 ESTABLISHED
//	...
//
// Run does the same and returns the Result for a program to inspect,
// render (WriteText, WriteJSON) or store. Measure and Sampler take
// snapshots on demand, for callers that drive their own timing.
//
// # The run
//
// Run goes through these steps; the numbers it reports come from them.
//
//  1. Setup, once. What it holds for the whole run (a server, a pool) is in
//     both the baseline and the final snapshot, so it is not growth.
//  2. Warm-up: WithWarmup iterations (default 5), not measured. Caches and
//     pools fill, lazily started goroutines and descriptors (the network
//     poller's, say) appear, so that they are part of the baseline.
//  3. Baseline: a forced garbage collection, a wait for the finalizers it
//     queued (see below), then every count, goroutine stacks, descriptor and
//     connection details, child processes.
//  4. WithIterations measured iterations (default 50), each followed by a
//     sample of every count into a series. Iterations are numbered from 0
//     across the warm-up and the measured ones. With WithDuration they go on
//     until that much time has passed since the baseline (at least 2, at
//     most WithIterations), for soak runs. WithProgress reports each one.
//  5. Settle, with the runtime's automatic collection off (see Sampling
//     order): goroutines, descriptors and connections are polled with
//     backoff (1ms doubling to 100ms) until none is above its baseline or
//     WithSettleTimeout passes (default 2s); it returns as soon as they are.
//     Goroutines that end a moment after their iteration, and connections
//     the peer closes asynchronously, are not leaks. Each of the three is
//     settled on its own: its final value is the lowest seen while settling
//     or in the final snapshot, so a count that went back once is not a
//     leak even if it jitters up again (an external target's goroutines
//     include its metrics endpoint's short-lived workers).
//  6. Final snapshot: every count and the descriptor, connection and child
//     details, before any collection; then a forced collection and a wait
//     for its finalizers, then the counts again, the heap and the counters;
//     last, goroutine stacks if there are more goroutines than at the
//     baseline.
//  7. Teardown, once, with a context that the run's cancellation does not
//     end.
//
// A scenario that returns an error (from Setup, an iteration or Teardown)
// stops the run with status "error" and an error that matches ErrScenario:
// a broken scenario is not a leak. When ctx is done the run stops after the
// current iteration, skips or stops settling, still takes the final
// snapshot and returns status "cancelled" with what it measured. The
// scenario must return promptly when ctx is done: Run starts no goroutine
// to abandon it. Run starts no goroutines at all, so it is safe in tests
// that use goleak.
//
// # Metrics and probes
//
// Every metric has a stable name used in thresholds and reports. Each can
// be switched off with WithoutProbes; a metric unsupported on the platform
// or target reads -1 in snapshots and has verdict "unsupported".
//
//	goroutines  runtime.NumGoroutine; an external target's go_goroutines
//	fds         open descriptors (/proc/PID/fd)
//	conns       TCP sockets owned by a descriptor, in any state, listeners
//	            included (TIME_WAIT sockets belong to no descriptor)
//	threads     kernel threads (/proc/PID/stat)
//	children    child processes, zombies included (/proc/PID/task/*/children)
//	rss         resident set size in bytes (/proc/PID/stat)
//	heap        Go live heap in bytes after a collection (runtime/metrics
//	            /gc/heap/live:bytes); see Heap
//	unclosed    a counter that libraries feed when a resource is collected
//	            without Close; present only with WithProbes(Unclosed(f))
//	goroutines_leaked
//	            goroutines that the runtime proved leaked: blocked forever
//	            on channels, mutexes or wait groups that no goroutine able
//	            to run can reach; this process, in a binary built with
//	            GOEXPERIMENT=goroutineleakprofile (Go 1.26), else
//	            unsupported. See Proven deadlocks
//
// Gauge and Counter add any other number (sql.DB's open connections, a
// cache's size); a Probe that also implements ItemProbe lists its items so
// that new ones are named in the findings. The descriptor, connection,
// thread, RSS and children probes read Linux's /proc; elsewhere they are
// unsupported.
//
// # Sampling order
//
// os.File and net.Conn close themselves in finalizers, so a collection
// before counting would hide exactly the resources that were dropped
// without Close. Within every sample the harness therefore reads all
// counts and gauges first, then an external target's metrics endpoint,
// then, if the sample forces a collection, the heap, and last the Counter
// probes, which finalizers feed.
//
// The baseline is the exception: it is taken after a collection, so that
// what setup and warm-up dropped is closed and does not inflate it. At the
// end, the counts before and after the final collection are both kept: the
// verdicts use the counts before it, and a descriptor or connection that
// only the collection released is reported as a finding of kind
// "gc-released" (dropped without Close).
//
// The runtime also collects on its own, whenever the process has allocated
// enough; one such collection while settling would close everything
// dropped since the previous one, and the leak would read as settled. So,
// in this process, the harness turns automatic collection off
// (debug.SetGCPercent(-1)) from the start of the last measured iteration,
// or the end of the iterations if they stop early, until the final counts
// before its own collection; then it restores the setting. Meanwhile the
// memory limit is lowered to the memory in use plus as much again, at
// least 256 MiB more, so that a process that keeps allocating is still
// collected (and may then hide what it dropped). Runs in parallel share
// the pause; a program that changes these settings during a run has them
// overwritten when the pause ends.
//
// Waiting for finalizers uses the runtime's own counts
// (/gc/finalizers/queued and /executed, /gc/cleanups likewise): after a
// forced collection the harness waits, for at most a second, until the
// executed counts reach the queued ones. When that collection queued any,
// a second one frees what they released.
//
// A per-iteration sample is counts only. For this process, descriptors are
// enumerated with one poll(2) over the numbers below twice the highest
// descriptor seen (at least 256); a descriptor is classified (fstat(2), and
// for a socket its protocol, cached by inode) when it is new or its poll
// events changed since the previous sample. The baseline, settle and final
// counts classify every descriptor, so deltas are exact; a series point can
// misclassify a number that was closed and reused by another kind of object
// with the same poll events between two samples. /proc files stay open
// between samples. Goroutine stacks, descriptor details and connection
// tables are read only for the baseline and the final snapshot, and the
// final stacks only when there are more goroutines than at the baseline.
//
// # Heap
//
// "Heap" is the Go live heap after a collection: what a leak holds, without
// the garbage that comes and goes. A forced collection costs from a few
// hundred microseconds (small heap, idle machine) to several milliseconds
// (thousands of goroutines, a loaded machine), which is more than the whole
// budget of a per-iteration sample. So not every sample forces one:
//
//   - the first and the middle measured iterations always do;
//   - the last never does: its heap point is the final snapshot's, read
//     after the final collection, because a collection right after the last
//     iteration would close its dropped descriptors before the final count;
//   - any other does when the time spent in forced collections so far, plus
//     the latest one's, stays within WithGCBudget (default 1%) of the
//     measured iterations' time.
//
// The heap series has a value at those iterations and NaN (null in JSON)
// elsewhere; its slope and steadiness use the points it has. For a scenario
// of 10ms per iteration a collection of 0.5ms comes every few iterations.
//
// The harness keeps little of its own in the heap while it measures: from
// the baseline, the descriptor listing and the goroutine IDs (tens of bytes
// per descriptor and goroutine, the same in every later point), and the
// final goroutine dump, which grows with a goroutine leak, is taken after
// the final heap reading.
//
// An external target cannot be made to collect: its heap is the first of
// go_gc_heap_live_bytes (the live heap of its latest collection; unknown
// before its first), go_memstats_heap_inuse_bytes and
// go_memstats_alloc_bytes that its metrics endpoint exports. The last two
// include garbage and are noisy; prefer exporting the first
// (client_golang's collectors.WithGoCollectorRuntimeMetrics with
// collectors.MetricsGC) and longer runs. With WithPprofURL the harness
// also fetches its heap profile (heap?gc=1, which does collect) at the
// baseline and after the final counts, to name allocation sites only: the
// heap's values still come from the metrics endpoint, and the sites from
// the target's own sampling rate (512 KiB by default).
//
// # Statistics
//
// For each metric the Result has the baseline, the final value, delta
// (final - baseline), max and min (over the baseline, the series and the
// final value), the series, and slope: the least-squares slope of the
// series against the iteration number, per iteration.
//
// Steady tells growth that goes on from a one-time step. The series'
// measured points are split at the middle one (which belongs to both
// halves); growth is steady when the second half still rises end to end,
// both halves' least-squares slopes are positive, the second at least half
// the first and the first at least a quarter of the second. A leak of one
// goroutine per iteration is steady; a cache that fills and then plateaus,
// or a pool that opens its connections once, is not, because its second
// half is flat; nor is a jump late in the run, because its first half is.
// Steady is reported, not a verdict: thresholds decide.
//
// Tail is the growth over the tail window, the last half of the measured
// iterations (at least three of them): the final value minus the value at
// the start of the window, or minus the baseline if that is higher, so that
// tail is never more than delta. The start of the window is the point
// after iteration n-max(n/2, 3) of n, or the baseline for three iterations
// or fewer; where that point has no value (heap), the latest one before it
// with a value. tail_slope is tail per iteration of the window: the rate
// of a steady leak, and for the heap of another process, which moves in
// steps at that process's collections, no more than one step's height
// divided by the window (a least-squares fit over half the run would
// weigh a step in its middle half as much again); over ten iterations or
// more it runs between the medians of the five points at each end, so that
// one high or low point there changes it little.
//
// Why half: a pool or cache that fills by the middle of the run is level
// over the whole window, while a leak of one resource per iteration shows
// as n/2 in it (25 in the default 50 iterations), far above the jitter of
// a count. Like the final value, the goroutines at the start of the window
// and at the baseline are settled: the harness samples them until they
// have not fallen for 20ms (at most 250ms), so that goroutines an
// iteration leaves running for a moment (an HTTP connection's loops) count
// at neither end.
// Descriptors and connections keep the sample taken right after the
// iteration.
// A shorter window would pass pools that fill later but lose that margin,
// and divide a step of noise by fewer iterations in tail_slope. The start
// is then the middle iteration, which always has a heap point. With three
// iterations or fewer the run is too short to tell a plateau from a leak,
// and tail is delta.
//
// Released counts, for fds and conns, the descriptors or connections that
// were open before the final collection and closed by it: dropped without
// Close, as the gc-released finding lists them. Where collections come
// often (a process that allocates, or WithGCBudget above 1) finalizers
// close such a leak soon after each iteration, so its count stays level
// and only released shows it. It is at most delta: a descriptor dropped
// before the baseline (by an earlier test) and collected only at the end
// is no growth of the run. It is 0 for other metrics and for another
// process, which the harness cannot make collect.
//
// Shape sums it up: "flat" when delta is not above the metric's noise,
// "grows" when tail is above it, "levels off" otherwise (a step, a pool that
// filled). The noise is zero for counts and probes, 2 for threads (the
// runtime starts threads on its own), 1 MiB for rss and 64 KiB for the
// heap. The text report shows shape in its GROWTH column ("grows
// steadily" when also steady).
//
// # Thresholds
//
// A threshold is a k6-style comparison of one of the metric's statistics:
//
//	expr     = stat op operand { ("+" | "-") operand }
//	stat     = "baseline" | "final" | "delta" | "max" | "min" | "slope"
//	         | "tail" | "tail_slope" | "released"
//	op       = "<" | "<=" | ">" | ">=" | "==" | "!="
//	operand  = number [unit] | stat
//	unit     = "B" | "KB" | "KiB" | "MB" | "MiB" | "GB" | "GiB" | "%"
//
// for example tail<=0, delta<=0, slope<4KiB, tail_slope<8KiB, max<200,
// final<=baseline+2 or delta<10%; see Statistics for each statistic.
// Spaces between tokens are allowed, units are case-insensitive, KB and MB
// are powers of 1000 and KiB and MiB of 1024, and % is a percentage of
// the baseline. Byte units are refused on count metrics.
// Errors (ThresholdError) name the metric, the expression and the bad
// token.
//
// WithThreshold replaces a metric's defaults; every expression must hold.
// A threshold on a metric that does not exist, is switched off, or cannot
// be measured on the target makes Run return an error before the scenario
// starts: it is never a silent pass. Nor is one on a metric that turns out
// not to be measurable while sampling (a probe that returns
// ErrUnsupported): the metric's verdict and the run's status are "error". The defaults are:
//
//	goroutines, children, unclosed               tail<=0
//	fds, conns                                   tail<=0, released<=0
//	threads                                      tail<=2
//	rss                                          tail<16MiB
//	heap                                         tail_slope<8KiB
//	goroutines_leaked                            delta<=0
//
// They judge the last half of the run: a pool, cache or step that is level
// by the middle of the run passes, whatever its size, and one resource more
// per iteration fails (tail n/2); released<=0 fails descriptors and
// connections dropped without Close whose count the runtime's collections
// keep level. Threads may grow by a few when the runtime starts a thread
// for a blocking system call. RSS depends on the allocator and the kernel,
// and grows in steps of several MiB when the Go heap grows for a moment
// (up to 9.5 MiB over the tail in the project's clean scenarios), so its
// bound is 16 MiB over the tail: a leak of 1 MiB an iteration shows 25 MiB
// in a default run, and fails from 32 iterations on (the former
// delta<50MB needed 48). The heap is judged by its growth
// per iteration over the tail, which a one-time allocation does not move
// and a per-iteration leak sets. For strictness, set delta<=0: any growth
// from the baseline fails, a pool that fills during the run included. With
// three iterations or fewer, tail is delta. Added probes have no default
// thresholds: they are reported until one is set; tail<=0 suits a count.
//
// # Findings
//
// A finding names what grew between the baseline and the final snapshot:
//
//	goroutine    new goroutines grouped by where they wait, state and
//	             creator, with a count and one example stack: "blocked in
//	             chan receive at app/x.go:42 in app.(*Monitor).loop,
//	             created by app.(*Monitor).Start", where the place is the
//	             first frame outside the runtime, internal packages, sync
//	             and time.Sleep (the top function when there is none)
//	fd           new descriptors grouped by description ("file /tmp/x",
//	             "socket tcp 127.0.0.1:41234->127.0.0.1:8080 ESTABLISHED",
//	             "pipe", "anon_inode:[eventpoll]"), with their numbers
//	conn         new TCP connections grouped by state and peer: the remote
//	             address of outgoing ones, the listening address of accepted
//	             ones
//	child        new child processes grouped by command
//	alloc-site   when the heap fails, of this process or of a target with
//	             WithPprofURL: the allocation sites whose live bytes grew
//	             most between the baseline's and the final heap profile,
//	             with bytes, objects and a short stack (see
//	             WithHeapProfileRate); a profile that could not be fetched
//	             is one finding that says why
//	item         new items of an ItemProbe
//	gc-released  descriptors or connections that only the final collection
//	             released
//
// Goroutine findings need this process; the others work for any target.
// Goroutines that the runtime proved leaked (see Proven deadlocks) form
// their own groups, first, marked leaked and summarised "leaked: blocked
// forever on unreachable synchronisation: blocked in chan send at …"; they
// are also findings of goroutines_leaked.
//
// # Parallel tests
//
// The scenario's Setup, iterations (warm-up and measured) and Teardown run
// with a pprof label unique to the run, LabelRun ("leakgate.run" =
// "export#3"), and every goroutine they start, directly or not, inherits
// it. With WithAttribution, the goroutine metrics count only the
// goroutines with the run's label, read from the goroutine profile, and the
// goroutine findings list only them, read from a goroutine dump with
// labels (GODEBUG=tracebacklabels=1, which the harness sets for the
// dump's duration). Tests running in parallel then do not blame each
// other. Check turns attribution on by itself when its test runs in
// parallel (t.Parallel on it or on a test it is a subtest of).
//
// Descriptors, connections, threads, children, RSS, the heap and
// "unclosed" belong to the process and cannot be attributed so. In an
// attributed run they are still measured and reported, with the note
// "process-wide: not attributable to this run; other parallel tests add
// to it" (the report's verdict column reads "none (not attributed)"),
// and their default thresholds are not applied: a run is not failed for
// another test's growth. Thresholds set with WithThreshold on them still
// apply, as a deliberate choice. Added probes keep their thresholds.
//
// A goroutine started outside the run and serving it, such as a
// connection goroutine of a server started before Run rather than in
// Setup, has no label and is not counted. Counting labelled goroutines
// costs a goroutine profile per sample instead of runtime.NumGoroutine:
// about 0.8ms with 100 goroutines and 6ms with 1000 on a busy two-core
// machine (see BenchmarkLabelledGoroutines).
//
// # Proven deadlocks
//
// In a binary built with GOEXPERIMENT=goroutineleakprofile (Go 1.26), the
// runtime has a "goroutineleak" profile: writing it runs a garbage
// collection that finds the goroutines blocked on synchronisation objects
// that no goroutine able to run can reach, which can therefore never
// wake, and marks them leaked. The harness collects it after the
// baseline's and after the final collection: goroutines_leaked is the
// number of such goroutines (in an attributed run, with its label), and
// the final goroutine findings mark them. A goroutine waiting on a
// channel that something still references is not proven leaked, however
// long it waits: goroutines still judges those. The collection costs a
// full garbage collection, so it is taken only at those two points (and
// by Sampler.Sample).
//
// # Targets
//
// The default target is this process. Process(pid) watches another one, in
// any language: descriptors, connections, threads, RSS and children are
// read from /proc/PID, and with WithMetricsURL, goroutines and heap from its
// Prometheus text endpoint. The harness keeps one HTTP/1.1 connection to the
// endpoint for the whole run, opened before the baseline, so the target sees
// a constant connection rather than one per sample (Go servers keep a closed
// connection's descriptor for half a second); that connection is left out
// of findings. The scenario drives the target (requests, input); the
// harness only watches. A target that exits ends the run with status
// "error" and an error that matches ErrTargetExited; a Sampler's Sample
// returns such an error too.
//
// An endpoint's go_goroutines includes the endpoint's own collector
// goroutines, one or two depending on scheduling. The baseline of an
// external target's goroutines is therefore the highest of five readings,
// and its final value the lowest seen while settling (see The run), so that
// this jitter is not a leak while growth per iteration still is.
//
// # Result JSON
//
// A Result marshals to JSON with this schema, identified by its first
// field. Numbers that could not be measured are null. Fields may be added
// within a schema version; a field that changes meaning or goes away
// changes the version.
//
//	schema            "leakgate.result/v1"
//	scenario          the scenario's name
//	status            "pass", "leak" (a threshold failed), "error" (the
//	                  scenario or the measurement failed) or "cancelled"
//	error             why the run did not complete, if it did not
//	target            {pid, self, metrics_url}
//	started           start time, RFC 3339
//	duration_seconds  wall time of the run
//	iterations        {requested, completed, warmup}
//	timing            per measured iteration: iteration_p50_seconds,
//	                  iteration_p95_seconds, iteration_mean_seconds,
//	                  iteration_max_seconds; scenario_seconds (setup,
//	                  warm-up, iterations, teardown), harness_seconds (the
//	                  rest), settle_seconds, settled, forced_gcs, gc_seconds
//	metrics           one object per metric, in report order:
//	  name            the metric name
//	  unit            "count", "bytes", or "" for added probes
//	  supported       false when not measurable here (numbers are null)
//	  reason          why unsupported, or the sampling error
//	  note            in an attributed run, the goroutines counted, or
//	                  that the metric is process-wide
//	  baseline, final, delta, max, min
//	  slope           least-squares slope per iteration
//	  steady          growth continues rather than a one-time step
//	  tail            growth over the last half of the run (see
//	                  Statistics); absent in results written before it
//	  tail_slope      tail per iteration of the last half
//	  shape           "flat", "levels off" or "grows"; absent when the
//	                  metric is not measured
//	  series          one value per completed iteration (null: not sampled)
//	  thresholds      [{expr, actual, limit, passed}]: actual is the
//	                  left-hand statistic, limit the right-hand side
//	  verdict         "pass", "fail", "none" (no thresholds), "unsupported",
//	                  "unknown" (too few samples) or "error"
//	  first_fail      for a failing metric, the first measured iteration
//	                  after which its thresholds failed on the series so far
//	                  and kept failing (len(series): only the final value)
//	  breakdown       [{key, baseline, final}]: fds by kind, conns by state
//	findings          [{metric, kind, count, summary, items, stack,
//	                  leaked}]: leaked, for goroutines proven leaked
//	baseline, final   snapshots: taken, goroutines, fds, conns, threads,
//	                  children, rss_bytes, heap_bytes, unclosed (-1: not
//	                  measured), gauges {name: value}
//
// # Limits
//
// Go's runtime opens descriptors of its own the first time it needs them,
// and keeps them: the network poller's (an epoll and an eventfd) with the
// first timer or pollable file. The harness starts the poller before any
// count, since its own timers need it; others, such as the resolver's,
// are the reason for the warm-up.
//
// Unless goroutines are attributed (see Parallel tests), the harness
// measures the whole process, like goleak: tests running in parallel
// (t.Parallel) with a checked scenario add their goroutines to its counts;
// they always add their descriptors. Per-iteration descriptor counts of this
// process see descriptors below twice the highest one seen at the baseline
// or since (at least 256); the baseline and final listings see all of them.
// Go listeners use Multipath TCP where the kernel has it: in this process
// they count as connections; in another process they are read from
// /proc/PID/net/tcp, where their inode differs, and are counted as other
// sockets.
package harness
