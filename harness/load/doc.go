// Package load drives an HTTP server with vegeta (as a library) and
// watches the server while it does: whether it holds its latency and
// rate, and gives back its goroutines, descriptors, connections and memory
// afterwards.
//
//	rep, err := load.Run(ctx, load.Config{
//		Targeter:    vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: base + "/healthz"}),
//		Pace:        load.Constant(100),
//		Duration:    30 * time.Second,
//		MaxRequests: 3000,
//		Workers:     10, MaxWorkers: 100, Connections: 100,
//		Server:      &target, // harness.Process(pid).WithMetricsURL(url)
//		Drain:       queueEmpty,
//		Thresholds:  []string{"p99<25ms", "goroutines<=2"},
//	})
//
// # The run
//
//  1. Baseline: with a Server, a sample of it (the highest goroutine count
//     of three readings) and its connections by state.
//  2. The attack: vegeta's attacker with the Config's workers, maximum
//     workers and connections (one http.Transport that Run owns), paced by
//     vegeta's constant, linear or sine pacer, ended by Duration or
//     MaxRequests, whichever comes first. Every result goes to the Results
//     writer in vegeta's binary encoding, so `vegeta report` and `vegeta plot`
//     read it. A harness.Sampler samples the server every SampleEvery
//     (500ms): RSS, CPU time (the gauge cpu_seconds), descriptors, threads,
//     and goroutines and heap from its metrics URL; its TCP connection
//     tables, which are costly to read, at most every ConnsEvery (1s).
//  3. The attacker's connections are closed, then the drain: Drain is polled
//     until it reports done (a job queue empty), for at most DrainTimeout.
//  4. Settle and final sample: until goroutines, descriptors and
//     connections are back to the baseline or Settle passes; each final
//     value is the lowest seen.
//
// # Latency and rate
//
// vegeta measures each request's latency from when a worker sent it. When
// the workers cannot keep up, requests wait for a worker, and that wait is
// in no latency (coordinated omission): the p99 looks fine while a backlog
// grows. So Run also reports latency from each request's scheduled send
// time (the pacer's schedule, simulated from the attack's start, indexed by
// the result's sequence number): the "c" quantities below. And it compares
// the requests sent with those the pace asked for in the duration: the rate
// check, on by default, fails a run whose attacker fell behind.
//
// # Thresholds
//
// A threshold is NAME OP NUMBER[UNIT], OP one of < <= > >= == !=:
//
//	rate        requests sent / requests the pace asked for   rate>=99%
//	success     2xx and 3xx responses / requests sent          success>=99.9%
//	p50 p90 p95 p99 max mean   latency by the workers          p99<25ms
//	cp50 cp90 cp95 cp99 cmax   latency from the scheduled send time   cp99<50ms
//	goroutines fds conns threads   the server's growth from before the attack
//	            to after the drain (counts)                    goroutines<=2
//	rss         growth of resident memory                      rss<50MB
//	heap_slope  least-squares growth of the Go heap over the attack and
//	            drain, per second                              heap_slope<1MiB/s
//	cpu_per_1k  the server's CPU time per 1000 requests         cpu_per_1k<2s
//	drain       time from the end of the attack to drained (never: +Inf)  drain<10s
//
// Durations take ns, us, µs, ms, s or m; ratios a % or a fraction; bytes
// B, KB, KiB, MB, MiB, GB or GiB (KB and MB powers of 1000). The server's
// quantities need a watched server. The defaults are rate>=99% and
// success>=99%, and with a server goroutines<=2, fds<=2 and conns<=2 (a
// metrics endpoint's own goroutines and connections jitter by one or two);
// an expression on a name replaces that name's default.
//
// # Shards and merging
//
// Several attackers (machines, CI jobs) can share one load: each runs with
// Shard{I, N} and sends 1/N of the pace. Every result carries its attack's
// name, which records the pace, bounds, start and shard; ReadResults and
// Merge combine the attackers' results files into one report, whose
// requested and achieved rates are the sums of theirs. Merge refuses a
// shard given twice and a split with a shard missing. Plain vegeta results
// merge too, without the rate check and the corrected latency.
//
// # Outputs
//
// A Report renders as text (WriteText: the thresholds first, ✓ or ✗),
// JSON (WriteJSON, schema leakgate.load/v1), JUnit XML (WriteJUnit: a test
// case per threshold) and one self-contained HTML page (WriteHTML: latency,
// throughput and each server resource over time, the attack and drain
// windows marked).
package load
