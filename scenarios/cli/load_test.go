package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runLoad runs one leakgate command line in process.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// testServer serves h on loopback with a Prometheus endpoint of this
// process's goroutines at /metrics, so that this process can stand for a
// server watched by --pid and --metrics-url.
func testServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/work", h)
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "go_goroutines %d\ngo_memstats_heap_inuse_bytes 1\n", runtime.NumGoroutine())
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestLoadSpawnedFFE is `make load` in small: ffe serve spawned, the
// trigger endpoint driven, the queue drained, the defaults judged; and
// vegeta's own report command reads the results file.
func TestLoadSpawnedFFE(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "load", "--spawn", "ffe serve", "--rate", "50/s", "--duration", "2s",
		"--mix", "trigger=2,status=1,download=1", "--report-dir", dir, "--threshold", "drain<10s")
	require.Equal(t, ExitPass, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Contains(t, stdout, "✓ rate>=99%")
	require.Contains(t, stdout, "✓ goroutines<=2")
	require.Contains(t, stdout, "✓ drain<10s")
	for _, f := range []string{"load.bin", "load.txt", "load.json", "load.junit.xml", "load.html"} {
		require.FileExists(t, filepath.Join(dir, f))
	}
	var rep struct {
		Status string `json:"status"`
		Sent   int    `json:"sent"`
		Server struct {
			Drained bool `json:"drained"`
		} `json:"server"`
		Vegeta struct {
			StatusCodes map[string]int `json:"status_codes"`
		} `json:"vegeta"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "load.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &rep))
	require.Equal(t, "pass", rep.Status)
	require.True(t, rep.Server.Drained)
	require.Positive(t, rep.Vegeta.StatusCodes["202"], "triggers")
	require.Positive(t, rep.Vegeta.StatusCodes["200"], "polls and downloads")

	vegetaReport(t, filepath.Join(dir, "load.bin"), rep.Sent)
}

// vegetaReport installs the vegeta command from its module and checks
// that it reads a results file of leakgate load.
func vegetaReport(t *testing.T, results string, requests int) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool to install vegeta: %v", err)
	}
	gobin := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, goTool, "install", "github.com/tsenart/vegeta/v12@v12.13.0")
	install.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=-mod=mod")
	out, err := install.CombinedOutput()
	require.NoError(t, err, "%s", out)
	rep := exec.CommandContext(ctx, filepath.Join(gobin, "vegeta"), "report", "-type=json", results)
	out, err = rep.Output()
	require.NoError(t, err)
	var m struct {
		Requests int `json:"requests"`
	}
	require.NoError(t, json.Unmarshal(out, &m), "%s", out)
	require.Equal(t, requests, m.Requests)
}

func TestLoadFindsServerLeak(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	url := testServer(t, func(w http.ResponseWriter, _ *http.Request) {
		go func() { <-release }() // a goroutine per request, never ending on its own
	})
	code, stdout, _ := runCLI(t, "load", "--target-url", url+"/work", "--rate", "50/s", "--duration", "1s",
		"--pid", strconv.Itoa(os.Getpid()), "--metrics-url", url+"/metrics", "--settle", "300ms",
		"--threshold", "rate>=50%")
	require.Equal(t, ExitLeak, code, stdout)
	require.Contains(t, stdout, "✗ goroutines<=2")
	require.Contains(t, stdout, "✓ fds<=2")
	require.Contains(t, stdout, "✓ rate>=50%")
}

func TestLoadRateShortfall(t *testing.T) {
	url := testServer(t, func(w http.ResponseWriter, _ *http.Request) { time.Sleep(50 * time.Millisecond) })
	code, stdout, _ := runCLI(t, "load", "--target-url", url+"/work", "--rate", "100/s", "--duration", "1s",
		"--workers", "1", "--max-workers", "1", "--connections", "1", "--threshold", "p99<300ms")
	require.Equal(t, ExitLeak, code, stdout)
	require.Contains(t, stdout, "✗ rate>=99%")
	require.Contains(t, stdout, "✓ p99<300ms", "the workers' latency hides the backlog")
}

func TestLoadUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"remote", []string{"--target-url", "http://192.0.2.1/"}, "not on a loopback address"},
		{"unbounded", []string{"--target-url", "http://127.0.0.1:9/", "--max-requests", "0"}, "bounded"},
		{"shard", []string{"--target-url", "http://127.0.0.1:9/", "--shard", "4/3"}, "shard"},
		{"threshold", []string{"--target-url", "http://127.0.0.1:9/", "--threshold", "rss<1MB"}, "watched server"},
		{"no target", nil, "no target"},
		{"spawn other", []string{"--spawn", "nginx"}, "only 'ffe serve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"load", "--duration", "100ms"}, tt.args...)...)
			require.Equal(t, ExitUsage, code, stderr)
			require.Contains(t, stderr, tt.want)
		})
	}
}

// TestLoadThreeAttackers: three `leakgate load --shard i/3` processes on
// loopback against one server, merged by `leakgate report`, give the
// combined rate and one verdict.
func TestLoadThreeAttackers(t *testing.T) {
	url := testServer(t, func(http.ResponseWriter, *http.Request) {})
	exe, err := os.Executable()
	require.NoError(t, err)
	dir := t.TempDir()
	var cmds []*exec.Cmd
	for i := 1; i <= 3; i++ {
		c := exec.CommandContext(t.Context(), exe, "load", "--target-url", url+"/work", "--rate", "90/s",
			"--duration", "2s", "--shard", fmt.Sprintf("%d/3", i), "--results", filepath.Join(dir, fmt.Sprintf("%d.bin", i)))
		c.Stdout, c.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
		require.NoError(t, c.Start())
		cmds = append(cmds, c)
	}
	for _, c := range cmds {
		require.NoError(t, c.Wait(), "%s\n%s", c.Stdout, c.Stderr)
		require.Contains(t, c.Stdout.(*bytes.Buffer).String(), "requested 30.0/s")
	}
	out := filepath.Join(dir, "merged")
	code, stdout, stderr := runCLI(t, "report", filepath.Join(dir, "1.bin"), filepath.Join(dir, "2.bin"),
		filepath.Join(dir, "3.bin"), "--report-dir", out, "--threshold", "p99<2s")
	require.Equal(t, ExitPass, code, "%s\n%s", stdout, stderr)
	require.Contains(t, stdout, "3 attackers, requested 90.0/s")
	var rep struct {
		Requested     int     `json:"requested"`
		RequestedRate float64 `json:"requested_rate"`
		AchievedRate  float64 `json:"achieved_rate"`
		Status        string  `json:"status"`
	}
	b, err := os.ReadFile(filepath.Join(out, "load.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &rep))
	require.Equal(t, "pass", rep.Status)
	require.Equal(t, 180, rep.Requested)
	require.InDelta(t, 90, rep.RequestedRate, 0.5)
	require.InDelta(t, 90, rep.AchievedRate, 3)

	code, _, stderr = runCLI(t, "report", filepath.Join(dir, "1.bin"), filepath.Join(dir, "2.bin"))
	require.Equal(t, ExitUsage, code)
	require.Contains(t, stderr, "shard 3/3 is missing")
}
