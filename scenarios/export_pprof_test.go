package scenarios

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// TestExportProcessHeapSites: export/process gives the harness the admin
// listener's pprof index, which serves the server's heap profile, and a
// failing heap's findings are the server's allocation sites, not a note
// that its profiles could not be read.
func TestExportProcessHeapSites(t *testing.T) {
	exe := buildFFEExec(t)
	p, err := startExportProcess(&Env{Mode: Mock, Dir: t.TempDir(), Executable: exe})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.stop()) })

	index := p.target.PprofURL()
	require.Equal(t, strings.TrimSuffix(p.target.MetricsURL(), "/metrics")+"/debug/pprof/", index)
	res, err := http.Get(index + "heap")
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.True(t, bytes.HasPrefix(body, []byte{0x1f, 0x8b}), "a gzipped profile")
	http.DefaultClient.CloseIdleConnections()

	run := p.run()
	opts := append(append([]harness.Option(nil), run.Options...),
		harness.WithIterations(exportTestIterations), harness.WithWarmup(exportTestWarmup),
		harness.WithThreshold(harness.MetricHeap, "max<0")) // fails whatever the heap
	result, err := harness.Run(t.Context(), run.Scenario, opts...)
	require.NoError(t, err)
	heap, _ := result.Metric(harness.MetricHeap)
	require.Equal(t, harness.VerdictFail, heap.Verdict)
	for _, f := range result.FindingsFor(harness.MetricHeap) {
		require.Equal(t, harness.FindingAllocSite, f.Kind)
		require.NotContains(t, f.Summary, "no allocation sites", "the profiles were read")
		require.NotEmpty(t, f.Stack)
	}
}
