package harness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

func TestProgressReportsEveryPhase(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	var got []harness.Progress
	res, err := harness.Run(t.Context(), harness.Scenario{Name: "leaky", Run: func(context.Context, int) error {
		go func() { <-stop }()
		return nil
	}}, harness.WithIterations(4), harness.WithWarmup(2), harness.WithSettleTimeout(10*time.Millisecond),
		harness.WithProgress(func(p harness.Progress) { got = append(got, p) }))
	require.NoError(t, err)
	require.Equal(t, harness.StatusLeak, res.Status)

	var phases []string
	for _, p := range got {
		phases = append(phases, p.Phase)
	}
	require.Equal(t, []string{"warmup", "warmup", "measure", "measure", "measure", "measure", "settle"}, phases)
	for k, p := range got[2:6] {
		require.Equal(t, k+1, p.Iteration)
		require.Equal(t, 4, p.Of)
		require.InDelta(t, float64(k+1), p.Delta[harness.MetricGoroutines], 0.5, "one goroutine per measured iteration")
	}
	require.Positive(t, got[len(got)-1].Elapsed)
}

func TestDurationEndsTheIterations(t *testing.T) {
	tests := []struct {
		name       string
		iterations int
		duration   time.Duration
		min, max   int
	}{
		{name: "duration first", iterations: 100000, duration: 150 * time.Millisecond, min: 5, max: 40},
		{name: "iterations first", iterations: 3, duration: time.Hour, min: 3, max: 3},
		{name: "at least two", iterations: 100, duration: time.Nanosecond, min: 2, max: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := harness.Run(t.Context(), harness.Scenario{Name: "sleep", Run: func(ctx context.Context, _ int) error {
				time.Sleep(10 * time.Millisecond)
				return nil
			}}, harness.WithIterations(tt.iterations), harness.WithDuration(tt.duration), harness.WithWarmup(0),
				harness.WithSettleTimeout(10*time.Millisecond))
			require.NoError(t, err)
			require.Equal(t, harness.StatusPass, res.Status, "%+v", res.Metrics)
			n := res.Iterations.Completed
			require.GreaterOrEqual(t, n, tt.min)
			require.LessOrEqual(t, n, tt.max)
			hm, ok := res.Metric(harness.MetricGoroutines)
			require.True(t, ok)
			require.Len(t, hm.Series, n)
			heap, ok := res.Metric(harness.MetricHeap)
			require.True(t, ok)
			require.False(t, heap.Series[n-1] != heap.Series[n-1], "the last heap point is the final snapshot's")
		})
	}
}

func TestNegativeDurationIsRefused(t *testing.T) {
	_, err := harness.Run(t.Context(), harness.Scenario{Name: "x", Run: noop}, harness.WithDuration(-time.Second))
	require.ErrorContains(t, err, "duration -1s: must not be negative")
}

// TestFirstFailSaysHowSoonALeakShowed leaks a goroutine from the fourth
// measured iteration on: delta<=0 first fails after iteration 4, and
// delta<=2 after iteration 6.
func TestFirstFailSaysHowSoonALeakShowed(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	tests := []struct {
		expr string
		want int
	}{
		{expr: "delta<=0", want: 4},
		{expr: "delta<=2", want: 6},
		{expr: "max<=baseline+4", want: 8},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			res, err := harness.Run(t.Context(), harness.Scenario{Name: "late", Run: func(_ context.Context, i int) error {
				if i >= 2+3 { // two warm-up iterations, then the fourth measured one on
					go func() { <-stop }()
				}
				return nil
			}}, harness.WithIterations(10), harness.WithWarmup(2), harness.WithSettleTimeout(10*time.Millisecond),
				harness.WithThreshold(harness.MetricGoroutines, tt.expr))
			require.NoError(t, err)
			g, _ := res.Metric(harness.MetricGoroutines)
			require.Equal(t, harness.VerdictFail, g.Verdict)
			require.Equal(t, tt.want, g.FirstFail)
			fds, _ := res.Metric(harness.MetricFDs)
			require.Zero(t, fds.FirstFail, "a passing metric has none")
		})
	}
}

func TestFirstFailSurvivesJSON(t *testing.T) {
	in := &harness.Result{Metrics: []harness.MetricResult{{Name: "fds", Verdict: harness.VerdictFail, FirstFail: 3}}}
	var buf bytes.Buffer
	require.NoError(t, in.WriteJSON(&buf))
	require.Contains(t, buf.String(), `"first_fail": 3`)
	var out harness.Result
	require.NoError(t, json.Unmarshal(buf.Bytes(), &out))
	require.Equal(t, 3, out.Metrics[0].FirstFail)
}
