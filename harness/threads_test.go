package harness_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

func TestPrewarmThreads(t *testing.T) {
	before, err := harness.Measure(t.Context(), harness.WithoutProbes(harness.MetricHeap))
	require.NoError(t, err)
	if before.Threads < 0 {
		t.Skip("threads are not measured on this platform")
	}
	g := runtime.NumGoroutine()
	harness.PrewarmThreads(8)
	after, err := harness.Measure(t.Context(), harness.WithoutProbes(harness.MetricHeap))
	require.NoError(t, err)
	require.GreaterOrEqual(t, after.Threads, min(before.Threads+1, 8), "threads were started")
	require.LessOrEqual(t, runtime.NumGoroutine(), g, "no goroutine is left behind")
}
