package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness/report"
)

// result is one command line's outcome.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

func leakgate(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(t.Context(), args, strings.NewReader(""), &out, &errb)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// writeSuite writes a suite file and returns its path.
func writeSuite(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "suite.yaml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

const quickSuite = `name: test
scenarios: [%s]
modes: [mock]
iterations: 5
warmup: 1
settle_timeout: 200ms
timeout: %s
`

func readReport(t *testing.T, dir string) *report.Report {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "leakgate.json"))
	require.NoError(t, err)
	defer f.Close()
	rep, err := report.Read(f)
	require.NoError(t, err)
	return rep
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// TestLeakFailsWithFindingsInEveryFormat runs a suite with a scenario
// that leaks a goroutine per iteration: exit 1, and the goroutine's
// creator in every report.
func TestLeakFailsWithFindingsInEveryFormat(t *testing.T) {
	dir := t.TempDir()
	r := leakgate(t, "run", "--suite", writeSuite(t, fmt.Sprintf(quickSuite, `"test/leaky-goroutine", "test/clean"`, "1m")),
		"--report-dir", dir)
	require.Equal(t, ExitLeak, r.code, r)
	require.Contains(t, r.stdout, "leakgate: LEAK: 2 cases (1 leak, 1 pass)")
	require.NotContains(t, r.stdout, "test/clean [mock]", "only failing cases are printed")

	rep := readReport(t, dir)
	require.Len(t, rep.Cases, 2)
	leaky := rep.Cases[slicesIndex(rep.Cases, "test/leaky-goroutine")]
	require.Equal(t, report.StatusLeak, leaky.Status)
	g, ok := leaky.Result.Metric("goroutines")
	require.True(t, ok)
	require.Equal(t, 5.0, g.Delta)
	require.NotEmpty(t, leaky.Result.FindingsFor("goroutines"))

	const creator = "leakForever"
	for _, name := range []string{"leakgate.txt", "leakgate.json", "leakgate.junit.xml", "leakgate.html"} {
		require.Contains(t, readFile(t, filepath.Join(dir, name)), creator, name)
	}
	require.Contains(t, r.stdout, creator, "the findings are printed too")

	var suites struct {
		Suites []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Text string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal([]byte(readFile(t, filepath.Join(dir, "leakgate.junit.xml"))), &suites))
	failures := 0
	for _, s := range suites.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil {
				failures++
				require.Equal(t, "test/leaky-goroutine", c.Name)
				require.Contains(t, c.Failure.Text, creator)
			}
		}
	}
	require.Equal(t, 1, failures)
}

func slicesIndex(cs []report.Case, scenario string) int {
	for i, c := range cs {
		if c.Scenario == scenario {
			return i
		}
	}
	return -1
}

// TestScenarioErrorExits3 checks that a scenario that fails, a worker
// that crashes and a worker that hangs are errors of their cases (exit
// 3), that the other cases still run, and that a skipped case is neither.
func TestScenarioErrorExits3(t *testing.T) {
	dir := t.TempDir()
	r := leakgate(t, "run", "--suite", writeSuite(t, fmt.Sprintf(quickSuite,
		`"test/erroring", "test/crash", "test/hang", "test/clean", "test/skipped"`, "3s")),
		"--mode", "both", "--report-dir", dir)
	require.Equal(t, ExitError, r.code, r)
	rep := readReport(t, dir)
	got := map[string]report.Case{}
	for _, c := range rep.Cases {
		got[c.ID()] = c
	}
	require.Len(t, got, 7, "test/crash and test/hang run in mock mode only, test/skipped in live only")
	require.Equal(t, report.StatusPass, got["test/clean [mock]"].Status)
	require.Equal(t, report.StatusPass, got["test/clean [live]"].Status)
	require.Equal(t, report.StatusSkipped, got["test/skipped [live]"].Status)
	require.Contains(t, got["test/skipped [live]"].Reason, "LEAKGATE_TEST_KEY")

	e := got["test/erroring [mock]"]
	require.Equal(t, report.StatusError, e.Status)
	require.Contains(t, e.Reason, "order book unavailable")

	c := got["test/crash [mock]"]
	require.Equal(t, report.StatusError, c.Status)
	require.Contains(t, c.Reason, "worker failed without a result")
	require.Contains(t, c.Reason, "exit status 7")
	require.Contains(t, c.Log, "exiting on purpose")

	h := got["test/hang [mock]"]
	require.Equal(t, report.StatusError, h.Status)
	require.Contains(t, h.Reason, "timed out after 3s")

	junit := readFile(t, filepath.Join(dir, "leakgate.junit.xml"))
	require.Contains(t, junit, "<skipped")
	require.Contains(t, junit, "<error")
}

// TestUsageErrorsExit2 covers bad flags and malformed suites: exit 2, a
// message that names the problem, and for a suite its file and line.
func TestUsageErrorsExit2(t *testing.T) {
	badSuite := writeSuite(t, "name: bad\nscenarios: [\"test/clean\"]\niterations: many\n")
	unknownField := writeSuite(t, "name: bad\nscenarios: [\"test/clean\"]\n\nwarmpu: 3\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "suite type error", args: []string{"run", "--suite", badSuite}, want: badSuite + ":3: iterations:"},
		{name: "suite unknown field", args: []string{"run", "--suite", unknownField}, want: unknownField + ":4: warmpu:"},
		{name: "missing suite", args: []string{"run", "--suite", "/nonexistent/suite.yaml"}, want: "/nonexistent/suite.yaml"},
		{name: "unknown builtin", args: []string{"run", "--suite", "nightly"}, want: `no built-in suite "nightly"`},
		{name: "bad mode", args: []string{"run", "--scenario", "test/clean", "--mode", "replay"}, want: `mode "replay": want mock, live or both`},
		{name: "one iteration", args: []string{"run", "--scenario", "test/clean", "--iterations", "1"}, want: "--iterations 1: need at least 2"},
		{name: "bad shard", args: []string{"run", "--shard", "0/3"}, want: `--shard "0/3"`},
		{name: "bad format", args: []string{"run", "--format", "pdf"}, want: `"pdf": want some of text,json,junit,html`},
		{name: "bad threshold", args: []string{"run", "--threshold", "goroutines: delta<=lots"}, want: `--threshold "goroutines: delta<=lots"`},
		{name: "unknown scenario", args: []string{"run", "--scenario", "nope/*"}, want: `--scenario: scenario "nope/*": no such scenario`},
		{name: "unknown command", args: []string{"runn"}, want: `unknown command "runn"; did you mean run?`},
		{name: "unknown flag", args: []string{"run", "--iterashuns", "3"}, want: "unknown flag: --iterashuns"},
		{name: "report without files", args: []string{"report"}, want: "report takes one or more report files"},
		{name: "sandbox off loopback", args: []string{"sandbox", "--addr", "0.0.0.0:0"}, want: "not a loopback address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := leakgate(t, tt.args...)
			require.Equal(t, ExitUsage, r.code, r)
			require.True(t, strings.HasPrefix(r.stderr, "leakgate: "), r.stderr)
			require.Contains(t, r.stderr, tt.want)
		})
	}
}

// TestShardsMergeToTheUnshardedRun runs a selection unsharded and as three
// shards, merges the shards with leakgate report, and compares.
func TestShardsMergeToTheUnshardedRun(t *testing.T) {
	suite := writeSuite(t, fmt.Sprintf(quickSuite, `"test/clean", "test/leaky-goroutine", "test/erroring", "test/skipped", "provider/yahoo"`, "1m"))
	verdicts := func(rep *report.Report) map[string]report.Status {
		m := map[string]report.Status{}
		for _, c := range rep.Cases {
			m[c.ID()] = c.Status
		}
		return m
	}
	whole := t.TempDir()
	r := leakgate(t, "run", "--suite", suite, "--mode", "both", "--report-dir", whole, "--format", "json")
	require.Equal(t, ExitLeak, r.code, r)
	want := verdicts(readReport(t, whole))
	require.Len(t, want, 9)

	var files []string
	seen := map[string]bool{}
	for i := 1; i <= 3; i++ {
		dir := t.TempDir()
		r := leakgate(t, "run", "--suite", suite, "--mode", "both", "--shard", fmt.Sprintf("%d/3", i), "--report-dir", dir, "--format", "json")
		require.Contains(t, []int{ExitPass, ExitLeak, ExitError}, r.code, r)
		rep := readReport(t, dir)
		require.Equal(t, []string{fmt.Sprintf("%d/3", i)}, rep.Shards)
		require.NotEmpty(t, rep.Cases, "three shards of nine cases each get three")
		for _, c := range rep.Cases {
			require.False(t, seen[c.ID()], "%s in two shards", c.ID())
			seen[c.ID()] = true
		}
		files = append(files, filepath.Join(dir, "leakgate.json"))
	}

	merged := t.TempDir()
	r = leakgate(t, append([]string{"report", "--report-dir", merged}, files...)...)
	require.Equal(t, ExitLeak, r.code, "the merged verdict is the unsharded run's\n%s", r)
	rep := readReport(t, merged)
	require.Equal(t, want, verdicts(rep))
	require.Equal(t, []string{"1/3", "2/3", "3/3"}, rep.Shards)
	for _, name := range []string{"leakgate.txt", "leakgate.junit.xml", "leakgate.html"} {
		require.FileExists(t, filepath.Join(merged, name))
	}

	dup := leakgate(t, "report", files[0], files[0])
	require.Equal(t, ExitUsage, dup.code, dup)
}

func TestListAndVersion(t *testing.T) {
	r := leakgate(t, "list")
	require.Equal(t, ExitPass, r.code, r)
	for _, name := range []string{"cmd/analyze", "export/in-process", "export/process", "provider/yahoo", "test/clean"} {
		require.Regexp(t, regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(name)+`\s`), r.stdout)
	}
	r = leakgate(t, "list", "--json")
	require.Equal(t, ExitPass, r.code, r)
	var rows []struct {
		Name  string   `json:"name"`
		Modes []string `json:"modes"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rows))
	require.NotEmpty(t, rows)

	r = leakgate(t, "version")
	require.Equal(t, ExitPass, r.code, r)
	require.Contains(t, r.stdout, "leakgate dev (report schema leakgate.report/v1)")
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
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

// TestSandboxServesUntilInterrupted starts leakgate sandbox, fetches a
// chart from its Yahoo route, and stops it.
func TestSandboxServesUntilInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"sandbox", "--addr", "127.0.0.1:0", "--date", "2016-03-01"}, strings.NewReader(""), &out, io.Discard)
	}()
	re := regexp.MustCompile(`sandbox on (http://127\.0\.0\.1:\d+)`)
	var url string
	require.Eventually(t, func() bool {
		m := re.FindStringSubmatch(out.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, 10*time.Second, 10*time.Millisecond)

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(url + "/yahoo/v8/finance/chart/AAPL?range=5d&interval=1d")
	require.NoError(t, err)
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	require.Contains(t, string(body), `"symbol":"AAPL"`)

	cancel()
	select {
	case code := <-done:
		require.Equal(t, ExitPass, code)
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox did not stop")
	}
}
