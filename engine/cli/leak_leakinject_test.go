//go:build leakinject

package cli

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/harness/harnesstest"
	"github.com/leakgate/leakgate/providers/leakinject"
	"github.com/leakgate/leakgate/providers/leakinject/leakinjecttest"
)

// injectedLeak is a known leak that the commands' leak check must catch:
// with the fault on, the check of the last command fails on every metric
// listed, and its report contains every text of want. The commands before
// it prepare state (decisions for history to page through), and their
// checks must pass.
type injectedLeak struct {
	fault    string
	commands []string
	metrics  []string
	want     []string
}

// injectedCLILeaks are the CLI's known leaks.
var injectedCLILeaks = []injectedLeak{
	{
		// Engine.Close forgets the provider clients: the garbage
		// collector finds them unclosed.
		fault:    "engine-close-skips-providers",
		commands: []string{"analyze"},
		metrics:  []string{harness.MetricUnclosed, openClientsMetric},
		want:     []string{"ffe analyze (sandbox): LEAK", "FAIL (delta"},
	},
	{
		// ffe balance returns without closing its engine: the store's
		// database stays open.
		fault:    "cli-command-skips-close",
		commands: []string{"balance"},
		metrics:  []string{harness.MetricGoroutines, harness.MetricFDs, openClientsMetric},
		want:     []string{"ffe balance (sandbox): LEAK", "database/sql.(*DB).connectionOpener", "data/ffe.db"},
	},
	{
		// A history query leaves its rows open, with their connection.
		fault:    "db-rows-not-closed",
		commands: []string{"execute", "history"},
		metrics:  []string{harness.MetricGoroutines, harness.MetricFDs},
		want:     []string{"ffe history (sandbox): LEAK", "database/sql.(*Rows).awaitDone", "data/ffe.db"},
	},
}

// TestLeakCheckCatchesInjectedLeaks proves that TestCommandsDoNotLeak's
// check can fail: for each known leak of the CLI it runs this test again
// in a child process with LEAKINJECT naming the fault (faults are read
// once per process), where the check of the leaking command must fail on
// the expected metrics with a report that names the leak. By hand:
//
//	LEAKINJECT=cli-command-skips-close go test -tags leakinject -run 'TestCommandsDoNotLeak/sandbox/balance$' -v ./engine/cli
func TestLeakCheckCatchesInjectedLeaks(t *testing.T) {
	if fault := leakinjecttest.Fault(); fault != "" {
		checkInjectedCLILeak(t, fault)
		return
	}
	for _, tt := range injectedCLILeaks {
		t.Run(tt.fault, func(t *testing.T) {
			leakinjecttest.Rerun(t, "TestLeakCheckCatchesInjectedLeaks", tt.fault)
		})
	}
}

// checkInjectedCLILeak runs the checks of one injected leak's commands
// and proves the last one fails as expected.
func checkInjectedCLILeak(t *testing.T, fault string) {
	i := slices.IndexFunc(injectedCLILeaks, func(l injectedLeak) bool { return l.fault == fault })
	if i < 0 {
		t.Skipf("%s=%s: no expectation for this fault", leakinject.EnvVar, fault)
	}
	tt := injectedCLILeaks[i]
	f := newFFE(t, modeSandbox)
	cmds := leakCommands()
	for j, name := range tt.commands {
		k := slices.IndexFunc(cmds, func(c leakCommand) bool { return c.name == name })
		require.GreaterOrEqual(t, k, 0, "no command %q", name)
		if j < len(tt.commands)-1 {
			checkCommand(t, f, cmds[k])
			continue
		}
		rec := harnesstest.NewRecorder(t.Context())
		res := checkCommand(rec, f, cmds[k])
		harnesstest.RequireCaught(t, rec, res, tt.metrics, tt.want)
	}
}
