//go:build goexperiment.goroutineleakprofile

package harness_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// blockForever leaks a goroutine blocked on a channel that nothing else
// references: a deadlock the runtime's leak detection proves. TestMain's
// goleak ignores it.
func blockForever() {
	ch := make(chan int)
	go func() { ch <- 1 }()
}

func TestGoroutineLeakProfileProvesDeadlocks(t *testing.T) {
	const iterations = 4
	tests := []struct {
		name string
		opts []harness.Option
	}{
		{name: "whole process", opts: []harness.Option{harness.WithAttribution(false)}},
		{name: "attributed", opts: []harness.Option{harness.WithAttribution(true)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := harness.Scenario{Name: "deadlock", Run: func(context.Context, int) error {
				blockForever()
				return nil
			}}
			opts := append([]harness.Option{harness.WithIterations(iterations), harness.WithWarmup(1),
				harness.WithSettleTimeout(20 * time.Millisecond)}, tt.opts...)
			res, err := harness.Run(t.Context(), sc, opts...)
			require.NoError(t, err)
			require.Equal(t, harness.StatusLeak, res.Status)

			m, ok := res.Metric(harness.MetricGoroutinesLeaked)
			require.True(t, ok)
			require.True(t, m.Supported, m.Reason)
			require.Equal(t, harness.VerdictFail, m.Verdict)
			require.Equal(t, float64(iterations), m.Delta)

			fs := res.FindingsFor(harness.MetricGoroutines)
			require.NotEmpty(t, fs)
			require.True(t, fs[0].Leaked, "proven leaks come first: %+v", fs)
			require.Equal(t, iterations, fs[0].Count)
			require.True(t, strings.HasPrefix(fs[0].Summary, harness.LeakedSummary+": "), fs[0].Summary)
			require.Contains(t, fs[0].Summary, "blockForever")
			require.Equal(t, []harness.Finding{{Metric: harness.MetricGoroutinesLeaked, Kind: fs[0].Kind, Count: fs[0].Count,
				Summary: fs[0].Summary, Stack: fs[0].Stack, Leaked: true}}, res.FindingsFor(harness.MetricGoroutinesLeaked))

			var b strings.Builder
			require.NoError(t, res.WriteText(&b))
			require.Contains(t, b.String(), harness.LeakedSummary)
		})
	}
}

// A scenario whose goroutines wait on a channel that the test still holds
// leaks them too, but no deadlock is proven: they could still be woken.
func TestGoroutineLeakProfileSparesReachableWaits(t *testing.T) {
	sc := parkedScenario(t)
	res, err := harness.Run(t.Context(), sc, harness.WithIterations(3), harness.WithWarmup(1), harness.WithSettleTimeout(20*time.Millisecond))
	require.NoError(t, err)
	m, ok := res.Metric(harness.MetricGoroutinesLeaked)
	require.True(t, ok)
	require.Equal(t, harness.VerdictPass, m.Verdict)
	g, _ := res.Metric(harness.MetricGoroutines)
	require.Equal(t, harness.VerdictFail, g.Verdict)
	for _, f := range res.Findings {
		require.False(t, f.Leaked, f.Summary)
	}
}
