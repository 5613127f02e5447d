package server

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/jobs"
)

// buildExportd builds the crash-test server binary into a temporary
// directory.
func buildExportd(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the crash test builds a binary with the go tool")
	bin := filepath.Join(t.TempDir(), "exportd")
	out, err := exec.Command(goTool, "build", "-o", bin, "./internal/cmd/exportd").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// proc is a running exportd.
type proc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	base   string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startExportd(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-token", testToken}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	p := &proc{cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "exportd stderr: %s", p.stderr.String())
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	require.True(t, ok, "first line %q", line)
	p.base = "http://" + addr
	go func() { _, _ = io.Copy(io.Discard, stdout) }() // ends at Wait
	return p
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	err := p.cmd.Wait()
	require.Error(t, err, "killed")
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.cmd.Wait(), "a graceful stop exits 0; stderr: %s", p.stderr.String())
}

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestCrashMidJob kills the server process while a job is writing its
// bundle, starts it again over the same database and directory, and checks
// that the job is resumed (or failed with a reason when it has no attempts
// left) and that no partial export is ever visible.
func TestCrashMidJob(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a server binary")
	}
	bin := buildExportd(t)
	tests := []struct {
		name        string
		maxAttempts string
		wantState   jobs.State
		wantText    string // in the note (resumed) or the error (failed)
	}{
		{name: "resumed", maxAttempts: "3", wantState: jobs.Succeeded,
			wantText: "resumed: the process stopped while the job was running (attempt 1 of 3)"},
		{name: "failed with a reason", maxAttempts: "1", wantState: jobs.Failed,
			wantText: "interrupted: the process stopped while the job was running (attempt 1 of 1); no attempts left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			exports := filepath.Join(dir, "exports")
			args := []string{"-db", filepath.Join(dir, "ffe.db"), "-dir", exports, "-max-attempts", tt.maxAttempts}

			// A slow sandbox: every answer waits, one symbol at a time.
			p := startExportd(t, bin, append(args, "-latency", "150ms")...)
			c := newClient(t, p.base)
			res := c.do(http.MethodPost, "/api/jobs/download-tracker/trigger", jsonBody(map[string]any{
				"symbols": []string{"AAPL", "SPY", "BTC-USD", "EUR_USD"}, "range": "2016-01-01/2016-12-31", "crew": true}))
			require.Equal(t, http.StatusAccepted, res.StatusCode)
			id := decode[JobView](t, res).ID

			// Wait until some of the bundle is written.
			for {
				v := decode[JobView](t, c.do(http.MethodGet, "/api/jobs/"+id, nil))
				require.False(t, v.Status.Terminal(), "the job finished before the kill")
				if v.Status == jobs.Running && v.Progress.Done >= 1 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			res = c.do(http.MethodGet, "/api/exports/"+id, nil)
			require.Equal(t, http.StatusNotFound, res.StatusCode, "no export is visible mid-job")
			res.Body.Close()
			p.kill(t)

			// On disk: the partial bundle is only in a hidden staging
			// directory; nothing carries the export id.
			names := entries(t, exports)
			require.NotContains(t, names, id)
			require.NotEmpty(t, names, "the staging directory of the killed job")
			for _, n := range names {
				require.True(t, strings.HasPrefix(n, ".tmp-"+id), "unexpected %s", n)
			}

			p = startExportd(t, bin, args...)
			c = newClient(t, p.base)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var v JobView
			for ctx.Err() == nil {
				v = decode[JobView](t, c.do(http.MethodGet, "/api/jobs/"+id, nil))
				if v.Status.Terminal() {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			require.Equal(t, tt.wantState, v.Status, "error: %s", v.Error)
			switch tt.wantState {
			case jobs.Succeeded:
				require.Equal(t, tt.wantText, v.Note)
				require.Equal(t, 2, v.Attempt)
				res = c.do(http.MethodGet, "/api/exports/"+id, nil)
				require.Equal(t, http.StatusOK, res.StatusCode)
				ev := decode[ExportView](t, res)
				require.Len(t, ev.Files, 11) // 4 symbols × 2, sentiment, crew report × 2
				_, _ = c.exportFiles(ev)
				require.Equal(t, []string{id}, entries(t, exports), "the leftover staging was removed")
			case jobs.Failed:
				require.Equal(t, tt.wantText, v.Error)
				require.Empty(t, entries(t, exports), "the leftover staging was removed and nothing exported")
			}
			p.stop(t)
		})
	}
}

// exportFiles downloads every file of ev and checks its size and checksum.
func (c *client) exportFiles(ev ExportView) (files int, bytes int64) {
	c.t.Helper()
	for _, f := range ev.Files {
		res := c.do(http.MethodGet, f.Href, nil)
		require.Equal(c.t, http.StatusOK, res.StatusCode)
		data, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(c.t, err)
		require.Equal(c.t, f.Size, int64(len(data)))
		require.Equal(c.t, f.SHA256, sha256Hex(data))
		files++
		bytes += f.Size
	}
	return files, bytes
}
