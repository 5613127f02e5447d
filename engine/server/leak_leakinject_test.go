//go:build leakinject

package server

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/providers/leakinject"
)

// failRecorder is a harness.TestingT that keeps the failures it is given
// instead of failing the test.
type failRecorder struct {
	ctx  context.Context
	msgs []string
}

func (r *failRecorder) Helper()                   {}
func (r *failRecorder) Context() context.Context  { return r.ctx }
func (r *failRecorder) Errorf(f string, a ...any) { r.msgs = append(r.msgs, fmt.Sprintf(f, a...)) }

// injectedLeak is a known leak that the export cycles' leak check must
// catch: with the fault on, the check fails on every metric listed, and
// its report contains every text of want.
type injectedLeak struct {
	fault   string
	metrics []string
	want    []string
}

// injectedServerLeaks are the export server's known leaks.
var injectedServerLeaks = []injectedLeak{
	{
		// A watcher goroutine per job that outlives the job.
		fault:   "server-goroutine-per-job",
		metrics: []string{harness.MetricGoroutines},
		want:    []string{"export cycle: LEAK", "created by github.com/leakgate/leakgate/engine/server.(*Server).trigger"},
	},
	{
		// The crew keeps memory for every job: 1.3 to 1.9 KiB a cycle.
		fault:   "crew-memory-unbounded",
		metrics: []string{metricHeapLive, metricCrewMemory},
		want:    []string{"export cycle: LEAK", "heap_live", "crew_memory"},
	},
	{
		// The export writer leaves a file handle open.
		fault:   "export-file-not-closed",
		metrics: []string{harness.MetricFDs},
		want:    []string{"export cycle: LEAK", "file " + os.TempDir()},
	},
}

// TestExportLeakCheckCatchesInjectedLeaks proves that
// TestExportCyclesDoNotLeak's check can fail: for each known leak of the
// export server it runs this test again in a child process with
// LEAKINJECT naming the fault (faults are read once per process), where
// the check must fail on the expected metrics with a report that names
// the leak. By hand:
//
//	LEAKINJECT=server-goroutine-per-job go test -tags leakinject -run '^TestExportCyclesDoNotLeak$' -v ./engine/server
func TestExportLeakCheckCatchesInjectedLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("export cycles in child processes")
	}
	if fault := os.Getenv(leakinject.EnvVar); fault != "" {
		checkInjectedServerLeak(t, fault)
		return
	}
	for _, tt := range injectedServerLeaks {
		t.Run(tt.fault, func(t *testing.T) {
			args := []string{"-test.run=^TestExportLeakCheckCatchesInjectedLeaks$", "-test.v", "-test.count=1"}
			cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
			cmd.Env = append(os.Environ(), leakinject.EnvVar+"="+tt.fault)
			out, err := cmd.CombinedOutput()
			t.Logf("LEAKINJECT=%s %s %s:\n%s", tt.fault, os.Args[0], strings.Join(args, " "), out)
			require.Contains(t, string(out), "--- PASS: TestExportLeakCheckCatchesInjectedLeaks")
			if err != nil {
				// The child's test passed; what fails it is goleak's check
				// at exit, which finds the injected leak's goroutines too.
				require.Contains(t, string(out), "goleak", "the child failed: %v", err)
			}
		})
	}
}

// checkInjectedServerLeak runs the export cycles' check with one fault on
// and proves it fails as expected.
func checkInjectedServerLeak(t *testing.T, fault string) {
	i := slices.IndexFunc(injectedServerLeaks, func(l injectedLeak) bool { return l.fault == fault })
	if i < 0 {
		t.Skipf("%s=%s: no expectation for this fault", leakinject.EnvVar, fault)
	}
	tt := injectedServerLeaks[i]
	rec := &failRecorder{ctx: t.Context()}
	res := checkExportCycles(t, rec)
	require.NotNil(t, res)
	require.Len(t, rec.msgs, 1, "the check passed with %s on", fault)
	t.Logf("the check with %s on failed, as it must:\n%s", fault, rec.msgs[0])
	require.Equal(t, harness.StatusLeak, res.Status)
	for _, m := range tt.metrics {
		mr, ok := res.Metric(m)
		require.True(t, ok, m)
		require.Equal(t, harness.VerdictFail, mr.Verdict, m)
	}
	for _, w := range tt.want {
		require.Contains(t, rec.msgs[0], w)
	}
}
