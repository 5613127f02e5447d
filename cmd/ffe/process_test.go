//go:build linux

// The processes of these tests read /dev/stdin, FIFOs and /proc, and take
// Unix signals.

package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/cli"
)

// runMainEnv makes the test binary run ffe's main instead of the tests,
// so the tests below can run ffe as a process of its own.
const runMainEnv = "FFE_TEST_RUN_MAIN"

func init() {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
}

// ffeProcess returns a command running ffe with args in its own home and
// data directory; it is killed if it outlives ctx.
func ffeProcess(ctx context.Context, t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"FFE_DATA_DIR="+filepath.Join(dir, "data"), "FFE_CONFIG=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second
	return cmd, &stderr
}

// TestDevZero: a CSV that never ends is refused within 10 s and 200 MB.
func TestDevZero(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd, stderr := ffeProcess(ctx, t, "backtest", "AAPL", "--csv", "/dev/zero")
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, stderr.String())
	require.Equal(t, cli.ExitFailure, ee.ExitCode(), stderr.String())
	require.Contains(t, stderr.String(), "/dev/zero")
	require.Less(t, took, 10*time.Second)
	maxRSS := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024 // KiB on Linux
	require.Less(t, maxRSS, int64(200<<20), "peak RSS %d MB", maxRSS>>20)
	t.Logf("/dev/zero: %s, peak RSS %d MB: %s", took.Round(time.Millisecond), maxRSS>>20, strings.TrimSpace(stderr.String()))
}

// TestSignalDuringRead: SIGINT or SIGTERM during a read that would not end
// stops ffe within a second with exit 130 or 143.
func TestSignalDuringRead(t *testing.T) {
	tests := []struct {
		name     string
		sig      syscall.Signal
		wantCode int
		fifo     bool // a FIFO that blocks; else endless rows on stdin
	}{
		{name: "SIGTERM blocked on a FIFO", sig: syscall.SIGTERM, wantCode: 143, fifo: true},
		{name: "SIGINT blocked on a FIFO", sig: syscall.SIGINT, wantCode: 130, fifo: true},
		{name: "SIGTERM reading endless rows", sig: syscall.SIGTERM, wantCode: 143},
		{name: "SIGINT reading endless rows", sig: syscall.SIGINT, wantCode: 130},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			path := "/dev/stdin"
			if tt.fifo {
				path = filepath.Join(t.TempDir(), "bars.csv")
				require.NoError(t, syscall.Mkfifo(path, 0o600))
				w, err := os.OpenFile(path, os.O_RDWR, 0) // a writer that never finishes
				require.NoError(t, err)
				defer w.Close()
				_, err = w.WriteString("Date,Open,High,Low,Close\n")
				require.NoError(t, err)
			}
			cmd, stderr := ffeProcess(ctx, t, "backtest", "AAPL", "--csv", path, "--csv-max-bytes", "1024GiB")
			if !tt.fifo {
				cmd.Stdin = io.MultiReader(strings.NewReader("Date,Open,High,Low,Close\n"), &rows{})
			}
			require.NoError(t, cmd.Start())
			waitForOpen(t, cmd.Process.Pid, path)
			time.Sleep(time.Second) // well into the read
			start := time.Now()
			require.NoError(t, cmd.Process.Signal(tt.sig))
			err := cmd.Wait()
			took := time.Since(start)
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, stderr.String())
			require.Equal(t, tt.wantCode, ee.ExitCode(), "%s: %q", ee, stderr.String())
			require.Less(t, took, time.Second)
			require.Contains(t, stderr.String(), "interrupted")
			t.Logf("%s: exit %d %s after the signal", tt.name, ee.ExitCode(), took.Round(time.Millisecond))
		})
	}
}

// waitForOpen waits until process pid, once it runs ffe (before exec the
// child still holds the test's descriptors), has path open: the read
// started.
func waitForOpen(t *testing.T, pid int, path string) {
	t.Helper()
	want, err := filepath.EvalSymlinks(path)
	if err != nil {
		want = path
	}
	proc := filepath.Join("/proc", strconv.Itoa(pid))
	fdDir := filepath.Join(proc, "fd")
	require.Eventually(t, func() bool {
		if cl, err := os.ReadFile(filepath.Join(proc, "cmdline")); err != nil || !bytes.Contains(cl, []byte("--csv")) {
			return false // not exec'd yet
		}
		ents, err := os.ReadDir(fdDir)
		if err != nil {
			return false
		}
		for _, e := range ents {
			if fd := e.Name(); fd != "0" && fd != "1" && fd != "2" {
				if l, err := os.Readlink(filepath.Join(fdDir, fd)); err == nil && (l == want || strings.HasPrefix(l, "pipe:")) {
					return true
				}
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "ffe never opened %s", path)
}

// rows yields valid CSV rows for ever.
type rows struct{ off int }

func (r *rows) Read(p []byte) (int, error) {
	const row = "2016-01-04,1,2,0.5,1.5\n"
	for i := range p {
		p[i] = row[r.off]
		r.off = (r.off + 1) % len(row)
	}
	return len(p), nil
}
