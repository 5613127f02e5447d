package harness_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// reportT records Check's failures; unlike a *testing.T it is never taken
// as parallel, so the tests choose attribution explicitly.
type reportT struct {
	mu   sync.Mutex
	ctx  context.Context
	errs []string
}

func (r *reportT) Helper()                  {}
func (r *reportT) Context() context.Context { return r.ctx }
func (r *reportT) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// pairWait bounds a wait for the other run of a pair: the two run in
// parallel, and a partner that does not run is an error, not a hang.
const pairWait = time.Minute

// parallelPair is two scenarios meant to run at the same time: "leaky"
// leaks a goroutine in every iteration, "clean" leaks nothing. Clean's
// baseline comes before leaky's measured iterations and its final
// snapshot after them, so that, measured process-wide, clean sees leaky's
// goroutines.
type parallelPair struct {
	warmup, iterations int

	baselined  chan struct{} // clean took its baseline
	leakyDone  chan struct{} // leaky's measured iterations are done
	stop       chan struct{} // ends the leaked goroutines
	leaked     sync.WaitGroup
	baseOnce   sync.Once
	stopOnce   sync.Once
	leakedOnce sync.Once
}

func newParallelPair(warmup, iterations int) *parallelPair {
	return &parallelPair{warmup: warmup, iterations: iterations,
		baselined: make(chan struct{}), leakyDone: make(chan struct{}), stop: make(chan struct{})}
}

// release ends the leaked goroutines and waits for them.
func (p *parallelPair) release() {
	p.stopOnce.Do(func() { close(p.stop) })
	p.leaked.Wait()
}

func waitFor(ctx context.Context, c <-chan struct{}, what string) error {
	t := time.NewTimer(pairWait)
	defer t.Stop()
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errors.New("the other run never " + what + ": do parallel tests run in parallel?")
	}
}

// parkLeaked is where the leaky scenario's goroutines wait.
func parkLeaked(stop <-chan struct{}) { <-stop }

func (p *parallelPair) leaky() harness.Scenario {
	return harness.Scenario{Name: "leaky", Run: func(ctx context.Context, i int) error {
		if i == p.warmup {
			if err := waitFor(ctx, p.baselined, "took its baseline"); err != nil {
				return err
			}
		}
		p.leaked.Go(func() { parkLeaked(p.stop) })
		if i == p.warmup+p.iterations-1 {
			p.leakedOnce.Do(func() { close(p.leakyDone) })
		}
		return nil
	}}
}

func (p *parallelPair) clean() harness.Scenario {
	return harness.Scenario{Name: "clean", Run: func(ctx context.Context, i int) error {
		if i == p.warmup {
			p.baseOnce.Do(func() { close(p.baselined) })
		}
		if i == p.warmup+p.iterations-1 {
			return waitFor(ctx, p.leakyDone, "finished its iterations")
		}
		return nil
	}}
}

func TestCheckAttributesGoroutinesInParallelTests(t *testing.T) {
	if f := flag.Lookup("test.parallel"); f != nil && f.Value.String() == "1" {
		t.Skip("needs two tests running in parallel (-parallel 1)")
	}
	tests := []struct {
		name          string
		attribution   bool
		wantCleanFail bool
	}{
		{name: "attributed", attribution: true, wantCleanFail: false},
		{name: "whole process", attribution: false, wantCleanFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const warmup, iterations = 2, 6
			p := newParallelPair(warmup, iterations)
			t.Cleanup(p.release)
			leaky, clean := &reportT{ctx: t.Context()}, &reportT{ctx: t.Context()}
			var leakyRes, cleanRes *harness.Result
			opts := []harness.Option{
				harness.WithAttribution(tt.attribution), harness.WithWarmup(warmup), harness.WithIterations(iterations),
				harness.WithSettleTimeout(50 * time.Millisecond), harness.WithoutProbes(harness.MetricThreads, harness.MetricRSS),
			}
			t.Run("pair", func(t *testing.T) {
				t.Run("leaky", func(t *testing.T) {
					t.Parallel()
					leakyRes = harness.Check(leaky, p.leaky(), opts...)
				})
				t.Run("clean", func(t *testing.T) {
					t.Parallel()
					cleanRes = harness.Check(clean, p.clean(), opts...)
				})
			})
			require.NotNil(t, leakyRes)
			require.NotNil(t, cleanRes)
			require.NotEqual(t, harness.StatusError, cleanRes.Status, cleanRes.Error)
			require.NotEqual(t, harness.StatusError, leakyRes.Status, leakyRes.Error)

			require.Len(t, leaky.errs, 1, "the leaky run fails")
			require.Equal(t, harness.StatusLeak, leakyRes.Status)
			require.Contains(t, leaky.errs[0], "parkLeaked")
			require.Equal(t, tt.wantCleanFail, len(clean.errs) > 0, "clean run's report: %v", clean.errs)
			if tt.wantCleanFail {
				// Measured process-wide, the clean run is blamed for the
				// leaky one's goroutines.
				require.Contains(t, clean.errs[0], "parkLeaked")
				return
			}
			require.Equal(t, harness.StatusPass, cleanRes.Status)
			fs := leakyRes.FindingsFor(harness.MetricGoroutines)
			require.Len(t, fs, 1, "only the run's own goroutines are findings: %+v", fs)
			require.Equal(t, iterations, fs[0].Count)
			require.Contains(t, fs[0].Summary, "parkLeaked")
			m, ok := leakyRes.Metric(harness.MetricGoroutines)
			require.True(t, ok)
			require.Equal(t, float64(iterations), m.Delta)
			require.Contains(t, m.Note, harness.LabelRun+"=leaky#")
		})
	}
}

func TestAttributionNotesProcessWideMetrics(t *testing.T) {
	var files []func() error
	t.Cleanup(func() {
		for _, c := range files {
			c()
		}
	})
	open := harness.Scenario{Name: "open", Run: func(ctx context.Context, i int) error {
		f, err := os.Open(os.DevNull)
		if err != nil {
			return err
		}
		files = append(files, f.Close)
		return nil
	}}
	tests := []struct {
		name        string
		opts        []harness.Option
		wantVerdict harness.Verdict
		wantNote    string
	}{
		{name: "default thresholds dropped", opts: []harness.Option{harness.WithAttribution(true)},
			wantVerdict: harness.VerdictNone, wantNote: "process-wide: not attributable to this run"},
		{name: "explicit threshold kept", opts: []harness.Option{harness.WithAttribution(true), harness.WithThreshold(harness.MetricFDs, "delta<=0")},
			wantVerdict: harness.VerdictFail, wantNote: "process-wide: not attributable to this run"},
		{name: "not attributed", opts: []harness.Option{harness.WithAttribution(false)},
			wantVerdict: harness.VerdictFail, wantNote: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]harness.Option{harness.WithIterations(4), harness.WithWarmup(1), harness.WithSettleTimeout(10 * time.Millisecond)}, tt.opts...)
			res, err := harness.Run(t.Context(), open, opts...)
			require.NoError(t, err)
			m, ok := res.Metric(harness.MetricFDs)
			require.True(t, ok)
			if !m.Supported {
				t.Skip("no descriptor counts here:", m.Reason)
			}
			require.Equal(t, tt.wantVerdict, m.Verdict)
			if tt.wantNote == "" {
				require.Empty(t, m.Note)
				return
			}
			require.Contains(t, m.Note, tt.wantNote)
			var b strings.Builder
			require.NoError(t, res.WriteText(&b))
			require.Contains(t, b.String(), "note: ")
			require.Contains(t, b.String(), tt.wantNote)
		})
	}
}

func TestAttributionNeedsThisProcess(t *testing.T) {
	_, err := harness.Run(t.Context(), harness.Scenario{Name: "x", Run: func(context.Context, int) error { return nil }},
		harness.WithTarget(harness.Process(os.Getppid())), harness.WithAttribution(true))
	require.ErrorContains(t, err, "WithAttribution")
}

// Check attributes by itself in a parallel test, and not otherwise.
func TestCheckAttributesWhenParallel(t *testing.T) {
	noop := harness.Scenario{Name: "noop", Run: func(context.Context, int) error { return nil }}
	opts := []harness.Option{harness.WithIterations(2), harness.WithWarmup(0), harness.WithSettleTimeout(10 * time.Millisecond)}
	t.Run("serial", func(t *testing.T) {
		res := harness.Check(t, noop, opts...)
		m, _ := res.Metric(harness.MetricGoroutines)
		require.Empty(t, m.Note)
	})
	t.Run("parallel", func(t *testing.T) {
		t.Parallel()
		res := harness.Check(t, noop, opts...)
		m, _ := res.Metric(harness.MetricGoroutines)
		require.Contains(t, m.Note, harness.LabelRun+"=noop#")
		// Measured process-wide, other parallel tests add to the counts:
		// nothing here may fail.
		res = harness.Check(t, noop, append(opts, harness.WithAttribution(false), harness.WithThreshold(harness.MetricGoroutines),
			harness.WithoutProbes(harness.MetricGoroutinesLeaked, harness.MetricFDs, harness.MetricConns, harness.MetricThreads,
				harness.MetricChildren, harness.MetricRSS, harness.MetricHeap))...)
		m, _ = res.Metric(harness.MetricGoroutines)
		require.Empty(t, m.Note, "WithAttribution(false) wins")
	})
}
