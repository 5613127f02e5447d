//go:build leakinject

package leakinjecttest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers/leakinject"
)

// Fault returns the fault this process runs with: the value of
// LEAKINJECT, "" in the parent test.
func Fault() string { return os.Getenv(leakinject.EnvVar) }

// Rerun runs the test named test (a top-level test of this binary) again
// in a child process with LEAKINJECT=fault, logs its output, and requires
// that it passed. The child's goleak check at exit may fail on the
// injected leak's goroutines: that is the leak, not a failure of the test.
func Rerun(t *testing.T, test, fault string) {
	t.Helper()
	args := []string{"-test.run=^" + test + "$", "-test.v", "-test.count=1"}
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	cmd.Env = append(os.Environ(), leakinject.EnvVar+"="+fault)
	out, err := cmd.CombinedOutput()
	t.Logf("%s=%s %s %s:\n%s", leakinject.EnvVar, fault, os.Args[0], strings.Join(args, " "), out)
	require.Contains(t, string(out), "--- PASS: "+test)
	if err != nil {
		require.Contains(t, string(out), "goleak", "the child failed: %v", err)
	}
}
