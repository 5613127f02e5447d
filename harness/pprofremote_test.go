//go:build linux

package harness_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// startPprofChild starts a leakychild serving metrics and net/http/pprof,
// and returns it with its target.
func startPprofChild(t *testing.T, bin string) (*child, harness.Target) {
	t.Helper()
	c := startChild(t, bin, "-metrics", "-pprof")
	require.True(t, c.out.Scan(), "child's pprof URL")
	pprofURL, ok := strings.CutPrefix(c.out.Text(), "pprof ")
	require.True(t, ok, c.out.Text())
	return c, harness.Process(c.cmd.Process.Pid).WithMetricsURL(c.metrics).WithPprofURL(pprofURL)
}

// TestPprofURL reads another process's heap profiles from its
// net/http/pprof index: a failing heap names the function that allocates
// what the process keeps.
func TestPprofURL(t *testing.T) {
	bin := buildLeakyChild(t)

	t.Run("names the leaking function", func(t *testing.T) {
		c, target := startPprofChild(t, bin)
		// 1 MiB per iteration: the child samples one allocation per 512 KiB
		// on average, so most of them leave a sample. The child cannot be
		// made to collect, so its heap grows by steps: the threshold
		// is on the total.
		res, err := harness.Run(t.Context(), c.scenario("heap", "heap 1048576"), harness.WithTarget(target),
			harness.WithIterations(20), harness.WithSettleTimeout(100*time.Millisecond),
			harness.WithThreshold(harness.MetricHeap, "delta<4MiB"))
		require.NoError(t, err)
		heap, _ := res.Metric(harness.MetricHeap)
		require.Equal(t, harness.VerdictFail, heap.Verdict, report(res))
		sites := res.FindingsFor(harness.MetricHeap)
		require.NotEmpty(t, sites, report(res))
		top := sites[0]
		require.Equal(t, harness.FindingAllocSite, top.Kind)
		require.Contains(t, top.Summary, "allocated at leakychild/main.go:")
		require.True(t, strings.HasSuffix(top.Summary, " in main.leakHeap"), top.Summary)
		require.Contains(t, top.Stack, "main.leakHeap\n\t")
		require.Positive(t, top.Count)
		t.Logf("%s\n%s", top.Summary, top.Stack)
		// 20 iterations of 1 MiB, estimated from samples: within a factor
		// of two of the 20 MiB kept.
		require.Regexp(t, `^\+([1-3]\d|40)\.\dMiB in `, top.Summary)
	})

	t.Run("a clean process passes", func(t *testing.T) {
		c, target := startPprofChild(t, bin)
		for i := range cleanRuns() {
			// The heap of a process that is not made to collect is
			// judged elsewhere: here it is reported only.
			res, err := harness.Run(t.Context(), c.scenario("clean heap", "heap-drop 65536", "fd-close"),
				harness.WithTarget(target), harness.WithThreshold(harness.MetricHeap))
			require.NoError(t, err)
			require.True(t, res.Passed(), "run %d: the profile's fetches leave no connection behind:\n%s", i+1, report(res))
		}
	})

	t.Run("a profile that cannot be fetched is a note", func(t *testing.T) {
		c, target := startPprofChild(t, bin)
		target = target.WithPprofURL(strings.TrimSuffix(c.metrics, "/metrics") + "/nowhere/")
		res, err := harness.Run(t.Context(), c.scenario("heap", "heap 1048576"), harness.WithTarget(target),
			harness.WithIterations(10), harness.WithSettleTimeout(100*time.Millisecond),
			harness.WithThreshold(harness.MetricHeap, "delta<4MiB"))
		require.NoError(t, err)
		require.Equal(t, harness.StatusLeak, res.Status, report(res))
		sites := res.FindingsFor(harness.MetricHeap)
		require.Len(t, sites, 1, report(res))
		require.Equal(t, harness.FindingAllocSite, sites[0].Kind)
		require.Regexp(t, `^no allocation sites: heap profile http://127\.0\.0\.1:\d+/nowhere/heap\?gc=1: status 404 Not Found$`, sites[0].Summary)
	})

	t.Run("off loopback is refused before the run", func(t *testing.T) {
		c, target := startPprofChild(t, bin)
		res, err := harness.Run(t.Context(), c.scenario("heap", "heap-drop 1"),
			harness.WithTarget(target.WithPprofURL("http://192.0.2.1:6060/debug/pprof/")))
		require.ErrorContains(t, err, "not a loopback address")
		require.Nil(t, res)
	})
}
