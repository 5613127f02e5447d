package cli

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
)

// Iterations is how many times TestCommandsDoNotLeak runs every command.
const leakIterations = 20

// resources is what a command may leak.
type resources struct {
	goroutines int
	fds        int // -1 where /proc/self/fd is unavailable
	unclosed   int64
	open       int64
}

func (r resources) String() string {
	return fmt.Sprintf("goroutines %d, fds %d, unclosed clients %d, open clients %d", r.goroutines, r.fds, r.unclosed, r.open)
}

func measure() resources {
	// Collect twice: the first cycle runs the cleanups of clients dropped
	// without Close, which is what the unclosed counter counts.
	runtime.GC()
	runtime.GC()
	r := resources{goroutines: runtime.NumGoroutine(), fds: -1,
		unclosed: providers.Unclosed(), open: providers.OpenClients()}
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		r.fds = len(ents)
	}
	return r
}

// settle waits, polling, until the resources are back at base or the
// deadline passes, and returns the last reading.
func settle(base resources, deadline time.Duration) resources {
	end := time.Now().Add(deadline)
	for {
		r := measure()
		if r.goroutines <= base.goroutines && r.fds <= base.fds && r.unclosed == base.unclosed && r.open == base.open {
			return r
		}
		if time.Now().After(end) {
			return r
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// commandRound runs every command once, on their success and error paths,
// and checks each exit code. Odd rounds buy bitcoin in March 2016, even
// rounds sell it in January 2018, so executions open and close trades,
// fill the memory and update the weights.
func commandRound(t *testing.T, f *ffe, i int) {
	t.Helper()
	expect := func(code int, args ...string) string {
		t.Helper()
		r := f.run(args...)
		require.Equal(t, code, r.code, "round %d: ffe %s\n%s", i, strings.Join(args, " "), r)
		return r.stdout
	}
	date := "2016-03-01"
	if i%2 == 0 {
		date = "2018-01-20"
	}
	f.setDate(date)
	expect(ExitOK, "config", "show")
	var an analysisDoc
	f.json(&an, "analyze", "BTC-USD")
	if an.Decision.Action == "HOLD" {
		expect(ExitFailure, "execute", an.Decision.ID)
	} else {
		expect(ExitOK, "execute", an.Decision.ID)
		expect(ExitFailure, "execute", an.Decision.ID) // a decision executes once
	}
	expect(ExitOK, "analyze", "SPY")
	expect(ExitOK, "history", "--limit", "5")
	expect(ExitOK, "balance")
	expect(ExitOK, "run-agent", "--watchlist", "SPY,EUR_USD", "--max-cycles", "1", "--interval", "1ms")
	expect(ExitOK, "learning-report")
	expect(ExitOK, "prune-memory", "--keep", "5")
	expect(ExitOK, "backtest", "AAPL")
	expect(ExitOK, "backtest", "AAPL", "--csv", "testdata/aapl_2016_2017.csv", "--strategy", "sma-cross")
	expect(ExitOK, "portfolio-backtest", "--symbols", "AAPL,SPY", "--rebalance", "21")
	expect(ExitOK, "walk-forward", "SPY", "--fast", "10", "--slow", "50", "--train", "126", "--test", "63")
	expect(ExitOK, "monte-carlo", "AAPL", "--sims", "200", "--seed", "1")
	// Error paths: usage errors, bad data, an interrupted command.
	expect(ExitUsage, "analyze", "MSFT")
	expect(ExitUsage, "execute", "aaaaaaaaaaaa")
	expect(ExitUsage, "bogus")
	expect(ExitFailure, "backtest", "AAPL", "--csv", "testdata/aapl_bad_zero.csv")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.Equal(t, ExitFailure, f.runCtx(ctx, "analyze", "AAPL").code)
}

// TestCommandsDoNotLeak runs every command leakIterations times in one
// process and proves that goroutines, open file descriptors and the
// providers' open and unclosed client counts return to their baseline:
// every command's engine released everything it opened.
func TestCommandsDoNotLeak(t *testing.T) {
	modes := []string{modeSandbox, modeLoopback, modeHTTPMock}
	if testing.Short() {
		modes = modes[:1]
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			f := newFFE(t, mode)
			// Warm up: state built once per process (the sandbox's parsed
			// dataset, SQLite's and net/http's lazy tables) is not a leak.
			commandRound(t, f, 1)
			base := settle(resources{goroutines: 1 << 30, fds: 1 << 30}, 0)
			start := time.Now()
			for i := range leakIterations {
				commandRound(t, f, i+2)
			}
			elapsed := time.Since(start)
			got := settle(base, 10*time.Second)
			t.Logf("%s: %d rounds in %s (%s per round); baseline %v; after %v", mode, leakIterations,
				elapsed.Round(time.Millisecond), (elapsed / leakIterations).Round(time.Millisecond), base, got)
			require.LessOrEqual(t, got.goroutines, base.goroutines, "goroutines: baseline %v, after %v", base, got)
			if base.fds >= 0 {
				require.LessOrEqual(t, got.fds, base.fds, "open fds: baseline %v, after %v", base, got)
			}
			require.Equal(t, base.unclosed, got.unclosed, "clients garbage-collected without Close")
			require.Equal(t, base.open, got.open, "clients still open")
		})
	}
}
