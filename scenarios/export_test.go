package scenarios

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// Reduced runs of the export scenarios: enough to prove they work and
// catch a leak of one resource per iteration, short enough for -race.
const (
	exportTestIterations = 5
	exportTestWarmup     = 2
)

// runExport builds a scenario for mode and runs it under the harness with
// reduced iterations. wrap, if set, changes the iteration.
func runExport(t *testing.T, run *Run, wrap func(harness.Scenario) harness.Scenario) *harness.Result {
	t.Helper()
	sc := run.Scenario
	if wrap != nil {
		sc = wrap(sc)
	}
	// Five heap points cannot resolve the default slope<8KiB: allocator
	// noise alone moves them by that much. The heap is judged in the
	// suites' runs of 50 iterations; here it is reported.
	opts := append(append([]harness.Option(nil), run.Options...),
		harness.WithIterations(exportTestIterations), harness.WithWarmup(exportTestWarmup),
		harness.WithThreshold(harness.MetricHeap))
	start := time.Now()
	res, err := harness.Run(t.Context(), sc, opts...)
	if res == nil {
		require.NoError(t, err)
	}
	var report bytes.Buffer
	require.NoError(t, res.WriteText(&report))
	t.Logf("%s in %s: iteration p50 %s, mean %s, max %s\n%s", sc.Name, time.Since(start).Round(time.Millisecond),
		seconds(res.Timing.P50Seconds), seconds(res.Timing.MeanSeconds), seconds(res.Timing.MaxSeconds), &report)
	return res
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(10 * time.Microsecond)
}

func build(t *testing.T, name string, env *Env) *Run {
	t.Helper()
	s, ok := Lookup(name)
	require.True(t, ok, name)
	require.True(t, s.Applies(env.Mode), "%s in %s", name, env.Mode)
	run, err := s.Build(env)
	require.NoError(t, err)
	return run
}

func TestExportScenariosRegistered(t *testing.T) {
	for _, name := range []string{"export/in-process", "export/process"} {
		s, ok := Lookup(name)
		require.True(t, ok, name)
		require.Equal(t, AllModes, s.Modes, name)
		require.NotEmpty(t, s.Description, name)
	}
}

// TestExportInProcess runs export/in-process in both modes: it passes.
func TestExportInProcess(t *testing.T) {
	for _, mode := range AllModes {
		t.Run(string(mode), func(t *testing.T) {
			res := runExport(t, build(t, "export/in-process", &Env{Mode: mode, Dir: t.TempDir()}), nil)
			require.True(t, res.Passed(), "status %s: %s", res.Status, res.Error)
			require.True(t, res.Target.Self)
			m, ok := res.Metric(harness.MetricUnclosed)
			require.True(t, ok, "the unclosed probe is on")
			require.True(t, m.Supported)
		})
	}
}

// TestExportInProcessCatchesLeak makes every iteration of
// export/in-process also leave an HTTP client with an open connection
// behind: the run is a leak of goroutines, descriptors and connections.
func TestExportInProcessCatchesLeak(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	var leaked []*http.Transport
	t.Cleanup(func() {
		for _, tr := range leaked {
			tr.CloseIdleConnections()
		}
		other.Close()
	})
	leak := func(sc harness.Scenario) harness.Scenario {
		inner := sc.Run
		sc.Run = func(ctx context.Context, i int) error {
			if err := inner(ctx, i); err != nil {
				return err
			}
			tr := &http.Transport{}
			leaked = append(leaked, tr)
			return get(ctx, &http.Client{Transport: tr}, other.URL)
		}
		return sc
	}
	res := runExport(t, build(t, "export/in-process", &Env{Mode: Mock, Dir: t.TempDir()}), leak)
	requireLeak(t, res, 2)
	require.NotEmpty(t, res.FindingsFor(harness.MetricGoroutines))
}

// requireLeak checks that res is a leak of goroutines, descriptors and
// connections, of at least perIteration descriptors and connections per
// measured iteration. An external target's goroutines are compared with
// the highest of its baseline readings and the lowest final ones, so
// their delta may be a little less than the leak.
func requireLeak(t *testing.T, res *harness.Result, perIteration int) {
	t.Helper()
	require.Equal(t, harness.StatusLeak, res.Status, res.Error)
	for _, name := range []string{harness.MetricGoroutines, harness.MetricFDs, harness.MetricConns} {
		m, ok := res.Metric(name)
		require.True(t, ok, name)
		require.Equal(t, harness.VerdictFail, m.Verdict, name)
		if name != harness.MetricGoroutines {
			require.GreaterOrEqual(t, m.Delta, float64(perIteration*exportTestIterations), name)
		}
	}
	require.NotEmpty(t, res.FindingsFor(harness.MetricFDs))
	require.NotEmpty(t, res.FindingsFor(harness.MetricConns))
}

// get reads one answer of url with hc and closes its body.
func get(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(res.Body, 1<<10)); err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return errors.New(url + ": " + res.Status)
	}
	return nil
}

// TestExportProcessSkipsWithoutExecutable: no executable, no process
// scenario.
func TestExportProcessSkipsWithoutExecutable(t *testing.T) {
	s, ok := Lookup("export/process")
	require.True(t, ok)
	_, err := s.Build(&Env{Mode: Mock, Dir: t.TempDir()})
	require.ErrorIs(t, err, ErrSkipped)
}

// TestExportProcess runs export/process in both modes against
// internal/ffeexec built for the test, and proves that a server that
// leaks a connection per iteration fails.
func TestExportProcess(t *testing.T) {
	exe := buildFFEExec(t)
	for _, mode := range AllModes {
		t.Run(string(mode), func(t *testing.T) {
			res := runExport(t, build(t, "export/process", &Env{Mode: mode, Dir: t.TempDir(), Executable: exe}), nil)
			require.True(t, res.Passed(), "status %s: %s", res.Status, res.Error)
			requireProcessTarget(t, res)
		})
	}

	// Every iteration also leaves a client with a keep-alive connection
	// to the server: the server holds a descriptor, a connection and a
	// goroutine for each.
	t.Run("leak", func(t *testing.T) {
		p, err := startExportProcess(&Env{Mode: Mock, Dir: t.TempDir(), Executable: exe})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, p.stop()) })
		var mu sync.Mutex
		var leaked []*http.Transport
		t.Cleanup(func() {
			mu.Lock()
			defer mu.Unlock()
			for _, tr := range leaked {
				tr.CloseIdleConnections()
			}
		})
		run := p.run()
		leak := func(sc harness.Scenario) harness.Scenario {
			inner := sc.Run
			sc.Run = func(ctx context.Context, i int) error {
				if err := inner(ctx, i); err != nil {
					return err
				}
				tr := &http.Transport{}
				mu.Lock()
				leaked = append(leaked, tr)
				mu.Unlock()
				return get(ctx, &http.Client{Transport: tr}, p.api.base.String()+"/healthz")
			}
			return sc
		}
		res := runExport(t, run, leak)
		requireProcessTarget(t, res)
		require.Equal(t, p.target.PID(), res.Target.PID)
		requireLeak(t, res, 1)
	})
}

// requireProcessTarget checks that res measured another process, with
// RSS and descriptors from /proc and goroutines from its metrics.
func requireProcessTarget(t *testing.T, res *harness.Result) {
	t.Helper()
	require.False(t, res.Target.Self)
	require.NotZero(t, res.Target.PID)
	require.NotEqual(t, os.Getpid(), res.Target.PID)
	require.True(t, strings.HasSuffix(res.Target.MetricsURL, "/metrics"), res.Target.MetricsURL)
	for _, name := range []string{harness.MetricRSS, harness.MetricFDs, harness.MetricGoroutines} {
		m, ok := res.Metric(name)
		require.True(t, ok, name)
		require.True(t, m.Supported, "%s: %s", name, m.Reason)
		require.Positive(t, m.Baseline, name)
	}
}

// buildFFEExec builds internal/ffeexec, the program that runs the ffe CLI
// after the argument "ffe", and returns its path. It skips the test when
// the go tool is not available.
func buildFFEExec(t *testing.T) string {
	t.Helper()
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go tool is needed to build the ffe executable: %v", err)
	}
	exe := filepath.Join(t.TempDir(), "ffeexec")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, gotool, "build", "-o", exe, "github.com/leakgate/leakgate/scenarios/internal/ffeexec").CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)
	return exe
}
