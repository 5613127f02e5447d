package harness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// fakeT records what Check reports.
type fakeT struct {
	errs []string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

var quick = []harness.Option{harness.WithIterations(10), harness.WithWarmup(2), harness.WithSettleTimeout(50 * time.Millisecond)}

func noop(context.Context, int) error { return nil }

func TestCheck(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	tests := []struct {
		name     string
		scenario harness.Scenario
		opts     []harness.Option
		wantErrs []string // substrings of the one reported error, if any
	}{
		{name: "pass", scenario: harness.Scenario{Name: "noop", Run: noop}},
		{
			name: "leak",
			scenario: harness.Scenario{Name: "leaky", Run: func(context.Context, int) error {
				go func() { <-stop }()
				return nil
			}},
			wantErrs: []string{"leakgate: leaky: LEAK", "goroutines", "FAIL (tail 5)", "created by github.com/leakgate/leakgate/harness_test.TestCheck"},
		},
		{
			name:     "scenario error",
			scenario: harness.Scenario{Name: "broken", Run: func(context.Context, int) error { return errors.New("boom") }},
			wantErrs: []string{"leakgate: broken: ERROR", "error: scenario iteration 0: boom"},
		},
		{
			name:     "invalid options",
			scenario: harness.Scenario{Name: "noop", Run: noop},
			opts:     []harness.Option{harness.WithIterations(1)},
			wantErrs: []string{"harness: iterations 1: need at least 2 for a slope"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := &fakeT{}
			harness.Check(ft, tt.scenario, append(quick, tt.opts...)...)
			if tt.wantErrs == nil {
				require.Empty(t, ft.errs)
				return
			}
			require.Len(t, ft.errs, 1)
			for _, want := range tt.wantErrs {
				require.Contains(t, ft.errs[0], want)
			}
		})
	}
}

func TestCheckWithTestingT(t *testing.T) {
	res := harness.Check(t, harness.Scenario{Name: "noop", Run: noop}, quick...)
	require.True(t, res.Passed())
}

func TestScenarioErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name          string
		scenario      harness.Scenario
		wantPhase     string
		wantIteration int
		wantCompleted int
		wantTeardown  bool
	}{
		{
			name:      "setup",
			scenario:  harness.Scenario{Setup: func(context.Context) error { return boom }, Run: noop},
			wantPhase: "setup",
		},
		{
			name: "iteration",
			scenario: harness.Scenario{Run: func(_ context.Context, i int) error {
				if i == 6 {
					return boom
				}
				return nil
			}},
			wantPhase:     "iteration",
			wantIteration: 6,
			wantCompleted: 4, // after 2 warm-up iterations, 2..5 were measured
			wantTeardown:  true,
		},
		{
			name:          "teardown",
			scenario:      harness.Scenario{Run: noop, Teardown: func(context.Context) error { return boom }},
			wantPhase:     "teardown",
			wantCompleted: 10,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tornDown := false
			if tt.wantTeardown {
				tt.scenario.Teardown = func(context.Context) error { tornDown = true; return nil }
			}
			res, err := harness.Run(t.Context(), tt.scenario, quick...)
			require.ErrorIs(t, err, harness.ErrScenario)
			require.ErrorIs(t, err, boom)
			var se *harness.ScenarioError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.wantPhase, se.Phase)
			require.Equal(t, tt.wantIteration, se.Iteration)
			require.Equal(t, harness.StatusError, res.Status)
			require.False(t, res.Passed())
			require.Equal(t, err.Error(), res.Error)
			require.Equal(t, tt.wantCompleted, res.Iterations.Completed)
			require.Equal(t, tt.wantTeardown, tornDown)
		})
	}
}

func TestCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var tornDown atomic.Bool
	sc := harness.Scenario{
		Name: "cancelled",
		Run: func(ctx context.Context, i int) error {
			if i == 12 {
				cancel()
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		},
		Teardown: func(ctx context.Context) error {
			require.NoError(t, ctx.Err(), "teardown gets a live context")
			tornDown.Store(true)
			return nil
		},
	}
	res, err := harness.Run(ctx, sc, harness.WithIterations(1000), harness.WithWarmup(2), harness.WithSettleTimeout(time.Hour))
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, harness.StatusCancelled, res.Status)
	require.Equal(t, 10, res.Iterations.Completed)
	require.True(t, tornDown.Load())
	m, ok := res.Metric(harness.MetricGoroutines)
	require.True(t, ok)
	require.Len(t, m.Series, 10)
	require.False(t, math.IsNaN(m.Final), "the final snapshot is taken")
	require.Zero(t, res.Timing.SettleSeconds, "a cancelled run does not settle")

	// Cancelled in the last iteration, by a scenario that does not watch
	// its context: settling stops, and a leak is not a verdict.
	stop := make(chan struct{})
	defer close(stop)
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	sc = harness.Scenario{Name: "cancelled while settling", Run: func(_ context.Context, i int) error {
		go func() { <-stop }()
		if i == 5 {
			cancel()
		}
		return nil
	}}
	res, err = harness.Run(ctx, sc, harness.WithIterations(5), harness.WithWarmup(1), harness.WithSettleTimeout(time.Hour))
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, harness.StatusCancelled, res.Status, report(res))
	require.Equal(t, 5, res.Iterations.Completed)
	require.False(t, res.Timing.Settled)
	m, _ = res.Metric(harness.MetricGoroutines)
	require.Equal(t, 5.0, m.Delta, "the final snapshot is taken")

	// A context cancelled before the start stops at once.
	done, cancelDone := context.WithCancel(t.Context())
	cancelDone()
	res, err = harness.Run(done, harness.Scenario{Run: noop})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, harness.StatusCancelled, res.Status)
}

func TestOptionErrors(t *testing.T) {
	sc := harness.Scenario{Name: "x", Run: noop}
	gauge := harness.Gauge("cache", func() float64 { return 0 })
	tests := []struct {
		name     string
		scenario harness.Scenario
		opts     []harness.Option
		wantErr  string
	}{
		{"no run", harness.Scenario{Name: "x"}, nil, `harness: scenario "x" has no Run function`},
		{"iterations", sc, []harness.Option{harness.WithIterations(0)}, "harness: iterations 0: need at least 2 for a slope"},
		{"warm-up", sc, []harness.Option{harness.WithWarmup(-1)}, "harness: warm-up -1: must not be negative"},
		{"settle", sc, []harness.Option{harness.WithSettleTimeout(-1)}, "harness: settle timeout -1ns: must not be negative"},
		{"gc budget", sc, []harness.Option{harness.WithGCBudget(-0.5)}, "harness: GC budget -0.5: want a fraction of the scenario's time, 0 or more"},
		{"unknown probe", sc, []harness.Option{harness.WithoutProbes("thraeds")}, `harness: WithoutProbes: unknown metric "thraeds" (want goroutines, goroutines_leaked, fds, conns, threads, children, rss, heap, unclosed or an added probe)`},
		{"duplicate probe", sc, []harness.Option{harness.WithProbes(gauge, gauge)}, `harness: two probes named "cache"`},
		{"builtin name", sc, []harness.Option{harness.WithProbes(harness.Gauge("fds", nil))}, `harness: probe "fds": the name of a built-in metric`},
		{"empty name", sc, []harness.Option{harness.WithProbes(harness.Gauge("", nil))}, "harness: a probe has an empty name"},
		{"bad metrics url", sc, []harness.Option{harness.WithTarget(harness.Process(os.Getppid()).WithMetricsURL("ftp://x"))}, `scheme must be http or https`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := harness.Run(t.Context(), tt.scenario, tt.opts...)
			require.ErrorContains(t, err, tt.wantErr)
			require.Nil(t, res)
		})
	}
}

// itemProbe counts and lists a set of names.
type itemProbe struct {
	mu    sync.Mutex
	items []string
}

func (p *itemProbe) Name() string { return "sessions" }
func (p *itemProbe) Sample(context.Context) (float64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return float64(len(p.items)), nil
}
func (p *itemProbe) Items(context.Context) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.items...), nil
}

func TestProbes(t *testing.T) {
	var cacheSize atomic.Int64
	var unclosed atomic.Int64
	sessions := &itemProbe{}
	sc := harness.Scenario{
		Name: "probes",
		Run: func(_ context.Context, i int) error {
			cacheSize.Add(1)
			sessions.mu.Lock()
			sessions.items = append(sessions.items, fmt.Sprintf("session %d", i%3))
			sessions.mu.Unlock()
			// A resource that counts itself unclosed when collected.
			r := new([64]byte)
			runtime.AddCleanup(r, func(*atomic.Int64) { unclosed.Add(1) }, &unclosed)
			return nil
		},
	}
	res, err := harness.Run(t.Context(), sc, append(quick,
		harness.WithProbes(
			harness.Gauge("cache", func() float64 { return float64(cacheSize.Load()) }),
			harness.Unclosed(unclosed.Load),
			sessions,
		),
		harness.WithThreshold("cache", "delta<5"),
	)...)
	require.NoError(t, err)
	require.Equal(t, harness.StatusLeak, res.Status)

	cache, _ := res.Metric("cache")
	require.Equal(t, harness.VerdictFail, cache.Verdict)
	require.Equal(t, 10.0, cache.Delta)
	require.Equal(t, 1.0, cache.Slope)
	require.Empty(t, cache.Unit)

	unc, _ := res.Metric(harness.MetricUnclosed)
	require.Equal(t, harness.VerdictFail, unc.Verdict, report(res))
	require.GreaterOrEqual(t, unc.Delta, 9.0, "collected and counted by the end")
	require.Equal(t, []harness.ThresholdResult{{Expr: "tail<=0", Actual: unc.Tail, Limit: 0, Passed: false}}, unc.Thresholds)

	s, _ := res.Metric("sessions")
	require.Equal(t, harness.VerdictNone, s.Verdict, "no default thresholds on added probes")
	require.Equal(t, []harness.Finding{
		// Iterations 2 to 11 were measured.
		{Metric: "sessions", Kind: harness.FindingItem, Count: 4, Summary: "session 2"},
		{Metric: "sessions", Kind: harness.FindingItem, Count: 3, Summary: "session 0"},
		{Metric: "sessions", Kind: harness.FindingItem, Count: 3, Summary: "session 1"},
	}, res.FindingsFor("sessions"))

	require.Equal(t, 10.0, res.Final.Gauges["cache"]-res.Baseline.Gauges["cache"])
	require.Equal(t, res.Final.Unclosed-res.Baseline.Unclosed, int64(unc.Delta))
}

func TestWithoutProbes(t *testing.T) {
	res, err := harness.Run(t.Context(), harness.Scenario{Run: noop}, append(quick,
		harness.WithoutProbes(harness.MetricHeap, harness.MetricChildren, harness.MetricThreads))...)
	require.NoError(t, err)
	var names []string
	for _, m := range res.Metrics {
		names = append(names, m.Name)
	}
	require.Equal(t, []string{"goroutines", "goroutines_leaked", "fds", "conns", "rss"}, names)
	require.Equal(t, -1, res.Final.Threads)
	require.Equal(t, int64(-1), res.Final.Heap)
}

func TestThresholdOverride(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	sc := harness.Scenario{Name: "three goroutines", Run: func(_ context.Context, i int) error {
		if i < 5 {
			go func() { <-stop }()
		}
		return nil
	}}
	res, err := harness.Run(t.Context(), sc, append(quick,
		harness.WithThreshold(harness.MetricGoroutines, "final<=baseline+3", "max<1000"))...)
	require.NoError(t, err)
	require.True(t, res.Passed(), report(res))
	m, _ := res.Metric(harness.MetricGoroutines)
	require.Equal(t, 3.0, m.Delta)
	require.False(t, m.Steady, "a one-time step")
	require.Len(t, m.Thresholds, 2)

	// No expressions: reported, never failing.
	res, err = harness.Run(t.Context(), sc, append(quick, harness.WithThreshold(harness.MetricGoroutines))...)
	require.NoError(t, err)
	m, _ = res.Metric(harness.MetricGoroutines)
	require.Equal(t, harness.VerdictNone, m.Verdict)
}

func TestChildProcessLeak(t *testing.T) {
	var cmds []*exec.Cmd
	t.Cleanup(func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	})
	sc := harness.Scenario{Name: "child leak", Run: func(context.Context, int) error {
		c := exec.Command("sleep", "60")
		cmds = append(cmds, c)
		return c.Start()
	}}
	res, err := harness.Run(t.Context(), sc, harness.WithIterations(3), harness.WithWarmup(1), harness.WithSettleTimeout(0))
	require.NoError(t, err)
	m, _ := res.Metric(harness.MetricChildren)
	require.Equal(t, harness.VerdictFail, m.Verdict, report(res))
	require.Equal(t, 3.0, m.Delta)
	f := res.FindingsFor(harness.MetricChildren)
	require.Len(t, f, 1, report(res))
	require.Equal(t, 3, f[0].Count)
	require.Equal(t, "sleep", f[0].Summary)
}

func TestResultJSON(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	res, err := harness.Run(t.Context(), harness.Scenario{Name: "json", Run: func(context.Context, int) error {
		go func() { <-stop }()
		return nil
	}}, append(quick, harness.WithTarget(harness.Self()))...)
	require.NoError(t, err)

	var buf bytes.Buffer
	require.NoError(t, res.WriteJSON(&buf))
	var raw map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &raw))
	require.Equal(t, harness.Schema, raw["schema"])
	require.Equal(t, "leak", raw["status"])
	for _, key := range []string{"scenario", "target", "started", "duration_seconds", "iterations", "timing", "metrics", "findings", "baseline", "final"} {
		require.Contains(t, raw, key)
	}
	metric := raw["metrics"].([]any)[0].(map[string]any)
	for _, key := range []string{"name", "unit", "supported", "baseline", "final", "delta", "max", "min", "slope", "steady", "series", "thresholds", "verdict"} {
		require.Contains(t, metric, key)
	}

	var back harness.Result
	require.NoError(t, json.Unmarshal(buf.Bytes(), &back))
	require.Equal(t, res.Status, back.Status)
	require.Equal(t, res.Findings, back.Findings)
	require.Equal(t, len(res.Metrics), len(back.Metrics))
	for i := range res.Metrics {
		require.Equal(t, res.Metrics[i].Name, back.Metrics[i].Name)
		require.Equal(t, res.Metrics[i].Verdict, back.Metrics[i].Verdict)
		if res.Metrics[i].Supported { // NaN otherwise
			require.Equal(t, res.Metrics[i].Delta, back.Metrics[i].Delta)
		}
	}
}

// Every key of the Result JSON is documented in the package documentation's
// "Result JSON" section, and the schema named there is Schema.
func TestResultJSONDocumented(t *testing.T) {
	snap := harness.Snapshot{Gauges: map[string]float64{"cache": 1}}
	res := harness.Result{
		Schema: harness.Schema, Error: "e", Target: harness.TargetInfo{MetricsURL: "http://x/metrics"},
		Metrics: []harness.MetricResult{{
			Reason: "r", Series: []float64{1},
			Thresholds: []harness.ThresholdResult{{Expr: "delta<=0"}},
			Breakdown:  []harness.BreakdownRow{{Key: "file"}},
		}},
		Findings: []harness.Finding{{Items: []string{"fd 3"}, Stack: "goroutine 1 [running]:"}},
		Baseline: snap, Final: snap,
	}
	var buf bytes.Buffer
	require.NoError(t, res.WriteJSON(&buf))
	var doc any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	keys := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				keys[k] = true
				if k != "gauges" { // keyed by probe name
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)

	src, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(src), "// # Result JSON\n")
	require.True(t, ok)
	section, _, ok = strings.Cut(section, "// # ")
	require.True(t, ok)
	require.Contains(t, section, `"`+harness.Schema+`"`)
	for k := range keys {
		require.Regexp(t, `\b`+regexp.QuoteMeta(k)+`\b`, section, "JSON key %q is not documented", k)
	}
	require.Greater(t, len(keys), 50)
}

func TestResultJSONNull(t *testing.T) {
	m := harness.MetricResult{Name: "heap", Supported: false, Baseline: math.NaN(), Final: math.NaN(),
		Delta: math.NaN(), Max: math.NaN(), Min: math.NaN(), Slope: math.NaN(), Tail: math.NaN(), TailSlope: math.NaN(),
		Series: []float64{1, math.NaN(), 3}, Verdict: harness.VerdictUnsupported}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	require.JSONEq(t, `{"name":"heap","unit":"","supported":false,"baseline":null,"final":null,"delta":null,
		"max":null,"min":null,"slope":null,"steady":false,"tail":null,"tail_slope":null,"series":[1,null,3],"thresholds":[],"verdict":"unsupported"}`, string(b))
	var back harness.MetricResult
	require.NoError(t, json.Unmarshal(b, &back))
	require.True(t, math.IsNaN(back.Series[1]))
	require.True(t, math.IsNaN(back.Slope))
}

func TestWriteText(t *testing.T) {
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	res, err := harness.Run(t.Context(), harness.Scenario{Name: "text", Run: func(context.Context, int) error {
		f, err := os.Open(os.DevNull)
		files = append(files, f)
		return err
	}}, quick...)
	require.NoError(t, err)
	text := report(res)
	lines := strings.Split(text, "\n")
	require.True(t, strings.HasPrefix(lines[0], "leakgate: text: LEAK, 10/10 iterations (warm-up 2) in "), lines[0])
	require.Regexp(t, `^METRIC +BASELINE +FINAL +DELTA +TAIL +MAX +SLOPE/IT +GROWTH +THRESHOLD +VERDICT$`, lines[1])
	// The tail of 10 iterations is the last 5.
	require.Regexp(t, `(?m)^fds +\d+ +\d+ +\+10 +\+5 +\d+ +\+1\.00 +grows steadily +tail<=0, released<=0 +FAIL \(tail 5\)$`, text)
	require.Regexp(t, `(?m)^    10 × file /dev/null$`, text)
	require.Regexp(t, `(?m)^goroutines +\d+ +\d+ +(0|-\d+) +(0|-\d+) +\d+ +[-+0-9.]+ +flat +tail<=0 +pass$`, text)
	require.Regexp(t, `(?m)^heap +[0-9.]+[KMG]?i?B +`, text)
	// Findings appear only under failing rows.
	require.Equal(t, 1, strings.Count(text, "    10 × "), text)
}

func TestSnapshot(t *testing.T) {
	base, err := harness.Measure(t.Context())
	require.NoError(t, err)
	require.Positive(t, base.Goroutines)
	require.Positive(t, base.FDs)
	require.Positive(t, base.Threads)
	require.Positive(t, base.RSS)
	require.Positive(t, base.Heap)
	require.Equal(t, int64(-1), base.Unclosed)

	f, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer f.Close()
	now, err := harness.Measure(t.Context(), harness.WithProbes(harness.Gauge("answer", func() float64 { return 42 })))
	require.NoError(t, err)
	d := now.Sub(base)
	require.Equal(t, 1.0, d[harness.MetricFDs])
	require.NotContains(t, d, harness.MetricUnclosed)
	require.NotContains(t, d, "answer", "absent from the base")
	v, ok := now.Value("answer")
	require.True(t, ok)
	require.Equal(t, 42.0, v)
	_, ok = now.Value(harness.MetricUnclosed)
	require.False(t, ok)
}

// failingProbe cannot read its metric.
type failingProbe struct{}

func (failingProbe) Name() string                            { return "broken" }
func (failingProbe) Sample(context.Context) (float64, error) { return 0, errors.New("no reading") }

type unsupportedProbe struct{}

func (unsupportedProbe) Name() string { return "elsewhere" }
func (unsupportedProbe) Sample(context.Context) (float64, error) {
	return 0, fmt.Errorf("not on this OS: %w", harness.ErrUnsupported)
}

func TestProbeErrors(t *testing.T) {
	res, err := harness.Run(t.Context(), harness.Scenario{Run: noop}, append(quick,
		harness.WithProbes(failingProbe{}, unsupportedProbe{}))...)
	require.ErrorContains(t, err, "harness: metric broken: probe broken: no reading")
	require.Equal(t, harness.StatusError, res.Status)
	m, _ := res.Metric("broken")
	require.Equal(t, harness.VerdictError, m.Verdict)
	u, _ := res.Metric("elsewhere")
	require.Equal(t, harness.VerdictUnsupported, u.Verdict)
	require.False(t, u.Supported)
	require.Contains(t, u.Reason, "not on this OS")
	g, _ := res.Metric(harness.MetricGoroutines)
	require.Equal(t, harness.VerdictPass, g.Verdict, "the other metrics are still measured")

	// A threshold on a metric that turns out not to be measurable is an
	// error, not a silent pass.
	res, err = harness.Run(t.Context(), harness.Scenario{Run: noop}, append(quick,
		harness.WithProbes(unsupportedProbe{}), harness.WithThreshold("elsewhere", "delta<=0"))...)
	require.EqualError(t, err, "harness: metric elsewhere: has thresholds but is not measured on this target: probe elsewhere: not on this OS: harness: unsupported")
	require.Equal(t, harness.StatusError, res.Status)
	u, _ = res.Metric("elsewhere")
	require.Equal(t, harness.VerdictError, u.Verdict)
	require.Regexp(t, `(?m)^elsewhere +- .* ERROR: has thresholds but is not measured`, report(res))
}

// A Sampler returns what it could read, and says what it could not.
func TestSamplerProbeError(t *testing.T) {
	s, err := harness.NewSampler(t.Context(), harness.WithProbes(failingProbe{}, harness.Gauge("ok", func() float64 { return 7 })))
	require.NoError(t, err)
	defer s.Close()
	for range 2 {
		snap, err := s.Sample(t.Context())
		require.EqualError(t, err, "harness: sample: broken: probe broken: no reading")
		require.Positive(t, snap.FDs)
		require.Equal(t, map[string]float64{"ok": 7}, snap.Gauges)
	}
}

func TestSampler(t *testing.T) {
	s, err := harness.NewSampler(t.Context())
	require.NoError(t, err)
	defer s.Close()
	var snaps []harness.Snapshot
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for range 3 {
		snap, err := s.Sample(t.Context())
		require.NoError(t, err)
		snaps = append(snaps, snap)
		f, err := os.Open(os.DevNull)
		require.NoError(t, err)
		files = append(files, f)
	}
	require.Equal(t, 2.0, snaps[2].Sub(snaps[0])[harness.MetricFDs])
	require.True(t, snaps[2].Taken.After(snaps[0].Taken))
}

func TestSamplerCloseIsIdempotent(t *testing.T) {
	before, err := harness.Measure(t.Context())
	require.NoError(t, err)
	s, err := harness.NewSampler(t.Context())
	require.NoError(t, err)
	_, err = s.Sample(t.Context())
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = s.Close() })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	after, err := harness.Measure(t.Context())
	require.NoError(t, err)
	require.Equal(t, 0.0, after.Sub(before)[harness.MetricFDs], "Close released every /proc file")
}

// freshProcessEnv marks the test binary re-run by TestFreshProcess.
const freshProcessEnv = "HARNESS_TEST_FRESH_PROCESS"

// In a process that has not used a timer yet, the runtime's network poller
// starts with the first one and opens two descriptors (an epoll and an
// eventfd). The harness's own timers, while settling, must not be counted
// as the scenario's descriptors. go test starts a timer for -test.timeout,
// so the check runs in the test binary re-run without one.
func TestFreshProcess(t *testing.T) {
	if os.Getenv(freshProcessEnv) == "1" {
		stop := make(chan struct{})
		defer close(stop)
		sc := harness.Scenario{Name: "goroutine leak, first timer", Run: func(context.Context, int) error {
			go func() { <-stop }()
			return nil
		}}
		res, err := harness.Run(t.Context(), sc, harness.WithIterations(5), harness.WithWarmup(1),
			harness.WithSettleTimeout(50*time.Millisecond))
		require.NoError(t, err)
		g, _ := res.Metric(harness.MetricGoroutines)
		require.Equal(t, harness.VerdictFail, g.Verdict, report(res))
		fds, _ := res.Metric(harness.MetricFDs)
		require.Equal(t, harness.VerdictPass, fds.Verdict, report(res))
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFreshProcess$", "-test.timeout=0", "-test.count=1")
	cmd.Env = append(os.Environ(), freshProcessEnv+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}
