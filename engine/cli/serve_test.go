package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/engine/crew"
	"github.com/leakgate/leakgate/engine/export"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/engine/server"
)

// syncBuffer is a bytes.Buffer safe for a writer and readers in other
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serving is an `ffe serve` running in the background.
type serving struct {
	t              *testing.T
	api, admin     string // base URLs
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan int // the exit code
	hc             *http.Client
	tr             *http.Transport
	token          string
}

// startServe runs `ffe args...` (a serve command line) in a goroutine and
// waits until its API answers /readyz.
func (f *ffe) startServe(args ...string) *serving {
	t := f.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tr := &http.Transport{MaxIdleConnsPerHost: 2}
	s := &serving{t: t, stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1),
		tr: tr, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	env := f.env
	opts := append([]Option{WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })}, f.opts...)
	go func() { s.done <- Run(ctx, args, strings.NewReader(""), s.stdout, s.stderr, opts...) }()
	t.Cleanup(func() {
		// A test that failed half-way still stops the server.
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("ffe serve did not stop")
		}
		tr.CloseIdleConnections()
	})

	deadline := time.Now().Add(30 * time.Second)
	for s.api == "" || (s.admin == "" && strings.Contains(s.stdout.String(), AdminPrefix)) || !s.ready() {
		select {
		case code := <-s.done:
			s.done <- code
			t.Fatalf("ffe serve exited with %d before it was ready\nstdout:\n%s\nstderr:\n%s", code, s.stdout, s.stderr)
		default:
		}
		require.True(t, time.Now().Before(deadline), "ffe serve not ready\nstdout:\n%s\nstderr:\n%s", s.stdout, s.stderr)
		sc := bufio.NewScanner(strings.NewReader(s.stdout.String()))
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), ServingPrefix); ok {
				s.api = u
			}
			if u, ok := strings.CutPrefix(sc.Text(), AdminPrefix); ok {
				s.admin, _, _ = strings.Cut(u, " ")
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return s
}

// ready reports whether /readyz answers 200.
func (s *serving) ready() bool {
	if s.api == "" {
		return false
	}
	res, err := s.hc.Get(s.api + "/readyz")
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// stop cancels the command's context and returns its exit code.
func (s *serving) stop() int {
	s.t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		s.done <- code // for the cleanup
		s.tr.CloseIdleConnections()
		return code
	case <-time.After(30 * time.Second):
		s.t.Fatalf("ffe serve did not stop\nstderr:\n%s", s.stderr)
		return -1
	}
}

// do sends an API request with the bearer token.
func (s *serving) do(method, path string, body any) *http.Response {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(s.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.api+path, rd)
	require.NoError(s.t, err)
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.hc.Do(req)
	require.NoError(s.t, err)
	return res
}

// getJSON decodes the answer of a request that must succeed with want.
func getJSON[T any](s *serving, want int, method, path string, body any) T {
	s.t.Helper()
	res := s.do(method, path, body)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	require.Equal(s.t, want, res.StatusCode, "%s %s: %s", method, path, raw)
	var v T
	require.NoError(s.t, json.Unmarshal(raw, &v), string(raw))
	return v
}

// download fetches a file and returns its bytes.
func (s *serving) download(href string) []byte {
	s.t.Helper()
	res := s.do(http.MethodGet, href, nil)
	defer res.Body.Close()
	require.Equal(s.t, http.StatusOK, res.StatusCode, href)
	b, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	return b
}

// generatedToken reads the token serve printed on stderr.
func (s *serving) generatedToken() string {
	s.t.Helper()
	lines := strings.Split(s.stderr.String(), "\n")
	for i, l := range lines {
		if strings.Contains(l, "no API token configured") && i+1 < len(lines) {
			return strings.TrimSpace(lines[i+1])
		}
	}
	s.t.Fatalf("no generated token on stderr:\n%s", s.stderr)
	return ""
}

// TestServe runs `ffe serve` through Run on free loopback ports, triggers a
// download-tracker export with the token, polls it to success, downloads
// every file and checks it against the manifest's SHA-256, reads the
// metrics, then cancels the context: the command exits 0 and leaves no
// goroutine, file descriptor or provider client behind.
func TestServe(t *testing.T) {
	const configured = "srv-test-token-8f3a9c"
	tests := []struct {
		name       string
		env        []string
		args       []string
		token      string // configured; "" means generated
		wantWriter string
		wantFiles  []string
	}{
		{
			name:       "generated token, local crew, json logs",
			args:       []string{"--log-format", "json"},
			wantWriter: config.WriterLocal,
			wantFiles:  []string{"AAPL.csv", "AAPL.json", export.ReportJSONFile, export.ReportMarkdownFile},
		},
		{
			name: "configured token, llm crew, sentiment",
			env: []string{"FFE_SERVER_TOKEN", configured, "FFE_SERVER_CREW_WRITER", config.WriterLLM,
				"FFE_SENTIMENT_ENABLED", "true", "FFE_SENTIMENT_SUBREDDITS", "stocks"},
			token:      configured,
			wantWriter: config.WriterLLM,
			wantFiles: []string{"AAPL.csv", "AAPL.json", export.SentimentFile, export.ReportJSONFile,
				export.ReportMarkdownFile},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			base := measureOpen(t)
			f := newFFE(t, modeSandbox).with(tt.env...)
			start := time.Now()
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--log-level", "info"}, tt.args...)
			s := f.startServe(args...)
			t.Logf("ready in %s", time.Since(start).Round(time.Millisecond))
			s.token = tt.token
			if s.token == "" {
				s.token = s.generatedToken()
			}
			require.NotEmpty(t, s.admin)

			// No token, no API.
			bare := *s
			bare.token = ""
			res := bare.do(http.MethodGet, "/api/jobs", nil)
			res.Body.Close()
			require.Equal(t, http.StatusUnauthorized, res.StatusCode)

			job := getJSON[server.JobView](s, http.StatusAccepted, http.MethodPost, "/api/jobs/download-tracker/trigger",
				map[string]any{"symbols": []string{"AAPL"}, "range": "2016-01-01/2016-12-31", "crew": true})
			deadline := time.Now().Add(30 * time.Second)
			for !job.Status.Terminal() {
				require.True(t, time.Now().Before(deadline), "job %s still %s", job.ID, job.Status)
				time.Sleep(10 * time.Millisecond)
				job = getJSON[server.JobView](s, http.StatusOK, http.MethodGet, "/api/jobs/"+job.ID, nil)
			}
			require.Equal(t, jobs.Succeeded, job.Status, job.Error)

			ev := getJSON[server.ExportView](s, http.StatusOK, http.MethodGet, "/api/exports/"+job.ID, nil)
			var names []string
			for _, file := range ev.Files {
				names = append(names, file.Name)
				body := s.download(file.Href)
				sum := sha256.Sum256(body)
				require.Equal(t, file.SHA256, hex.EncodeToString(sum[:]), file.Name)
				require.Equal(t, file.Size, int64(len(body)), file.Name)
			}
			require.ElementsMatch(t, tt.wantFiles, names)
			var rep crew.Report
			require.NoError(t, json.Unmarshal(s.download("/api/exports/"+job.ID+"/files/"+export.ReportJSONFile), &rep))
			require.Equal(t, tt.wantWriter, rep.Writer)

			// The admin listener serves the metrics, provider requests
			// included.
			res, err := s.hc.Get(s.admin + "/metrics")
			require.NoError(t, err)
			metrics, err := io.ReadAll(res.Body)
			res.Body.Close()
			require.NoError(t, err)
			require.Contains(t, string(metrics), server.MetricProviderRequests+`{code="200",provider=`)
			require.Contains(t, string(metrics), server.MetricJobs+`{status="succeeded"} 1`)

			stopAt := time.Now()
			require.Equal(t, ExitOK, s.stop(), "stderr:\n%s", s.stderr)
			t.Logf("stopped in %s", time.Since(stopAt).Round(time.Millisecond))

			out, errOut := s.stdout.String(), s.stderr.String()
			require.Contains(t, out, ServingPrefix+"http://127.0.0.1:")
			// The token is printed once when generated, and otherwise
			// never; no log line carries it.
			want := 0
			if tt.token == "" {
				want = 1
			}
			require.Equal(t, want, strings.Count(out+errOut, s.token), "stderr:\n%s", errOut)
			require.Contains(t, errOut, "server: listening")

			got := settleOpen(t, base, 10*time.Second)
			require.LessOrEqual(t, got.FDs, base.FDs, "open fds: baseline %+v, after %+v", base, got)
			require.Equal(t, base.Gauges[openClientsMetric], got.Gauges[openClientsMetric], "provider clients still open")
		})
	}
}

// TestServeLogFormat checks that --log-format json makes every log line a
// JSON object.
func TestServeLogFormat(t *testing.T) {
	f := newFFE(t, modeSandbox).with("FFE_SERVER_TOKEN", "fmt-token")
	s := f.startServe("serve", "--addr", "127.0.0.1:0", "--admin-addr", "off", "--log-level", "info", "--log-format", "json")
	require.Empty(t, s.admin, "the admin listener is off")
	require.Equal(t, ExitOK, s.stop())
	lines := strings.Split(strings.TrimSpace(s.stderr.String()), "\n")
	require.NotEmpty(t, lines)
	for _, l := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		require.Contains(t, m, "msg")
	}
}

func TestServeUsageErrors(t *testing.T) {
	f := newFFE(t, modeSandbox)
	bodyToken := filepath.Join(t.TempDir(), "token.yaml")
	require.NoError(t, os.WriteFile(bodyToken, []byte("server:\n  token: in-the-body-secret\n"), 0o644))
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want []string
	}{
		{name: "addr without port", args: []string{"serve", "--addr", "localhost"}, code: ExitUsage,
			want: []string{"--addr", "host:port", "127.0.0.1:8740", "Run 'ffe serve --help'"}},
		{name: "addr port out of range", args: []string{"serve", "--addr", "127.0.0.1:99999"}, code: ExitUsage,
			want: []string{"--addr", "0 to 65535"}},
		{name: "public without token", args: []string{"serve", "--addr", "0.0.0.0:0", "--admin-addr", "off"}, code: ExitUsage,
			want: []string{"without a token", "FFE_SERVER_TOKEN", "server.token_file", "--addr 127.0.0.1:8740"}},
		{name: "public admin", env: []string{"FFE_SERVER_TOKEN", "x-token"},
			args: []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "0.0.0.0:0"}, code: ExitUsage,
			want: []string{"metrics and pprof", "admin_public"}},
		{name: "bad admin addr", args: []string{"serve", "--admin-addr", "nowhere"}, code: ExitUsage,
			want: []string{"--admin-addr", "off"}},
		{name: "unknown log format", args: []string{"serve", "--addr", "127.0.0.1:0", "--log-format", "xml"}, code: ExitUsage,
			want: []string{`log.format "xml"`, "text or json"}},
		{name: "extra argument", args: []string{"serve", "now"}, code: ExitUsage, want: []string{"serve takes no arguments"}},
		{name: "token in the config body", args: []string{"--config", bodyToken, "serve"}, code: ExitUsage,
			want: []string{"server.token", "FFE_SERVER_TOKEN", "server.token_file"}},
		{name: "bad server setting", env: []string{"FFE_SERVER_WORKERS", "-1"}, args: []string{"serve"}, code: ExitUsage,
			want: []string{"server.workers -1"}},
		{name: "retention 0 is the old off", env: []string{"FFE_SERVER_RETENTION_KEEP_EXPORTS", "0"}, args: []string{"serve"},
			code: ExitUsage, want: []string{"server.retention.keep_exports 0", "-1"}},
		{name: "llm writer without a key", env: []string{"FFE_DATA_SOURCE", "live", "FFE_SERVER_CREW_WRITER", "llm"},
			args: []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "off"}, code: ExitUsage,
			want: []string{"server.crew.writer is llm", "FFE_LLM_API_KEY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stderr := f.with(tt.env...).fail(tt.code, tt.args...)
			for _, w := range tt.want {
				require.Contains(t, stderr, w)
			}
			require.NotContains(t, stderr, "in-the-body-secret")
		})
	}
}

// TestServeAddressInUse fails with exit 1 and a hint when the port is
// taken.
func TestServeAddressInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	stderr := newFFE(t, modeSandbox).fail(ExitFailure, "serve", "--addr", busy.Addr().String())
	require.Contains(t, stderr, "address already in use")
	require.Contains(t, stderr, "choose another address with --addr")
}

func TestConfigShowRedactsServerToken(t *testing.T) {
	const token = "cfg-show-token-c0ffee"
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
	tests := []struct {
		name string
		env  []string
	}{
		{name: "env", env: []string{"FFE_SERVER_TOKEN", token}},
		{name: "file", env: []string{"FFE_SERVER_TOKEN_FILE", tokenFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFFE(t, modeSandbox).with(tt.env...)
			out := f.ok("config", "show")
			require.NotContains(t, out, token)
			require.Contains(t, out, "server.token:\n    env: FFE_SERVER_TOKEN\n    value: REDACTED")
			require.Contains(t, out, "\nserver:\n  listen: 127.0.0.1:8740\n")

			var doc struct {
				Server struct {
					Listen    string `json:"listen"`
					ExportDir string `json:"export_dir"`
				} `json:"server"`
				Secrets map[string]config.SecretStatus `json:"secrets"`
			}
			f.json(&doc, "config", "show")
			require.Equal(t, "REDACTED", doc.Secrets["server.token"].Value)
			require.Equal(t, filepath.Join(f.env["FFE_DATA_DIR"], "exports"), doc.Server.ExportDir)
			require.NotContains(t, f.ok("config", "show", "--json"), token)
		})
	}
}

// TestServerConfig checks the mapping of the server section onto
// server.Config, and that the configuration's defaults are the server's.
// The service's part is engine's TestServiceConfig.
func TestServerConfig(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = "/data"
	got := serverConfig(cfg)
	require.Equal(t, server.DefaultAddr, got.Addr)
	require.Equal(t, server.DefaultAdminAddr, got.AdminAddr)
	require.Equal(t, server.DefaultShutdownTimeout, got.ShutdownTimeout)
	require.Empty(t, got.Token)
	require.False(t, got.AdminPublic)

	cfg.SetSecret(config.ServerSection, "token", "t0k")
	cfg.Server.AdminListen = config.AdminOff
	got = serverConfig(cfg)
	require.Equal(t, "t0k", got.Token)
	require.Equal(t, server.AdminOff, got.AdminAddr)
}
