package suite_test

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/scenarios"
	"github.com/leakgate/leakgate/scenarios/suite"
)

func names(scs []scenarios.Scenario) []string {
	out := make([]string, len(scs))
	for i, s := range scs {
		out[i] = s.Name
	}
	return out
}

type builtinTest struct {
	give           string
	wantModes      []scenarios.Mode
	wantIterations int
	wantSettle     time.Duration
}

func TestBuiltin(t *testing.T) {
	require.Equal(t, []string{"ci", "soak"}, scenarios.BuiltinSuiteNames())
	tests := []builtinTest{
		{give: "ci", wantModes: []scenarios.Mode{scenarios.Mock, scenarios.Live}, wantIterations: 50, wantSettle: 2 * time.Second},
		{give: "soak", wantModes: []scenarios.Mode{scenarios.Live}, wantIterations: 100, wantSettle: 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			s, err := suite.Builtin(tt.give)
			require.NoError(t, err)
			require.Equal(t, tt.give, s.Name)
			require.Equal(t, tt.give+".yaml", s.File)
			require.Equal(t, tt.wantModes, s.Modes)
			require.Equal(t, tt.wantIterations, s.Iterations)
			require.Equal(t, tt.wantSettle, s.SettleTimeout)
			require.Empty(t, s.Thresholds, "the harness's defaults")
			require.Len(t, s.HarnessOptions(), 3)
		})
	}
}

// TestBuiltinResolves resolves the built-in suites against the registry
// as it is: every registered scenario is in ci.
func TestBuiltinResolves(t *testing.T) {
	if len(scenarios.All()) == 0 {
		t.Skip("no scenario is registered yet: the built-in suites' patterns match nothing")
	}
	for _, name := range scenarios.BuiltinSuiteNames() {
		t.Run(name, func(t *testing.T) {
			s, err := suite.Builtin(name)
			require.NoError(t, err)
			scs, err := s.Scenarios()
			require.NoError(t, err)
			require.NotEmpty(t, scs)
			if name == "ci" {
				require.Equal(t, names(scenarios.All()), names(scs))
			}
		})
	}
}

func TestBuiltinUnknown(t *testing.T) {
	_, err := suite.Builtin("nightly")
	var se *suite.Error
	require.ErrorAs(t, err, &se)
	require.EqualError(t, err, `nightly: no built-in suite "nightly" (want ci or soak)`)
}

func TestLoad(t *testing.T) {
	s, err := suite.Load(filepath.Join("testdata", "full.yaml"))
	require.NoError(t, err)
	require.Equal(t, "full", s.Name)
	require.Equal(t, "every field", s.Description)
	require.Equal(t, []string{"svc/*", "!svc/skip"}, s.Patterns)
	require.Equal(t, []scenarios.Mode{scenarios.Live}, s.Modes)
	require.Equal(t, 20, s.Iterations)
	require.Equal(t, 2, s.Warmup)
	require.Equal(t, time.Minute, s.Duration)
	require.Equal(t, 500*time.Millisecond, s.SettleTimeout)
	require.Equal(t, 3*time.Minute, s.Timeout)
	require.Equal(t, map[string][]string{
		"goroutines":   {"delta<=0"},
		"heap":         {"slope<8KiB", "final<=baseline+10MiB"},
		"open_clients": {},
	}, s.Thresholds)

	require.Len(t, s.Declared, 3)
	d := s.Declared[0]
	require.Equal(t, "svc/orders", d.Name)
	require.Equal(t, &suite.Spawn{
		Command:     []string{"./bin/svc", "--port", "0"},
		Env:         map[string]string{"LOG_LEVEL": "warn", "DEBUG": "true"},
		Dir:         "svcdir",
		StopTimeout: 3 * time.Second,
	}, d.Spawn)
	require.Equal(t, suite.Ready{Log: `listening on (http://\S+)`, Timeout: 20 * time.Second}, d.Ready)
	require.Equal(t, "{base}/metrics", d.MetricsURL)
	require.Equal(t, "{base}/debug/pprof/", d.PprofURL)
	require.Equal(t, suite.Iteration{Timeout: 3 * time.Second, Requests: []suite.Request{
		{Method: "POST", URL: "{base}/api/orders", Body: `{"x":1}`, Headers: map[string]string{"Authorization": "Bearer x"}, Expect: 201},
		{Method: "GET", URL: "{base}/api/orders/1"},
	}}, d.Iteration)
	require.Equal(t, map[string][]string{"fds": {"delta<=1"}}, d.Thresholds)

	d = s.Declared[1]
	require.Equal(t, "run/svc.pid", d.PIDFile)
	require.Equal(t, suite.Ready{URL: "http://localhost:8080/healthz", Timeout: suite.DefaultReadyTimeout}, d.Ready)
	require.Equal(t, []string{"curl", "-sf", "{base}/healthz"}, d.Iteration.Command)
	require.Equal(t, suite.DefaultRequestTimeout, d.Iteration.Timeout)

	d = s.Declared[2]
	require.Equal(t, 4242, d.PID)
	require.True(t, d.AllowRemote)

	scs, err := s.Scenarios()
	require.NoError(t, err)
	require.Equal(t, []string{"svc/orders", "svc/remote"}, names(scs), "svc/skip is excluded")
	require.Equal(t, []scenarios.Mode{scenarios.Live}, scs[0].Modes)
	require.Equal(t, "create an order", scs[0].Description)
	require.Equal(t, "declared: pid 4242, 1 request(s) per iteration", scs[1].Description)
}

// withRegistered returns names and those of the registered scenarios that
// do not end in "/one", sorted.
func withRegistered(declared ...string) []string {
	out := slices.Clone(declared)
	for _, sc := range scenarios.All() {
		if !strings.HasSuffix(sc.Name, "/one") {
			out = append(out, sc.Name)
		}
	}
	slices.Sort(out)
	return out
}

type resolveTest struct {
	name     string
	patterns string
	want     []string
}

// TestScenariosDeclared resolves patterns against declared scenarios,
// which needs no registered one.
func TestScenariosDeclared(t *testing.T) {
	const declared = `
declared:
  - {name: a/one, pid: 1, iteration: {command: ["true"]}}
  - {name: a/two, pid: 1, iteration: {command: ["true"]}}
  - {name: b/one, pid: 1, iteration: {command: ["true"]}}
`
	tests := []resolveTest{
		{name: "no patterns: every declared one", patterns: "", want: []string{"a/one", "a/two", "b/one"}},
		{name: "star", patterns: `scenarios: ["*"]`, want: withRegistered("a/one", "a/two", "b/one")},
		{name: "glob", patterns: `scenarios: ["a/*"]`, want: []string{"a/one", "a/two"}},
		{name: "exclusions only", patterns: `scenarios: ["!a/*"]`, want: withRegistered("b/one")},
		{name: "include and exclude", patterns: `scenarios: ["*/*", "!*/one"]`, want: withRegistered("a/two")},
		{name: "exact", patterns: `scenarios: b/one`, want: []string{"b/one"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := suite.Parse("s.yaml", []byte(tt.patterns+declared))
			require.NoError(t, err)
			scs, err := s.Scenarios()
			require.NoError(t, err)
			require.Equal(t, tt.want, names(scs))
		})
	}
}

type badTest struct {
	name  string
	give  string
	line  int
	field string
	msg   string // the rest of the message, or its start
}

// load parses a suite and resolves its scenarios.
func load(data string) error {
	s, err := suite.Parse("bad.yaml", []byte(data))
	if err != nil {
		return err
	}
	_, err = s.Scenarios()
	return err
}

func TestMalformed(t *testing.T) {
	const head = "name: bad\n"
	const decl = head + "declared:\n  - name: svc/a\n"
	tests := []badTest{
		{name: "unknown field", give: head + "scenarios: ['*']\niteratons: 5\n", line: 3, field: "iteratons",
			msg: "unknown field (known: name, description, scenarios, modes, iterations, warmup, duration, settle_timeout, timeout, thresholds, declared)"},
		{name: "unknown nested field", give: decl + "    pid: 1\n    iteration: {comand: [x]}\n", line: 5, field: "declared[0].iteration.comand",
			msg: "unknown field (known: timeout, command, requests)"},
		{name: "field twice", give: head + "warmup: 1\nwarmup: 2\n", line: 3, field: "warmup", msg: "field given twice"},
		{name: "wrong type", give: head + "iterations: fifty\n", line: 2, field: "iterations", msg: `want an integer, got the string "fifty"`},
		{name: "quoted number", give: head + "iterations: \"50\"\n", line: 2, field: "iterations", msg: `want an integer, got the string "50"`},
		{name: "mapping for a list", give: head + "scenarios: {a: b}\n", line: 2, field: "scenarios", msg: "want a string or a list of strings, got a mapping"},
		{name: "bad threshold", give: head + "thresholds:\n  heap: [slope<8KiB, slope<<2]\n", line: 3, field: "thresholds.heap", msg: "harness: threshold"},
		{name: "bytes on a count", give: head + "thresholds:\n  goroutines: delta<1MiB\n", line: 3, field: "thresholds.goroutines", msg: "harness: threshold"},
		{name: "bad metric", give: head + "thresholds:\n  Goroutines: delta<=0\n", line: 3, field: "thresholds.Goroutines", msg: "unknown metric"},
		{name: "bad duration", give: head + "settle_timeout: 2\n", line: 2, field: "settle_timeout", msg: "want a duration such as 2s or 10m, got an integer"},
		{name: "duration without unit", give: head + "duration: '10'\n", line: 2, field: "duration", msg: `want a duration such as 2s or 10m: time: missing unit in duration "10"`},
		{name: "negative duration", give: head + "timeout: -1s\n", line: 2, field: "timeout", msg: "must be positive, got -1s"},
		{name: "timeout within duration", give: head + "scenarios: x\nduration: 10m\ntimeout: 5m\n", line: 4, field: "timeout", msg: "5m0s must be longer than duration 10m0s"},
		{name: "iterations 1", give: head + "iterations: 1\n", line: 2, field: "iterations", msg: "must be at least 2, got 1"},
		{name: "negative warmup", give: head + "warmup: -1\n", line: 2, field: "warmup", msg: "must not be negative, got -1"},
		{name: "bad mode", give: head + "modes: [mock, dead]\n", line: 2, field: "modes", msg: `"dead": want mock, live or both`},
		{name: "bad glob", give: head + "scenarios: ['cmd/[']\n", line: 2, field: "scenarios[0]", msg: `pattern "cmd/[": syntax error in pattern`},
		{name: "nothing selected", give: head + "iterations: 5\n", line: 1, field: "scenarios", msg: "missing: the suite selects no scenarios and declares none"},
		{name: "unknown scenario pattern", give: decl + "    pid: 1\n    iteration: {command: [x]}\nscenarios: [svc/a, 'nope/*']\n", line: 6, field: "scenarios[1]",
			msg: `"nope/*" matches no scenario (see leakgate list)`},
		{name: "unknown exclusion", give: decl + "    pid: 1\n    iteration: {command: [x]}\nscenarios: ['!nope']\n", line: 6, field: "scenarios[0]",
			msg: `"!nope" matches no scenario (see leakgate list)`},
		{name: "remote URL", give: decl + "    pid: 1\n    iteration:\n      requests:\n        - url: http://example.com/x\n", line: 7, field: "declared[0].iteration.requests[0].url",
			msg: `"http://example.com/x" is not on loopback (127.0.0.0/8, ::1, localhost); set allow_remote: true to permit it`},
		{name: "remote metrics URL", give: decl + "    pid: 1\n    metrics_url: http://10.0.0.1:9090/metrics\n    iteration: {command: [x]}\n", line: 5, field: "declared[0].metrics_url",
			msg: `"http://10.0.0.1:9090/metrics" is not on loopback`},
		{name: "remote pprof URL", give: decl + "    pid: 1\n    pprof_url: http://10.0.0.1:6060/debug/pprof/\n    iteration: {command: [x]}\n", line: 5, field: "declared[0].pprof_url",
			msg: `"http://10.0.0.1:6060/debug/pprof/" is not on loopback`},
		{name: "pprof URL not a string", give: decl + "    pid: 1\n    pprof_url: [x]\n    iteration: {command: [x]}\n", line: 5, field: "declared[0].pprof_url",
			msg: "want a string"},
		{name: "not http", give: decl + "    pid: 1\n    base_url: ftp://127.0.0.1/\n    iteration: {command: [x]}\n", line: 5, field: "declared[0].base_url",
			msg: `"ftp://127.0.0.1/": want an http or https URL`},
		{name: "base without a source", give: decl + "    pid: 1\n    iteration: {requests: [{url: '{base}/x'}]}\n", line: 5, field: "declared[0].iteration.requests[0].url",
			msg: `"{base}/x" uses {base}, but there is none: set base_url, ready.url, or a ready.log regexp with a group`},
		{name: "duplicate declared name", give: decl + "    pid: 1\n    iteration: {command: [x]}\n  - name: svc/a\n    pid: 2\n    iteration: {command: [x]}\n", line: 6, field: "declared[1].name",
			msg: `"svc/a" is declared twice (first on line 3)`},
		{name: "neither spawn nor pid", give: decl + "    iteration: {command: [x]}\n", line: 3, field: "declared[0]", msg: "needs spawn, pid or pid_file: the process to measure"},
		{name: "spawn and pid", give: decl + "    pid: 1\n    spawn: {command: [x]}\n    iteration: {command: [x]}\n", line: 4, field: "declared[0].pid", msg: "give only one of spawn, pid and pid_file"},
		{name: "no iteration", give: decl + "    pid: 1\n", line: 3, field: "declared[0].iteration", msg: "missing: the requests or command of one iteration"},
		{name: "empty iteration", give: decl + "    pid: 1\n    iteration: {timeout: 1s}\n", line: 5, field: "declared[0].iteration", msg: "needs requests or a command"},
		{name: "spawn without command", give: decl + "    spawn: {dir: .}\n    iteration: {command: [x]}\n", line: 4, field: "declared[0].spawn.command", msg: "missing"},
		{name: "bad ready regexp", give: decl + "    spawn: {command: [x], ready: {log: '('}}\n    iteration: {command: [x]}\n", line: 4, field: "declared[0].spawn.ready.log", msg: "bad regexp"},
		{name: "ready log without spawn", give: decl + "    pid: 1\n    ready: {log: x}\n    iteration: {command: [x]}\n", line: 5, field: "declared[0].ready.log", msg: "unknown field (known: url, timeout)"},
		{name: "goroutines without metrics", give: decl + "    pid: 1\n    iteration: {command: [x]}\n    thresholds: {goroutines: delta<=0}\n", line: 6, field: "declared[0].thresholds.goroutines",
			msg: "measured only with metrics_url"},
		{name: "expect out of range", give: decl + "    pid: 1\n    iteration: {requests: [{url: 'http://127.0.0.1/', expect: 2000}]}\n", line: 5, field: "declared[0].iteration.requests[0].expect",
			msg: "want an HTTP status code, got 2000"},
		{name: "bad declared name", give: head + "declared:\n  - name: 'svc a'\n", line: 3, field: "declared[0].name", msg: `"svc a": use letters, digits and - _ . / only`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := load(tt.give)
			var se *suite.Error
			require.ErrorAs(t, err, &se)
			require.Equal(t, "bad.yaml", se.File)
			require.Equal(t, tt.line, se.Line, "%v", err)
			require.Equal(t, tt.field, se.Field, "%v", err)
			want := fmt.Sprintf("bad.yaml:%d: %s: %s", tt.line, tt.field, tt.msg)
			require.True(t, strings.HasPrefix(err.Error(), want), "got  %s\nwant %s…", err, want)
		})
	}
}

type syntaxTest struct {
	name string
	give string
	want string
}

func TestSyntaxErrors(t *testing.T) {
	tests := []syntaxTest{
		{name: "yaml", give: "name: x\nscenarios: [a,\n", want: "bad.yaml:2: did not find expected node content"},
		{name: "empty", give: "", want: "bad.yaml:1: empty suite"},
		{name: "not a mapping", give: "- a\n", want: "bad.yaml:1: want a mapping, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := suite.Parse("bad.yaml", []byte(tt.give))
			var se *suite.Error
			require.ErrorAs(t, err, &se)
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestDeclaredClash(t *testing.T) {
	all := scenarios.All()
	if len(all) == 0 {
		t.Skip("no scenario is registered yet")
	}
	data := "declared:\n  - name: " + all[0].Name + "\n    pid: 1\n    iteration: {command: [x]}\n"
	_, err := suite.Parse("bad.yaml", []byte(data))
	require.EqualError(t, err, fmt.Sprintf("bad.yaml:2: declared[0].name: %q is the name of a registered scenario", all[0].Name))
}

func TestLoadMissing(t *testing.T) {
	_, err := suite.Load(filepath.Join("testdata", "nope.yaml"))
	var se *suite.Error
	require.ErrorAs(t, err, &se)
	require.Zero(t, se.Line)
	require.True(t, errors.Is(err, fs.ErrNotExist), "%v", err)
}
