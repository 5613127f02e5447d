package scenarios

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/cli"
	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/providers"
)

// cmdTestOptions keep the command scenarios' tests short: a few measured
// iterations after a warm-up that replays each of cmd/analyze's four
// command lines once, so that no symbol is first analyzed while measured
// (with the race detector, the resident memory of a first analysis of a
// symbol alone can pass the rss threshold).
//
// Resident memory is judged loosely here: these tests run in one process
// with the others of the package, under the race detector in make test,
// which multiplies what a command maps (cmd/analyze's RSS has grown 38 MiB
// over five iterations there). The leak gate's workers judge RSS with the
// default threshold.
func cmdTestOptions() []harness.Option {
	return []harness.Option{harness.WithIterations(5), harness.WithWarmup(4),
		harness.WithThreshold(harness.MetricRSS, "tail<128MiB")}
}

// runCmdScenario builds sc for mode in a fresh directory and runs it under
// the harness with the scenario's options and then opts.
func runCmdScenario(t *testing.T, sc Scenario, mode Mode, opts ...harness.Option) (*harness.Result, error) {
	t.Helper()
	run, err := sc.Build(&Env{Mode: mode, Dir: t.TempDir()})
	require.NoError(t, err)
	res, err := harness.Run(t.Context(), run.Scenario, append(append([]harness.Option(nil), run.Options...), opts...)...)
	require.NotNil(t, res, "harness.Run: %v", err)
	return res, err
}

// cmdReport is a run's text report, for failure messages.
func cmdReport(t *testing.T, res *harness.Result) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, res.WriteText(&b))
	return b.String()
}

// TestCommandScenariosCoverEveryCommand proves every ffe command has a
// success scenario and at least one error scenario, in both modes.
func TestCommandScenariosCoverEveryCommand(t *testing.T) {
	commands := []string{"analyze", "history", "balance", "execute", "run-agent", "learning-report",
		"prune-memory", "backtest", "portfolio-backtest", "walk-forward", "monte-carlo"}
	for _, c := range commands {
		t.Run(c, func(t *testing.T) {
			sc, ok := Lookup("cmd/" + c)
			require.True(t, ok, "cmd/%s is registered", c)
			require.Equal(t, AllModes, sc.Modes)
			require.NotEmpty(t, sc.Description)
			errs, err := Match("cmd/" + c + "/*")
			require.NoError(t, err, "cmd/%s has an error scenario", c)
			for _, e := range errs {
				require.Equal(t, AllModes, e.Modes, e.Name)
				require.NotEmpty(t, e.Description, e.Name)
			}
		})
	}
	all, err := Match("cmd/*", "cmd/*/*")
	require.NoError(t, err)
	require.Len(t, all, len(cmdSpecs()))
}

// TestCommandScenarios runs every cmd/* scenario under the harness in
// both modes: each command line exits as expected, makes no request that
// no mock answers, and leaks nothing.
func TestCommandScenarios(t *testing.T) {
	scs, err := Match("cmd/*", "cmd/*/*")
	require.NoError(t, err)
	for _, sc := range scs {
		for _, mode := range sc.Modes {
			t.Run(sc.Name+"/"+string(mode), func(t *testing.T) {
				res, err := runCmdScenario(t, sc, mode, cmdTestOptions()...)
				require.NoError(t, err, cmdReport(t, res))
				require.True(t, res.Passed(), cmdReport(t, res))
				require.Equal(t, 5, res.Iterations.Completed)
				t.Logf("%s %s: iteration p50 %.1fms, p95 %.1fms", sc.Name, mode,
					1e3*res.Timing.P50Seconds, 1e3*res.Timing.P95Seconds)
			})
		}
	}
}

// cmdSpecNamed returns the spec of cmd/name.
func cmdSpecNamed(t *testing.T, name string) cmdSpec {
	t.Helper()
	for _, c := range cmdSpecs() {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no command scenario %q", name)
	return cmdSpec{}
}

// TestCommandScenarioWrongExpectation proves a command scenario whose
// expectation does not hold is a scenario error, not a pass or a leak,
// and that the error names the command line and quotes its stderr.
func TestCommandScenarioWrongExpectation(t *testing.T) {
	tests := []struct {
		name   string
		spec   string
		change func(*cmdSpec)
		want   []string
	}{
		{name: "exit 2, want 0", spec: "analyze/unknown-symbol", change: func(c *cmdSpec) { c.code = cli.ExitOK },
			want: []string{"ffe analyze MSFT: exit 2, want 0", "no market data for MSFT"}},
		{name: "exit 1, want 2", spec: "backtest/bad-csv", change: func(c *cmdSpec) { c.code = cli.ExitUsage },
			want: []string{"aapl_bad_zero.csv: exit 1, want 2", "failed validation"}},
		{name: "exit 0, want 1", spec: "backtest", change: func(c *cmdSpec) { c.code = cli.ExitFailure },
			want: []string{"ffe backtest AAPL --from 2016-01-01 --to 2017-12-31: exit 0, want 1", "stderr: (empty)"}},
		{name: "another failure", spec: "analyze/provider-5xx", change: func(c *cmdSpec) { c.stderr = "rate limited" },
			want: []string{"ffe analyze AAPL: exit 1 as wanted, but stderr lacks \"rate limited\"", "upstream error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cmdSpecNamed(t, tt.spec)
			tt.change(&c)
			res, err := runCmdScenario(t, c.scenario(), Mock, cmdTestOptions()...)
			require.ErrorIs(t, err, harness.ErrScenario)
			require.Equal(t, harness.StatusError, res.Status)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestCommandScenarioUnmocked proves a request that no mock answers
// fails a command scenario in mock mode with its method and URL, even
// though the command's exit code is the one expected.
func TestCommandScenarioUnmocked(t *testing.T) {
	c := cmdSpec{name: "analyze/unmocked", lines: [][]string{{"analyze", "AAPL"}}, code: cli.ExitFailure,
		env: map[string]string{"FFE_ROUTING_EQUITY": "yahoo", "FFE_PROVIDERS_YAHOO_BASE_URL": MockURL + "/nowhere"}}
	res, err := runCmdScenario(t, c.scenario(), Mock, cmdTestOptions()...)
	require.ErrorIs(t, err, harness.ErrScenario)
	require.ErrorIs(t, err, ErrUnmocked)
	require.Equal(t, harness.StatusError, res.Status)
	require.Contains(t, err.Error(), "ffe analyze AAPL: ")
	require.Contains(t, err.Error(), "GET "+MockURL+"/nowhere/")
}

// TestCommandScenarioLeaks proves a leak added to a command scenario's
// iteration fails the run with status leak on the metric that measures
// it.
func TestCommandScenarioLeaks(t *testing.T) {
	discard := slog.New(slog.DiscardHandler)
	newClient := func(s *cmdSession) (*providers.Client, error) {
		return providers.NewClient("leaky", s.market.URL()+"/yahoo", nil, nil,
			providers.WithTransport(s.market.Transport()), providers.WithLogger(discard))
	}
	tests := []struct {
		name   string
		metric string
		leak   func(t *testing.T) func(s *cmdSession) error
	}{
		{name: "client dropped without Close", metric: harness.MetricUnclosed,
			leak: func(*testing.T) func(s *cmdSession) error {
				return func(s *cmdSession) error {
					_, err := newClient(s)
					return err
				}
			}},
		{name: "client kept open", metric: "open_clients",
			leak: func(t *testing.T) func(s *cmdSession) error {
				var kept []*providers.Client
				t.Cleanup(func() {
					for _, c := range kept {
						require.NoError(t, c.Close())
					}
				})
				return func(s *cmdSession) error {
					c, err := newClient(s)
					kept = append(kept, c)
					return err
				}
			}},
		{name: "goroutine that waits for the end of the test", metric: harness.MetricGoroutines,
			leak: func(t *testing.T) func(s *cmdSession) error {
				var wg sync.WaitGroup
				stop := make(chan struct{})
				t.Cleanup(func() { close(stop); wg.Wait() })
				return func(*cmdSession) error {
					wg.Go(func() { <-stop })
					return nil
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak := tt.leak(t)
			c := cmdSpecNamed(t, "backtest")
			c.name = "backtest/leaky"
			c.iterate = func(ctx context.Context, s *cmdSession, i int) error {
				if err := s.expect(ctx, cli.ExitOK, "", s.lines[i%len(s.lines)]...); err != nil {
					return err
				}
				return leak(s)
			}
			res, err := runCmdScenario(t, c.scenario(), Mock,
				append(cmdTestOptions(), harness.WithSettleTimeout(200*time.Millisecond))...)
			require.NoError(t, err, cmdReport(t, res))
			require.Equal(t, harness.StatusLeak, res.Status, cmdReport(t, res))
			m, ok := res.Metric(tt.metric)
			require.True(t, ok, tt.metric)
			require.Equal(t, harness.VerdictFail, m.Verdict, cmdReport(t, res))
			require.GreaterOrEqual(t, m.Delta, 4.0, cmdReport(t, res))
		})
	}
}

// TestCommandScenarioRunsTwice proves a built command scenario can be run
// again in the same directory: cmd/execute's first decision is a BUY
// again, because Setup starts from an empty data directory.
func TestCommandScenarioRunsTwice(t *testing.T) {
	sc, ok := Lookup("cmd/execute")
	require.True(t, ok)
	run, err := sc.Build(&Env{Mode: Mock, Dir: t.TempDir()})
	require.NoError(t, err)
	for range 2 {
		res, err := harness.Run(t.Context(), run.Scenario,
			append(append([]harness.Option(nil), run.Options...), harness.WithIterations(3), harness.WithWarmup(1))...)
		require.NoError(t, err)
		require.True(t, res.Passed(), cmdReport(t, res))
	}
}
