package report_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/harness/report"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// userText is hostile text in a reason: markup, a URL, control characters.
const userText = `no key: <script>alert("x")</script> & see https://evil.example/?a=1&b=2 ]]> ` + "\x1b[31mred\x1b[0m"

// metric builds a measured metric from its series and thresholds.
func metric(name, unit string, baseline float64, series []float64, exprs map[string]float64) harness.MetricResult {
	final := series[len(series)-1]
	m := harness.MetricResult{
		Name: name, Unit: unit, Supported: true,
		Baseline: baseline, Final: final, Delta: final - baseline,
		Max: baseline, Min: baseline, Series: series, Verdict: harness.VerdictPass,
	}
	var n, sx, sy, sxy, sxx float64
	for i, v := range series {
		if math.IsNaN(v) {
			continue
		}
		m.Max, m.Min = max(m.Max, v), min(m.Min, v)
		x := float64(i)
		n, sx, sy, sxy, sxx = n+1, sx+x, sy+v, sxy+x*v, sxx+x*x
	}
	m.Slope = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	m.Steady = m.Slope > 0.5
	m.Tail, m.TailSlope, m.Shape = tailOf(name, unit, baseline, series)
	for _, expr := range sortedExprs(exprs) {
		limit := exprs[expr]
		var actual float64
		switch expr[:5] {
		case "delta":
			actual = m.Delta
		case "slope":
			actual = m.Slope
		default:
			actual = m.Final
		}
		passed := actual <= limit
		m.Thresholds = append(m.Thresholds, harness.ThresholdResult{Expr: expr, Actual: actual, Limit: limit, Passed: passed})
		if !passed {
			m.Verdict = harness.VerdictFail
		}
	}
	return m
}

// tailOf computes tail, tail_slope and the shape as the harness does: the
// window is the last half of the iterations (at least three), starting at
// the last measured point at or before its start, or the baseline.
func tailOf(name, unit string, baseline float64, series []float64) (tail, tailSlope float64, shape harness.Shape) {
	pts := append([]float64{baseline}, series...)
	k := len(series)
	j := max(k-max(k/2, 3), 0)
	for j > 0 && math.IsNaN(pts[j]) {
		j--
	}
	final := series[k-1]
	tail = final - max(baseline, pts[j])
	tailSlope = tail / float64(k-j)
	noise := 0.0
	switch {
	case name == harness.MetricRSS:
		noise = 1 << 20
	case unit == harness.UnitBytes:
		noise = 64 << 10
	case name == harness.MetricThreads:
		noise = 2
	}
	switch {
	case tail > noise:
		shape = harness.ShapeGrows
	case final-baseline > noise:
		shape = harness.ShapeLevelsOff
	default:
		shape = harness.ShapeFlat
	}
	return tail, tailSlope, shape
}

// Notes of an attributed run, as the harness writes them.
const (
	noteOwn         = "this run's goroutines only: labelled leakgate.run=quote-live"
	noteProcessWide = "process-wide: not attributable to this run; other parallel tests add to it"
)

func sortedExprs(m map[string]float64) []string { return slices.Sorted(maps.Keys(m)) }

func ramp(start, step float64, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = start + step*float64(i+1)
	}
	return s
}

func flat(v float64, n int) []float64 { return ramp(v, 0, n) }

// handResult is a deterministic result of 10 iterations; leaky makes the
// goroutines and fds grow by one per iteration, with findings.
func handResult(scenario string, leaky bool) *harness.Result {
	const n = 10
	nan := math.NaN()
	heap := []float64{4 << 20, nan, nan, 4<<20 + 2048, nan, 4<<20 + 4096, nan, nan, nan, 4<<20 + 1024}
	gor, fds := flat(4, n), flat(9, n)
	if leaky {
		gor, fds = ramp(4, 1, n), ramp(9, 1, n)
	}
	res := &harness.Result{
		Schema: harness.Schema, Scenario: scenario, Status: harness.StatusPass,
		Target:     harness.TargetInfo{PID: 4242, Self: true},
		Started:    t0,
		Iterations: harness.Iterations{Requested: n, Completed: n, Warmup: 2},
		Timing:     harness.Timing{P50Seconds: 0.012, P95Seconds: 0.031, Settled: !leaky, SettleSeconds: 0.05},
		Metrics: []harness.MetricResult{
			metric(harness.MetricGoroutines, harness.UnitCount, 4, gor, map[string]float64{"delta<=0": 0}),
			metric(harness.MetricFDs, harness.UnitCount, 9, fds, map[string]float64{"delta<=0": 0}),
			metric(harness.MetricConns, harness.UnitCount, 1, flat(1, n), map[string]float64{"delta<=0": 0}),
			metric(harness.MetricThreads, harness.UnitCount, 7, flat(8, n), map[string]float64{"delta<=2": 2}),
			metric(harness.MetricRSS, harness.UnitBytes, 12<<20, ramp(12<<20, 64<<10, n), map[string]float64{"delta<50MB": 50e6}),
			metric(harness.MetricHeap, harness.UnitBytes, 4<<20, heap, map[string]float64{"slope<8KiB": 8 << 10}),
		},
		Findings: []harness.Finding{},
	}
	res.DurationSeconds = 1.25
	if leaky {
		res.Status = harness.StatusLeak
		// An attributed run: goroutines are the run's own, threads and
		// rss the whole process's; threads has no threshold then.
		gm, th, rss := &res.Metrics[0], &res.Metrics[3], &res.Metrics[4]
		gm.Note, th.Note, rss.Note = noteOwn, noteProcessWide, noteProcessWide
		th.Thresholds, th.Verdict = nil, harness.VerdictNone
		// The heap grew in the first half and levelled off.
		hm := &res.Metrics[5]
		*hm = metric(harness.MetricHeap, harness.UnitBytes, 4<<20,
			[]float64{4<<20 + 100<<10, 4<<20 + 200<<10, 4<<20 + 300<<10, nan, 4<<20 + 300<<10, nan, nan, nan, nan, 4<<20 + 300<<10},
			map[string]float64{"slope<64KiB": 64 << 10})
		res.Findings = []harness.Finding{
			{
				Metric: harness.MetricGoroutines, Kind: harness.FindingGoroutine, Count: 10,
				Summary: "[chan receive] main.leak, created by main.run",
				Stack:   "goroutine 31 [chan receive]:\nmain.leak(0xc000012345)\n\t/src/main.go:12 +0x25\ncreated by main.run in goroutine 1\n\t/src/main.go:20 +0x45",
			},
			{
				Metric: harness.MetricGoroutines, Kind: harness.FindingGoroutine, Count: 2, Leaked: true,
				Summary: harness.LeakedSummary + ": [chan send] main.stuck, created by main.run",
				Stack:   "goroutine 44 [chan send]:\nmain.stuck(0xc000054321)\n\t/src/main.go:30 +0x31",
			},

			{
				Metric: harness.MetricFDs, Kind: harness.FindingFD, Count: 10,
				Summary: "socket tcp 127.0.0.1:41234->127.0.0.1:8080 ESTABLISHED",
				Items:   []string{"fd 11", "fd 12", "fd 13", "fd 14"},
			},
			{
				Metric: harness.MetricFDs, Kind: harness.FindingGCReleased, Count: 1,
				Summary: "released only by a forced collection: socket tcp 127.0.0.1:41299->127.0.0.1:8080",
			},
		}
	}
	return res
}

// handReport is a deterministic report with a case of every status.
func handReport() *report.Report {
	errored := handResult("crew", false)
	errored.Status, errored.Error = harness.StatusError, "harness: scenario failed: iteration 3: connection refused"
	errored.Iterations.Completed = 3
	return &report.Report{
		Schema: report.Schema, Suite: "ci", Started: t0, DurationSeconds: 42.5,
		Cases: []report.Case{
			{Scenario: "quote", Mode: "mock", Status: report.StatusPass, DurationSeconds: 1.3, Result: handResult("quote", false)},
			{Scenario: "quote", Mode: "live", Status: report.StatusLeak, DurationSeconds: 1.4, Result: handResult("quote", true)},
			{Scenario: "crew", Mode: "mock", Status: report.StatusError, Reason: "scenario failed", DurationSeconds: 0.8, Result: errored},
			{
				Scenario: "worker", Mode: "live", Status: report.StatusError, Reason: "worker exited with status 2", DurationSeconds: 0.1,
				Log: "starting\n" + lines(30) + "panic: boom <b>bold</b>\n",
			},
			{Scenario: "export", Mode: "live", Status: report.StatusCancelled, Reason: "interrupted", DurationSeconds: 5},
			{Scenario: "polygon", Mode: "live", Status: report.StatusSkipped, Reason: userText},
		},
	}
}

func lines(n int) string {
	var s string
	for i := range n {
		s += fmt.Sprintf("line %d\n", i+1)
	}
	return s
}

// bigReport has n cases of hand-built results, a third of them leaking.
func bigReport(n int) *report.Report {
	r := &report.Report{Schema: report.Schema, Suite: "big", Started: t0, DurationSeconds: 600}
	for i := range n {
		leaky := i%3 == 0
		res := handResult(fmt.Sprintf("scenario-%02d", i/2), leaky)
		// 50 iterations, as a suite runs.
		for j := range res.Metrics {
			m := &res.Metrics[j]
			for len(m.Series) < 50 {
				m.Series = append(m.Series, m.Series[len(m.Series)%10]+float64(len(m.Series)))
			}
		}
		status := report.StatusPass
		if leaky {
			status = report.StatusLeak
		}
		r.Cases = append(r.Cases, report.Case{
			Scenario: res.Scenario, Mode: []string{"mock", "live"}[i%2], Status: status, DurationSeconds: 2, Result: res,
		})
	}
	return r
}

var real struct {
	once sync.Once
	res  *harness.Result
	err  error
}

// realResult is the result of a real harness run of a scenario that leaks a
// goroutine per iteration; the goroutines end when the run returns.
func realResult(t *testing.T) *harness.Result {
	t.Helper()
	real.once.Do(func() {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		sc := harness.Scenario{
			Name: "leaky-goroutine",
			Run: func(ctx context.Context, i int) error {
				wg.Go(func() { <-stop })
				return nil
			},
		}
		real.res, real.err = harness.Run(context.Background(), sc,
			harness.WithIterations(5), harness.WithWarmup(1), harness.WithSettleTimeout(100*time.Millisecond))
		close(stop)
		wg.Wait()
	})
	require.NoError(t, real.err)
	require.Equal(t, harness.StatusLeak, real.res.Status, "the leaky scenario should leak")
	return real.res
}

// realReport is a report of the real run in two modes plus a skipped case.
func realReport(t *testing.T) *report.Report {
	res := realResult(t)
	return &report.Report{
		Schema: report.Schema, Suite: "real", Started: res.Started, DurationSeconds: res.DurationSeconds,
		Cases: []report.Case{
			{Scenario: res.Scenario, Mode: "mock", Status: report.Status(res.Status), DurationSeconds: res.DurationSeconds, Result: res},
			{Scenario: res.Scenario, Mode: "live", Status: report.Status(res.Status), DurationSeconds: res.DurationSeconds, Result: res},
			{Scenario: "keyed", Mode: "live", Status: report.StatusSkipped, Reason: "no API key"},
		},
	}
}

// chartsOf is the number of charts a report's HTML should have: one per
// metric with a measured point, per case.
func chartsOf(r *report.Report) int {
	n := 0
	for _, c := range r.Cases {
		if c.Result == nil {
			continue
		}
		for _, m := range c.Result.Metrics {
			for _, v := range m.Series {
				if !math.IsNaN(v) {
					n++
					break
				}
			}
		}
	}
	return n
}
