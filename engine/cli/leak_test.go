package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/providers"
)

// Iteration counts of every command's leak check. Each command runs
// leakWarmup+leakIterations times per data mode; the harness's baseline is
// taken after the warm-up, when the state built once per process (the
// sandbox's parsed dataset, SQLite's and net/http's lazy tables) exists.
const (
	leakWarmup     = 3
	leakIterations = 15
	// leakThreads is more OS threads than a command blocks in system
	// calls at once, started before the checks so that the runtime's
	// thread pool does not grow by a step inside one.
	leakThreads = 16
)

// Sandbox dates of the trading commands: with no position, analyze
// BTC-USD decides BUY as of buyDate; holding it, SELL as of sellDate.
const (
	buyDate  = "2016-03-01"
	sellDate = "2018-01-20"
)

// expect runs one command line with ctx and returns its standard output,
// or an error when the exit code is not code.
func (f *ffe) expect(ctx context.Context, code int, args ...string) (string, error) {
	r := f.runCtx(ctx, args...)
	if r.code != code {
		return "", fmt.Errorf("ffe %s: want exit %d\n%s", strings.Join(args, " "), code, r)
	}
	return r.stdout, nil
}

// leakCommand is one command whose leak check runs iterate repeatedly.
type leakCommand struct {
	name    string
	iterate func(ctx context.Context, f *ffe, i int) error
}

// line is a leakCommand that runs one command line, which must exit with
// code, as of buyDate.
func line(name string, code int, args ...string) leakCommand {
	return leakCommand{name: name, iterate: func(ctx context.Context, f *ffe, _ int) error {
		f.setDate(buyDate)
		_, err := f.expect(ctx, code, args...)
		return err
	}}
}

// leakCommands are every command on its success path and on its error
// paths (usage errors, bad data, an interrupted command), in the order
// the checks run; they share one data directory, so the trades of execute
// are in the history, balance and learning report of the later ones.
func leakCommands() []leakCommand {
	return []leakCommand{
		line("config-show", ExitOK, "config", "show"),
		{name: "execute", iterate: func(ctx context.Context, f *ffe, i int) error {
			// Even iterations buy bitcoin in March 2016, odd ones sell it
			// in January 2018: executions open and close trades, fill
			// the memory and update the weights.
			date := buyDate
			if i%2 == 1 {
				date = sellDate
			}
			f.setDate(date)
			out, err := f.expect(ctx, ExitOK, "analyze", "BTC-USD", "--json")
			if err != nil {
				return err
			}
			var an analysisDoc
			if err := json.Unmarshal([]byte(out), &an); err != nil {
				return fmt.Errorf("analyze BTC-USD --json: %w", err)
			}
			if an.Decision.Action == "HOLD" {
				_, err := f.expect(ctx, ExitFailure, "execute", an.Decision.ID)
				return err
			}
			if _, err := f.expect(ctx, ExitOK, "execute", an.Decision.ID); err != nil {
				return err
			}
			_, err = f.expect(ctx, ExitFailure, "execute", an.Decision.ID) // a decision executes once
			return err
		}},
		line("analyze", ExitOK, "analyze", "SPY"),
		line("history", ExitOK, "history", "--limit", "5"),
		line("balance", ExitOK, "balance"),
		line("run-agent", ExitOK, "run-agent", "--watchlist", "SPY,EUR_USD", "--max-cycles", "1", "--interval", "1ms"),
		line("learning-report", ExitOK, "learning-report"),
		line("prune-memory", ExitOK, "prune-memory", "--keep", "5"),
		line("backtest", ExitOK, "backtest", "AAPL"),
		line("backtest-csv", ExitOK, "backtest", "AAPL", "--csv", "testdata/aapl_2016_2017.csv", "--strategy", "sma-cross"),
		line("portfolio-backtest", ExitOK, "portfolio-backtest", "--symbols", "AAPL,SPY", "--rebalance", "21"),
		line("walk-forward", ExitOK, "walk-forward", "SPY", "--fast", "10", "--slow", "50", "--train", "126", "--test", "63"),
		line("monte-carlo", ExitOK, "monte-carlo", "AAPL", "--sims", "200", "--seed", "1"),
		line("analyze-unknown-symbol", ExitUsage, "analyze", "MSFT"),
		line("execute-unknown-id", ExitUsage, "execute", "aaaaaaaaaaaa"),
		line("unknown-command", ExitUsage, "bogus"),
		line("backtest-bad-csv", ExitFailure, "backtest", "AAPL", "--csv", "testdata/aapl_bad_zero.csv"),
		{name: "analyze-interrupted", iterate: func(ctx context.Context, f *ffe, _ int) error {
			f.setDate(buyDate)
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			r := f.runCtx(cctx, "analyze", "AAPL")
			if r.code != ExitFailure {
				return errors.New("ffe analyze AAPL, interrupted: want exit 1\n" + r.String())
			}
			return nil
		}},
	}
}

// checkCommand runs the harness's leak check of command c on f and
// reports to t. Besides the harness's defaults (goroutines, descriptors,
// TCP connections and threads back to their baseline, no heap growth),
// the providers' unclosed-client counter must not grow and their open
// clients must be back to the baseline: every command's engine closed
// every client it made.
func checkCommand(t harness.TestingT, f *ffe, c leakCommand) *harness.Result {
	t.Helper()
	return harness.Check(t, harness.Scenario{
		Name: "ffe " + c.name + " (" + f.mode + ")",
		Run:  func(ctx context.Context, i int) error { return c.iterate(ctx, f, i) },
	},
		harness.WithWarmup(leakWarmup),
		harness.WithIterations(leakIterations),
		harness.WithProbes(
			harness.Unclosed(providers.Unclosed),
			openClientsProbe(),
		),
		harness.WithThreshold(openClientsMetric, "delta<=0"),
		// Resident memory is reported, not judged: the harness stops the
		// automatic collection from the last iteration to the final
		// count, so a command that allocates tens of MiB (analyze,
		// portfolio-backtest) ends 10 to 25 MiB above the baseline
		// without leaking. Go memory is judged by the heap metric.
		harness.WithThreshold(harness.MetricRSS),
	)
}

// TestCommandsDoNotLeak runs every command repeatedly in one process, in
// every data mode, each under its own leak check (a subtest named after
// the mode and the command), and proves that goroutines, descriptors,
// connections, threads and the providers' open and unclosed client counts
// return to their baseline: every command's engine released everything it
// opened.
func TestCommandsDoNotLeak(t *testing.T) {
	modes := []string{modeSandbox, modeLoopback, modeHTTPMock}
	if testing.Short() {
		modes = modes[:1]
	}
	harness.PrewarmThreads(leakThreads)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			f := newFFE(t, mode)
			for _, c := range leakCommands() {
				t.Run(c.name, func(t *testing.T) {
					f.t = t
					if res := checkCommand(t, f, c); res != nil {
						t.Logf("%d+%d iterations in %.2fs: p50 %.1fms, harness %.2fs, settled in %.2fs",
							res.Iterations.Warmup, res.Iterations.Completed, res.DurationSeconds,
							res.Timing.P50Seconds*1e3, res.Timing.HarnessSeconds, res.Timing.SettleSeconds)
					}
				})
			}
		})
	}
}
