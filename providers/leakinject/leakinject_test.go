package leakinject_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// faultNames are the names of the leakinject build, written here because a
// normal build has none (leakinject.Names is empty).
var faultNames = []string{
	"cache-unbounded", "cli-command-skips-close", "client-per-request", "crew-memory-unbounded",
	"crew-output-retained", "db-rows-not-closed", "engine-close-skips-providers", "export-file-not-closed",
	"monitor-goroutine-not-stopped", "provider-unclosed-body", "scanner-session-not-closed", "server-goroutine-per-job",
}

// TestBinariesCarryNoFaultNames builds ffe and leakgate as users do and
// finds none of the faults' names in them, then builds leakgate with the
// leakinject tag and finds every one: the search can fail.
func TestBinariesCarryNoFaultNames(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three binaries")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build the binaries with")
	}
	dir := t.TempDir()
	build := func(name, pkg string, tags ...string) []byte {
		t.Helper()
		out := filepath.Join(dir, name)
		args := []string{"build", "-o", out}
		if len(tags) > 0 {
			args = append(args, "-tags", strings.Join(tags, ","))
		}
		cmd := exec.Command(goBin, append(args, "github.com/leakgate/leakgate/"+pkg)...)
		msg, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", msg)
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		return b
	}
	for _, bin := range []struct{ name, pkg string }{{"ffe", "cmd/ffe"}, {"leakgate", "cmd/leakgate"}} {
		b := build(bin.name, bin.pkg)
		for _, n := range faultNames {
			require.False(t, bytes.Contains(b, []byte(n)), "%s contains the fault name %q", bin.name, n)
		}
	}
	tagged := build("leakgate-leakinject", "cmd/leakgate", "leakinject")
	for _, n := range faultNames {
		require.True(t, bytes.Contains(tagged, []byte(n)), "the leakinject build lacks %q", n)
	}
}
