package server

import (
	"bufio"
	"bytes"
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
			p := startExportd(t, bin, append(args, "-latency", slowAnswer)...)
			c := newClient(t, p.base)
			id := c.triggerSlowJob()
			c.awaitWritten(id) // and no export is visible
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
			v := c.await(id)
			require.Equal(t, tt.wantState, v.Status, "error: %s", v.Error)
			switch tt.wantState {
			case jobs.Succeeded:
				require.Equal(t, tt.wantText, v.Note)
				require.Equal(t, 2, v.Attempt)
				res := c.do(http.MethodGet, "/api/exports/"+id, nil)
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

// slowAnswer is the sandbox latency of the crash and shutdown tests. A
// slow job's first symbol is written after one answer and the job ends
// after seven more (three symbols, the sentiment scan's token and posts,
// and retries aside), so the tests act a few seconds before it ends,
// however loaded the machine.
const slowAnswer = "400ms"

// triggerSlowJob queues an export of four symbols with the sentiment scan
// and the crew, and returns its id.
func (c *client) triggerSlowJob() string {
	c.t.Helper()
	res := c.do(http.MethodPost, "/api/jobs/download-tracker/trigger", jsonBody(map[string]any{
		"symbols": []string{"AAPL", "SPY", "BTC-USD", "EUR_USD"}, "range": "2016-01-01/2016-12-31", "crew": true}))
	require.Equal(c.t, http.StatusAccepted, res.StatusCode)
	return decode[JobView](c.t, res).ID
}

// awaitWritten waits until job id runs and part of its bundle is written,
// and checks that no export is visible yet.
func (c *client) awaitWritten(id string) {
	c.t.Helper()
	for {
		v := decode[JobView](c.t, c.do(http.MethodGet, "/api/jobs/"+id, nil))
		require.False(c.t, v.Status.Terminal(), "the job finished too early: %s %s", v.Status, v.Error)
		if v.Status == jobs.Running && v.Progress.Done >= 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	res := c.do(http.MethodGet, "/api/exports/"+id, nil)
	res.Body.Close()
	require.Equal(c.t, http.StatusNotFound, res.StatusCode, "no export is visible mid-job")
}

// storedJob reads job id from the database at path, with no server
// running.
func storedJob(t *testing.T, path, id string) jobs.Job {
	t.Helper()
	db := openDB(t, path)
	q, err := jobs.Open(t.Context(), db.Jobs(), jobs.WithLogger(quiet))
	require.NoError(t, err)
	require.Equal(t, jobs.Recovery{}, q.Recovered(), "no job was left running")
	j, err := q.Get(t.Context(), id)
	require.NoError(t, err)
	require.NoError(t, q.Stop(t.Context()))
	require.NoError(t, db.Close())
	return j
}

// TestSignalShutdown stops the server process with SIGTERM while a job
// runs and another waits, and checks that it exits 0 with the running job
// finished when the grace period suffices, or queued again untouched when
// it does not, and the waiting job still queued; a restart then runs what
// is queued.
func TestSignalShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a server binary")
	}
	bin := buildExportd(t)
	tests := []struct {
		name      string
		grace     string
		wantState jobs.State
		wantNote  string
	}{
		{name: "running job finishes", grace: "1m", wantState: jobs.Succeeded},
		{name: "deadline passes", grace: "100ms", wantState: jobs.Queued, wantNote: "interrupted by a shutdown; queued again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			exports, dbPath := filepath.Join(dir, "exports"), filepath.Join(dir, "ffe.db")
			args := []string{"-db", dbPath, "-dir", exports, "-workers", "1"}
			p := startExportd(t, bin, append(args, "-latency", slowAnswer, "-shutdown-timeout", tt.grace)...)
			c := newClient(t, p.base)
			running := c.triggerSlowJob()
			waiting := c.triggerSlowJob()
			c.awaitWritten(running)
			p.stop(t) // SIGTERM; exits 0

			j := storedJob(t, dbPath, running)
			require.Equal(t, tt.wantState, j.State, "error: %s", j.Error)
			require.Equal(t, tt.wantNote, j.Note)
			w := storedJob(t, dbPath, waiting)
			require.Equal(t, jobs.Queued, w.State, "the waiting job stays queued")
			require.Equal(t, 0, w.Attempt)
			switch tt.wantState {
			case jobs.Succeeded:
				require.Equal(t, 1, j.Attempt)
				require.Equal(t, []string{running}, entries(t, exports), "the finished bundle and nothing else")
			case jobs.Queued:
				require.Equal(t, 0, j.Attempt, "an interrupted attempt does not count")
				require.Empty(t, entries(t, exports), "the interrupted job's staging was removed")
			}

			// The next process runs what is queued.
			p = startExportd(t, bin, args...)
			c = newClient(t, p.base)
			for _, id := range []string{running, waiting} {
				v := c.await(id)
				require.Equal(t, jobs.Succeeded, v.Status, "error: %s", v.Error)
				require.Equal(t, 1, v.Attempt)
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
