//go:build leakinject

package server

import (
	"os"
	"slices"
	"testing"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/harness/harnesstest"
	"github.com/leakgate/leakgate/providers/leakinject"
	"github.com/leakgate/leakgate/providers/leakinject/leakinjecttest"
)

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
	if fault := leakinjecttest.Fault(); fault != "" {
		checkInjectedServerLeak(t, fault)
		return
	}
	for _, tt := range injectedServerLeaks {
		t.Run(tt.fault, func(t *testing.T) {
			leakinjecttest.Rerun(t, "TestExportLeakCheckCatchesInjectedLeaks", tt.fault)
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
	rec := harnesstest.NewRecorder(t.Context())
	res := checkExportCycles(t, rec)
	harnesstest.RequireCaught(t, rec, res, tt.metrics, tt.want)
}
