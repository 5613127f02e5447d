package suite_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/scenarios"
	"github.com/leakgate/leakgate/scenarios/suite"
)

// The test service, built once by the first test that needs it and
// removed by TestMain.
var (
	testsvcOnce sync.Once
	testsvcDir  string
	testsvcBin  string
	testsvcErr  error
)

// buildTestsvc compiles internal/testsvc, once per test binary.
func buildTestsvc(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go tool is not on PATH: cannot build internal/testsvc for the declared-scenario tests")
	}
	testsvcOnce.Do(func() {
		if testsvcDir, testsvcErr = os.MkdirTemp("", "suite-testsvc-"); testsvcErr != nil {
			return
		}
		testsvcBin = filepath.Join(testsvcDir, "testsvc")
		if out, err := exec.Command("go", "build", "-o", testsvcBin, "./internal/testsvc").CombinedOutput(); err != nil {
			testsvcErr = fmt.Errorf("go build ./internal/testsvc: %w\n%s", err, out)
		}
	})
	require.NoError(t, testsvcErr)
	return testsvcBin
}

// declaredRun parses a suite, builds its only scenario in mode live and
// runs it with the suite's options.
func declaredRun(t *testing.T, yaml string) (*harness.Result, error) {
	t.Helper()
	s, err := suite.Parse("test.yaml", []byte(yaml))
	require.NoError(t, err)
	scs, err := s.Scenarios()
	require.NoError(t, err)
	require.Len(t, scs, 1)
	run, err := scs[0].Build(&scenarios.Env{Mode: scenarios.Live, Dir: t.TempDir()})
	require.NoError(t, err)
	res, err := harness.Run(t.Context(), run.Scenario, s.RunOptions(scs[0].Name, run)...)
	require.NotNil(t, res, "%v", err)
	return res, err
}

func report(res *harness.Result) string {
	var b strings.Builder
	res.WriteText(&b)
	return b.String()
}

const serviceSuite = `
name: e2e
iterations: 10
warmup: 3
settle_timeout: 1s
declared:
  - name: testsvc/orders
    spawn:
      command: [%q, %s]
      ready: {log: 'listening on (http://\S+)'}
    metrics_url: "{base}/metrics"
    iteration:
      requests:
        - {method: POST, url: "{base}/api/orders", body: '{"x":1}', headers: {Authorization: "Bearer x"}, expect: 201}
        - {url: "{base}/healthz"}
`

// TestDeclaredService spawns a real service, drives it with requests and
// measures it by PID and through its metrics URL.
func TestDeclaredService(t *testing.T) {
	bin := buildTestsvc(t)

	t.Run("clean", func(t *testing.T) {
		res, err := declaredRun(t, fmt.Sprintf(serviceSuite, bin, `"-timeout=2m"`))
		require.NoError(t, err)
		require.Equal(t, harness.StatusPass, res.Status, report(res))
		require.False(t, res.Target.Self)
		g, _ := res.Metric(harness.MetricGoroutines)
		require.True(t, g.Supported, "goroutines from the metrics URL")
		require.Equal(t, 10, res.Iterations.Completed)
	})

	t.Run("leaks a goroutine per request", func(t *testing.T) {
		res, err := declaredRun(t, fmt.Sprintf(serviceSuite, bin, `"-timeout=2m", "-leak"`))
		require.NoError(t, err)
		require.Equal(t, harness.StatusLeak, res.Status, report(res))
		g, _ := res.Metric(harness.MetricGoroutines)
		require.Equal(t, harness.VerdictFail, g.Verdict, report(res))
		require.InDelta(t, 10.0, g.Delta, 2, "one per iteration, within the jitter of the endpoint's own goroutines")
	})
}

const commandSuite = `
name: e2e
iterations: 5
warmup: 2
settle_timeout: 1s
declared:
  - name: testsvc/command
    spawn:
      command: [%[1]q]
      ready: {log: 'listening on (http://\S+)', timeout: 20s}
    iteration:
      command: [%[1]q, "-get", "{base}%[2]s"]
    thresholds:
      threads: []
`

// TestDeclaredCommand runs a command per iteration against a spawned
// service; the command's nonzero exit is a scenario error.
func TestDeclaredCommand(t *testing.T) {
	bin := buildTestsvc(t)

	t.Run("passes", func(t *testing.T) {
		res, err := declaredRun(t, fmt.Sprintf(commandSuite, bin, "/healthz"))
		require.NoError(t, err)
		require.Equal(t, harness.StatusPass, res.Status, report(res))
		g, _ := res.Metric(harness.MetricGoroutines)
		require.False(t, g.Supported, "no metrics URL")
	})

	t.Run("fails", func(t *testing.T) {
		res, err := declaredRun(t, fmt.Sprintf(commandSuite, bin, "/nope"))
		require.ErrorIs(t, err, harness.ErrScenario)
		require.Equal(t, harness.StatusError, res.Status)
		require.ErrorContains(t, err, "iteration command "+bin+": exit status 1")
		require.ErrorContains(t, err, "status 404")
	})
}

// TestDeclaredSpawnFails: a service that exits before it is ready fails
// the build with its output.
func TestDeclaredSpawnFails(t *testing.T) {
	bin := buildTestsvc(t)
	s, err := suite.Parse("test.yaml", []byte(fmt.Sprintf(`
declared:
  - name: testsvc/bad-flag
    spawn: {command: [%q, "-nope"], ready: {log: 'listening on (http://\S+)'}}
    iteration: {requests: [{url: "{base}/healthz"}]}
`, bin)))
	require.NoError(t, err)
	scs, err := s.Scenarios()
	require.NoError(t, err)
	_, err = scs[0].Build(&scenarios.Env{Mode: scenarios.Live})
	require.ErrorContains(t, err, "declared scenario testsvc/bad-flag: spawned process")
	require.ErrorContains(t, err, "exit status 2")
	require.ErrorContains(t, err, "flag provided but not defined: -nope")

	_, err = scs[0].Build(&scenarios.Env{Mode: scenarios.Mock})
	require.EqualError(t, err, "declared scenario testsvc/bad-flag: runs in mode live only")
}

type requestTest struct {
	name    string
	request string
	wantErr string // with BASE for the server's URL; "" for none
}

// TestDeclaredRequests drives an in-process server with a declared
// scenario that watches this process by PID: one iteration each.
func TestDeclaredRequests(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/teapot", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprint(w, "short and stout")
	})
	mux.HandleFunc("/created", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("X-Pid") != strconv.Itoa(os.Getpid()) {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("/remote", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://192.0.2.1/elsewhere", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []requestTest{
		{name: "any 2xx", request: `{url: "{base}/created", method: post, headers: {X-Pid: "{pid}"}}`},
		{name: "expected status", request: `{url: "{base}/created", method: POST, headers: {X-Pid: "{pid}"}, expect: 201}`},
		{name: "other status", request: `{url: "{base}/teapot", expect: 200}`, wantErr: `GET BASE/teapot: expected status 200, got 418: "short and stout"`},
		{name: "not 2xx", request: `{url: "{base}/teapot"}`, wantErr: `GET BASE/teapot: expected status 2xx, got 418: "short and stout"`},
		{name: "status without body", request: `{url: "{base}/created", method: POST, expect: 201}`, wantErr: `POST BASE/created: expected status 201, got 400: "bad request"`},
		{name: "redirect off loopback", request: `{url: "{base}/remote"}`,
			wantErr: `GET BASE/remote: Get "http://192.0.2.1/elsewhere": dial tcp 192.0.2.1:80: connect to 192.0.2.1:80: not a loopback address (allow_remote is false)`},
		{name: "timeout", request: `{url: "{base}/slow"}`, wantErr: `GET BASE/slow: Get "BASE/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := suite.Parse("test.yaml", []byte(fmt.Sprintf(`
declared:
  - name: self/requests
    pid: %d
    ready: {url: "{base}/ok"}
    base_url: %s
    iteration: {timeout: 200ms, requests: [%s]}
`, os.Getpid(), srv.URL, tt.request)))
			require.NoError(t, err)
			scs, err := s.Scenarios()
			require.NoError(t, err)
			run, err := scs[0].Build(&scenarios.Env{Mode: scenarios.Live})
			require.NoError(t, err)
			defer run.Scenario.Teardown(context.Background())
			require.NoError(t, run.Scenario.Setup(t.Context()))
			err = run.Scenario.Run(t.Context(), 0)
			want := strings.ReplaceAll(tt.wantErr, "BASE", srv.URL)
			if want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, want)
		})
	}
}

// TestDeclaredNotReady: a ready URL that does not answer 2xx in time
// fails the build.
func TestDeclaredNotReady(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	s, err := suite.Parse("test.yaml", []byte(fmt.Sprintf(`
declared:
  - name: self/not-ready
    pid: %d
    ready: {url: "%s/healthz", timeout: 300ms}
    iteration: {requests: [{url: "{base}/"}]}
`, os.Getpid(), srv.URL)))
	require.NoError(t, err)
	scs, err := s.Scenarios()
	require.NoError(t, err)
	_, err = scs[0].Build(&scenarios.Env{Mode: scenarios.Live})
	require.EqualError(t, err, fmt.Sprintf("declared scenario self/not-ready: not ready: %s/healthz did not answer 2xx within 300ms: status 404", srv.URL))
}

// TestDeclaredPIDFile reads the PID from a file next to the suite.
func TestDeclaredPIDFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "svc.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.pid"), []byte("nope"), 0o600))
	path := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`
declared:
  - {name: ok, pid_file: svc.pid, iteration: {command: ["true"]}}
  - {name: bad, pid_file: bad.pid, iteration: {command: ["true"]}}
  - {name: missing, pid_file: none.pid, iteration: {command: ["true"]}}
`), 0o600))
	s, err := suite.Load(path)
	require.NoError(t, err)
	scs, err := s.Scenarios()
	require.NoError(t, err)
	require.Equal(t, []string{"bad", "missing", "ok"}, names(scs))

	run, err := scs[2].Build(&scenarios.Env{Mode: scenarios.Live})
	require.NoError(t, err)
	require.NoError(t, run.Scenario.Teardown(t.Context()))
	require.NoError(t, run.Scenario.Teardown(t.Context()), "idempotent")

	_, err = scs[0].Build(&scenarios.Env{Mode: scenarios.Live})
	require.EqualError(t, err, fmt.Sprintf(`declared scenario bad: pid_file %s: want a process id, got "nope"`, filepath.Join(dir, "bad.pid")))
	_, err = scs[1].Build(&scenarios.Env{Mode: scenarios.Live})
	require.ErrorContains(t, err, "declared scenario missing: pid_file: open "+filepath.Join(dir, "none.pid"))
}

func TestRunOptions(t *testing.T) {
	s, err := suite.Parse("s.yaml", []byte(`
duration: 1m
thresholds: {goroutines: delta<=0, fds: delta<=1, threads: delta<=3, open_clients: final<5}
declared:
  - {name: a, pid: 1, iteration: {command: ["true"]}, thresholds: {fds: delta<=9}}
`))
	require.NoError(t, err)
	require.Len(t, s.HarnessOptions(), 4+4, "iterations, warm-up, settle timeout, duration; 4 thresholds")
	require.Len(t, s.RunOptions("cmd/analyze", &scenarios.Run{}), 4+4)
	// Declared without metrics_url: threads only (fds is its own, in the
	// Run's options; goroutines and open_clients it cannot measure).
	require.Len(t, s.RunOptions("a", &scenarios.Run{}), 4+1)
}
