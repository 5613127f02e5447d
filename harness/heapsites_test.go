package harness_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// retained is what the leaky scenario below keeps.
var retained [][]byte

// retainReport keeps 64 KiB per call: the leak the heap finding must name.
func retainReport() { retained = append(retained, make([]byte, 64<<10)) }

func TestHeapFindingNamesTheAllocationSite(t *testing.T) {
	defer func() { retained = nil }()
	res, err := harness.Run(t.Context(), harness.Scenario{Name: "retains", Run: func(context.Context, int) error {
		retainReport()
		return nil
	}}, harness.WithIterations(20), harness.WithWarmup(2), harness.WithSettleTimeout(10*time.Millisecond))
	require.NoError(t, err)
	heap, _ := res.Metric(harness.MetricHeap)
	require.Equal(t, harness.VerdictFail, heap.Verdict)
	sites := res.FindingsFor(harness.MetricHeap)
	require.NotEmpty(t, sites)
	top := sites[0]
	require.Equal(t, harness.FindingAllocSite, top.Kind)
	require.Contains(t, top.Summary, "allocated at harness/heapsites_test.go:")
	require.True(t, strings.HasSuffix(top.Summary, " in github.com/leakgate/leakgate/harness_test.retainReport"), top.Summary)
	require.Contains(t, top.Stack, "harness_test.retainReport")
	// 20 measured iterations of 64 KiB: the estimate is within a factor of
	// two of the 1.25 MiB retained since the baseline.
	require.Regexp(t, `^\+(([6-9]\d\d|10[0-2]\d)\.\dKiB|(1\.\d|2\.[0-5])MiB) in `, top.Summary)
}

func TestNoHeapFindingWhenTheHeapPasses(t *testing.T) {
	res, err := harness.Run(t.Context(), harness.Scenario{Name: "clean", Run: func(context.Context, int) error {
		_ = make([]byte, 64<<10)
		return nil
	}}, harness.WithIterations(10), harness.WithWarmup(2), harness.WithSettleTimeout(10*time.Millisecond))
	require.NoError(t, err)
	require.True(t, res.Passed(), "%+v", res.Metrics)
	require.Empty(t, res.FindingsFor(harness.MetricHeap))
}
