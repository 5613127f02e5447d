package scenarios

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/providers"
	prov "github.com/leakgate/leakgate/providers/registry"
	"github.com/leakgate/leakgate/providers/sandbox"
)

// shortRun are the options of the tests' runs: few iterations, so that
// the package's tests stay quick.
var shortRun = []harness.Option{harness.WithIterations(5), harness.WithWarmup(2)}

// shortHeap is the heap threshold of the tests' short runs. Over five
// iterations the heap's slope is mostly the jitter of pooled buffers
// (sync.Pool keeps them for one more collection), up to tens of KiB; the
// default slope<8KiB is meant for the ci suite's 55 iterations, where the
// same scenarios pass it.
var shortHeap = harness.WithThreshold(harness.MetricHeap, "slope<256KiB")

// runRegistered builds the registered scenario name for mode and runs it
// under the harness with shortRun; it fails the test, with the report,
// unless the run passes.
func runRegistered(t *testing.T, name string, mode Mode) *harness.Result {
	t.Helper()
	s, ok := Lookup(name)
	require.True(t, ok, "scenario %s is not registered", name)
	require.True(t, s.Applies(mode), "%s does not apply to %s", name, mode)
	run, err := s.Build(&Env{Mode: mode, Dir: t.TempDir()})
	require.NoError(t, err)
	res, err := harness.Run(t.Context(), run.Scenario, append(append(run.Options, shortRun...), shortHeap)...)
	requirePassed(t, res, err)
	t.Logf("%s %s: iteration p50 %.2fms p95 %.2fms, run %.0fms",
		name, mode, res.Timing.P50Seconds*1e3, res.Timing.P95Seconds*1e3, res.DurationSeconds*1e3)
	return res
}

func requirePassed(t *testing.T, res *harness.Result, err error) {
	t.Helper()
	require.NotNil(t, res, "%v", err)
	if err != nil || !res.Passed() {
		var b bytes.Buffer
		require.NoError(t, res.WriteText(&b))
		t.Fatalf("run did not pass: %v\n%s", err, b.String())
	}
}

// runLeaky runs a leaky twin of a scenario and requires that it fails on
// one of metrics, and passes every other.
func runLeaky(t *testing.T, sc harness.Scenario, opts []harness.Option, metrics ...string) {
	t.Helper()
	opts = append(append(opts, shortRun...), harness.WithSettleTimeout(100*time.Millisecond))
	res, err := harness.Run(t.Context(), sc, opts...)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, res.WriteText(&b))
	require.Equal(t, harness.StatusLeak, res.Status, b.String())
	failed := false
	for _, name := range metrics {
		m, ok := res.Metric(name)
		require.True(t, ok, "no metric %s", name)
		failed = failed || m.Verdict == harness.VerdictFail
	}
	require.True(t, failed, "want a failure on %s:\n%s", strings.Join(metrics, " or "), b.String())
	t.Logf("leaky twin caught:\n%s", b.String())
}

func TestProviderScenarios(t *testing.T) {
	names := []string{"provider/unified", "reddit/scan", "reddit/scan-fails-midway"}
	for _, p := range sandboxProviders {
		names = append(names, "provider/"+p.name)
	}
	for _, mode := range AllModes {
		for _, name := range names {
			t.Run(name+"/"+string(mode), func(t *testing.T) { runRegistered(t, name, mode) })
		}
	}
}

func TestProviderScenariosRegistered(t *testing.T) {
	for _, name := range []string{
		"provider/alphavantage", "provider/coinbase", "provider/oanda", "provider/polygon", "provider/finnhub",
		"provider/yahoo", "provider/reddit", "provider/llm", "provider/unified", "reddit/scan", "reddit/scan-fails-midway",
		"real/alphavantage", "real/polygon", "real/finnhub", "real/coinbase", "real/oanda", "real/reddit", "real/llm",
	} {
		s, ok := Lookup(name)
		require.True(t, ok, name)
		require.NotEmpty(t, s.Description, name)
	}
}

// Without keys every real/* scenario is skipped, and says which variables
// to set.
func TestProviderRealScenariosSkipWithoutKeys(t *testing.T) {
	real, err := Match("real/*")
	require.NoError(t, err)
	require.NotEmpty(t, real)
	for _, s := range real {
		require.Equal(t, []Mode{Live}, s.Modes, s.Name)
		for _, env := range []*Env{
			{Mode: Live, Dir: t.TempDir()},
			{Mode: Live, Dir: t.TempDir(), LookupEnv: func(string) (string, bool) { return "", false }},
		} {
			run, err := s.Build(env)
			require.ErrorIs(t, err, ErrSkipped, s.Name)
			require.Nil(t, run)
			require.Contains(t, err.Error(), "FFE_", s.Name)
		}
	}
	s, _ := Lookup("real/oanda")
	_, err = s.Build(&Env{Mode: Live, LookupEnv: lookup(map[string]string{"FFE_OANDA_TOKEN": "x"})}) // no account id
	require.ErrorIs(t, err, ErrSkipped)
	require.Contains(t, err.Error(), "FFE_PROVIDERS_OANDA_ACCOUNT_ID")
}

// lookup reads an environment from vars.
func lookup(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// With a key a real/* scenario builds; it is not run: it would reach the
// internet.
func TestProviderRealScenarioBuildsWithKey(t *testing.T) {
	s, _ := Lookup("real/finnhub")
	run, err := s.Build(&Env{Mode: Live, LookupEnv: lookup(map[string]string{"FFE_FINNHUB_API_KEY": "key"})})
	require.NoError(t, err)
	require.NotNil(t, run.Scenario.Run)
}

// The seed of reddit/scan-fails-midway breaks the scan after its first
// page in both modes, and an unexpected success is a scenario error.
func TestProviderMidwayFaults(t *testing.T) {
	seed, err := midwaySeed()
	require.NoError(t, err)
	for _, mode := range AllModes {
		t.Run(string(mode), func(t *testing.T) {
			m, err := OpenMarket(mode)
			require.NoError(t, err)
			defer m.Close()
			require.NoError(t, scanFailsMidway(t.Context(), m, seed, scanOnce))
			require.Equal(t, sandbox.Faults{}, m.Sandbox().Faults(), "the faults are off afterwards")

			n, err := scanOnce(t.Context(), m)
			require.NoError(t, err, "without faults the scan succeeds")
			require.Greater(t, n, 100, "the first subreddit spans two pages")

			ok := func(context.Context, *Market) (int, error) { return 1, nil }
			require.ErrorContains(t, scanFailsMidway(t.Context(), m, seed, ok), "succeeded")
			other := func(context.Context, *Market) (int, error) { return 0, providers.ErrRateLimited }
			require.ErrorContains(t, scanFailsMidway(t.Context(), m, seed, other), "want a decode error")
			require.NoError(t, m.Err())
		})
	}
}

// leakedClients keeps the clients a leaky twin did not close, and closes
// them at teardown so that the test itself leaks nothing.
type leakedClients struct {
	mu sync.Mutex
	cs []closer
}

func (l *leakedClients) add(c closer) {
	l.mu.Lock()
	l.cs = append(l.cs, c)
	l.mu.Unlock()
}

func (l *leakedClients) closeAll(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for _, c := range l.cs {
		errs = append(errs, c.Close())
	}
	l.cs = nil
	return errors.Join(errs...)
}

// A provider iteration that does not Close its client fails on
// open_clients (or unclosed, had the client been collected).
func TestProviderLeakyTwinSkipsClose(t *testing.T) {
	for _, mode := range AllModes {
		t.Run(string(mode), func(t *testing.T) {
			leaked := &leakedClients{}
			env := &Env{Mode: mode, Dir: t.TempDir()}
			sc := marketScenario(env, "provider/finnhub-without-close", nil, nil, leaked.closeAll,
				func(ctx context.Context, m *Market, _ int) error {
					c, err := openSandbox(m, prov.Finnhub)
					if err != nil {
						return err
					}
					leaked.add(c) // no Close
					return quoteOf(ctx, c.MarketData, "AAPL")
				})
			runLeaky(t, sc, clientProbes(), "open_clients", harness.MetricUnclosed)
		})
	}
}

// BUG-040's scanner: a scan that closes its client only when it succeeds
// leaks one client per failed scan.
func TestProviderLeakyTwinScanClosesOnlyOnSuccess(t *testing.T) {
	seed, err := midwaySeed()
	require.NoError(t, err)
	for _, mode := range AllModes {
		t.Run(string(mode), func(t *testing.T) {
			leaked := &leakedClients{}
			leakyScan := func(ctx context.Context, m *Market) (int, error) {
				c, err := newRedditClient(m)
				if err != nil {
					return 0, err
				}
				_, n, err := redditScan(ctx, c.Posts, scanSubreddits, scanSymbol, scanLimit)
				if err != nil {
					leaked.add(c) // the error path forgets Close
					return 0, err
				}
				return n, c.Close()
			}
			env := &Env{Mode: mode, Dir: t.TempDir()}
			sc := marketScenario(env, "reddit/scan-fails-midway-without-close", nil, nil, leaked.closeAll,
				func(ctx context.Context, m *Market, _ int) error { return scanFailsMidway(ctx, m, seed, leakyScan) })
			runLeaky(t, sc, clientProbes(), "open_clients", harness.MetricUnclosed)
		})
	}
}
