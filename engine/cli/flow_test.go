package cli

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine"
	"github.com/leakgate/leakgate/engine/store"
)

// TestTradingFlow runs the life of a trade through the CLI in each data
// mode: analyze to a BUY, execute it (once), see it in history and balance,
// analyze to a SELL that closes it, execute that, and see the closed trade
// in the learning report, which fed the ensemble weights, then prune it.
func TestTradingFlow(t *testing.T) {
	for _, mode := range []string{modeSandbox, modeHTTPMock, modeLoopback} {
		t.Run(mode, func(t *testing.T) {
			f := newFFE(t, mode)

			// 2016-03-01: bitcoin trends up; the ensemble says BUY.
			f.setDate("2016-03-01")
			var buy analysisDoc
			f.json(&buy, "analyze", "btc-usd")
			d := buy.Decision
			require.True(t, store.ValidID(d.ID), d.ID)
			require.Equal(t, "BTC-USD", d.Symbol)
			require.Equal(t, "BUY", d.Action)
			require.Greater(t, d.Quantity, 0.0)
			require.Greater(t, d.Confidence, 0.2)
			require.Less(t, d.StopLoss, d.Price)
			require.Greater(t, d.TakeProfit, d.Price)
			require.Equal(t, 250, buy.Bars)
			require.Equal(t, 100_000.0, buy.Equity)
			require.Len(t, d.Votes, 4)
			require.Equal(t, 1.0, buy.weight("trend"))
			for _, k := range []string{"sma_20", "sma_50", "ema_12", "ema_26", "macd", "macd_signal", "macd_histogram",
				"rsi_14", "bollinger_upper", "bollinger_middle", "bollinger_lower", "atr_14"} {
				require.NotNil(t, buy.Indicators[k], k)
			}
			require.LessOrEqual(t, d.Quantity*buy.Quote.Price, 0.2*100_000*1.01, "sized within max_position_share")

			// Execute: a paper fill at the quote plus slippage, with fees.
			var ex executionDoc
			f.json(&ex, "execute", d.ID)
			require.Equal(t, "paper", ex.Order.Platform)
			require.Equal(t, "FILLED", ex.Order.Status)
			require.Equal(t, "BUY", ex.Order.Side)
			require.InDelta(t, d.Quantity, ex.Order.FilledQuantity, 1e-9)
			require.InDelta(t, buy.Quote.Price, ex.Order.AvgPrice, buy.Quote.Price*0.002)
			require.InDelta(t, ex.Order.FilledQuantity*ex.Order.AvgPrice*10/10_000, ex.Order.Fees, 1e-6)
			require.InDelta(t, d.Quantity, ex.Position.Quantity, 1e-9)
			require.Empty(t, ex.Closed)

			// A decision executes once.
			msg := f.fail(ExitFailure, "execute", d.ID)
			require.Contains(t, msg, "already executed")
			require.Contains(t, msg, ex.Order.ID)

			var hist historyDoc
			f.json(&hist, "history", "--symbol", "BTC-USD", "--action", "buy")
			require.Len(t, hist.Decisions, 1)
			require.Equal(t, d.ID, hist.Decisions[0].ID)
			require.True(t, hist.Decisions[0].Executed)

			var bal balanceDoc
			f.json(&bal, "balance")
			require.Equal(t, "paper", bal.Platform)
			require.Len(t, bal.Positions, 1)
			require.Equal(t, "BTC-USD", bal.Positions[0].Symbol)
			require.InDelta(t, d.Quantity, bal.Positions[0].Quantity, 1e-9)
			require.InDelta(t, 100_000-ex.Order.FilledQuantity*ex.Order.AvgPrice-ex.Order.Fees, bal.Account.Balance, 1e-6)
			out := f.ok("balance")
			require.Contains(t, out, "Platform")
			require.Contains(t, out, "BTC-USD")

			// 2018-01-20: the trend has turned; holding, the ensemble says SELL.
			f.setDate("2018-01-20")
			var sell analysisDoc
			f.json(&sell, "analyze", "BTC-USD")
			require.Equal(t, "SELL", sell.Decision.Action)
			require.InDelta(t, d.Quantity, sell.Position, 1e-9)
			require.InDelta(t, d.Quantity, sell.Decision.Quantity, 1e-9)

			var closing executionDoc
			f.json(&closing, "execute", sell.Decision.ID)
			require.Equal(t, "SELL", closing.Order.Side)
			require.Zero(t, closing.Position.Quantity)
			require.Len(t, closing.Closed, 1)
			require.Equal(t, "LONG", closing.Closed[0].Direction)
			require.Greater(t, closing.Closed[0].PnL, 0.0, "bought near 435, sold near 12700")
			require.NotEmpty(t, closing.Weights)
			var trendEntry float64
			for _, v := range buy.Decision.Votes {
				if v.Strategy == "trend" {
					trendEntry = v.Signal
				}
			}
			require.Greater(t, trendEntry, 0.0)
			require.Greater(t, closing.Weights["trend"], 1.0, "trend voted long on a winning trade")

			// The learned weights are used by the next analysis.
			var next analysisDoc
			f.json(&next, "analyze", "BTC-USD")
			require.Equal(t, closing.Weights["trend"], next.weight("trend"))

			var lr learningDoc
			f.json(&lr, "learning-report")
			require.Equal(t, 1, lr.Portfolio.Trades)
			require.InDelta(t, closing.Closed[0].PnL, lr.Portfolio.TotalPnL, 1e-6)
			found := false
			for _, s := range lr.Strategies {
				if s.Strategy == "trend" {
					found = true
					require.Equal(t, 1, s.Trades)
					require.Equal(t, 1.0, s.WinRate)
					require.Equal(t, closing.Weights["trend"], s.Weight)
				}
			}
			require.True(t, found)
			out = f.ok("learning-report")
			require.Contains(t, out, "Win rate")
			require.Contains(t, out, "Portfolio")

			// History filters.
			f.json(&hist, "history")
			require.Len(t, hist.Decisions, 3)
			require.Equal(t, next.Decision.ID, hist.Decisions[0].ID, "newest first")
			f.json(&hist, "history", "--limit", "1", "--action", "SELL")
			require.Len(t, hist.Decisions, 1)
			require.Equal(t, sell.Decision.ID, hist.Decisions[0].ID)
			f.json(&hist, "history", "--since", "1d", "--symbol", "AAPL")
			require.Empty(t, hist.Decisions)
			f.json(&hist, "history", "--since", "2000-01-01")
			require.Len(t, hist.Decisions, 3)
			out = f.ok("history")
			require.Contains(t, out, "Executed")
			require.Contains(t, out, d.ID)

			// Prune: nothing is older than a day yet; two days later it is.
			var pr pruneDoc
			f.json(&pr, "prune-memory", "--older-than", "1d")
			require.Zero(t, len(pr.Removed))
			require.Equal(t, 1, pr.Remaining)
			later := f.withOpts(WithEngineOptions(engine.WithClock(func() time.Time { return time.Now().Add(49 * time.Hour) })))
			later.json(&pr, "prune-memory", "--older-than", "2d", "--dry-run")
			require.True(t, pr.DryRun)
			require.Equal(t, 1, pr.ByAge)
			require.Zero(t, pr.Remaining)
			out = later.ok("prune-memory", "--older-than", "2d")
			require.Contains(t, out, "Removed 1 trades (1 by age")
			f.json(&lr, "learning-report")
			require.Zero(t, lr.Portfolio.Trades)
			for _, s := range lr.Strategies {
				if s.Strategy == "trend" {
					require.Equal(t, closing.Weights["trend"], s.Weight, "weights outlive the memory")
				}
			}
		})
	}
}

// TestRiskLimits proves execute refuses orders beyond max_position_share
// and new risk after max_daily_loss, and that a refusal leaves the
// decision executable.
func TestRiskLimits(t *testing.T) {
	f := newFFE(t, modeSandbox)
	f.setDate("2016-03-01")
	var buy analysisDoc
	f.json(&buy, "analyze", "BTC-USD")
	require.Equal(t, "BUY", buy.Decision.Action)

	msg := f.with("FFE_RISK_MAX_POSITION_SHARE", "0.05").fail(ExitFailure, "execute", buy.Decision.ID)
	require.Contains(t, msg, "risk limit")
	require.Contains(t, msg, "risk.max_position_share 5.0%")
	f.ok("execute", buy.Decision.ID)

	// A losing trade today: bought in December 2017, sold in February.
	g := newFFE(t, modeSandbox)
	g.setDate("2017-12-01")
	g.json(&buy, "analyze", "BTC-USD")
	require.Equal(t, "BUY", buy.Decision.Action)
	g.ok("execute", buy.Decision.ID)
	g.setDate("2018-02-05")
	var sell analysisDoc
	g.json(&sell, "analyze", "BTC-USD")
	require.Equal(t, "SELL", sell.Decision.Action)
	var closing executionDoc
	g.json(&closing, "execute", sell.Decision.ID)
	require.Len(t, closing.Closed, 1)
	loss := -closing.Closed[0].PnL
	require.Greater(t, loss, 1000.0)

	var bal balanceDoc
	g.json(&bal, "balance")
	require.InDelta(t, -loss, bal.RealizedToday, 1e-6)

	// New risk is refused once the day's losses reach the limit; selling
	// would not be.
	g.setDate("2016-03-01")
	g.json(&buy, "analyze", "BTC-USD")
	require.Equal(t, "BUY", buy.Decision.Action)
	msg = g.with("FFE_RISK_MAX_DAILY_LOSS", "0.01").fail(ExitFailure, "execute", buy.Decision.ID)
	require.Contains(t, msg, "risk.max_daily_loss 1.0%")
	g.ok("execute", buy.Decision.ID)
}

// TestRunAgent runs the autonomous loop for a fixed number of cycles.
func TestRunAgent(t *testing.T) {
	f := newFFE(t, modeSandbox)
	f.setDate("2016-03-01")
	var rep agentDoc
	f.json(&rep, "run-agent", "--watchlist", "BTC-USD,AAPL", "--max-cycles", "2", "--interval", "1ms", "--threshold", "0.3")
	require.Len(t, rep.Cycles, 2)
	require.False(t, rep.Interrupted)
	require.Equal(t, 4, rep.Decisions)
	require.Equal(t, 1, rep.Executions)
	require.Zero(t, rep.Errors)
	first := rep.Cycles[0].Results
	require.Equal(t, "BTC-USD", first[0].Symbol)
	require.Equal(t, "BUY", first[0].Action)
	require.True(t, first[0].Executed)
	require.Equal(t, "HOLD", rep.Cycles[1].Results[0].Action, "already long")

	// Below the threshold a BUY is reported, not executed.
	g := newFFE(t, modeSandbox)
	g.setDate("2016-03-01")
	g.json(&rep, "run-agent", "--watchlist", "BTC-USD", "--max-cycles", "1", "--threshold", "0.9")
	require.Equal(t, 0, rep.Executions)
	require.Contains(t, rep.Cycles[0].Results[0].Skipped, "below threshold 0.90")

	// Human output prints each cycle as it ends; errors per symbol do not
	// stop the loop.
	out := g.ok("run-agent", "--watchlist", "AAPL,MSFT", "--max-cycles", "1")
	require.Contains(t, out, "Cycle 1")
	require.Contains(t, out, "error: no market data for MSFT")
	require.Contains(t, out, "Agent finished after 1 cycles: 1 decisions, 0 executed, 1 errors.")

	// The config's agent settings apply without flags.
	var cfgRep agentDoc
	g.with("FFE_AGENT_MAX_CYCLES", "1", "FFE_WATCHLIST", "SPY").json(&cfgRep, "run-agent")
	require.Len(t, cfgRep.Cycles, 1)
	require.Equal(t, "SPY", cfgRep.Cycles[0].Results[0].Symbol)
}

// TestRunAgentStopsOnInterrupt cancels the loop while it waits for the
// next cycle and while a request is in flight.
func TestRunAgentStopsOnInterrupt(t *testing.T) {
	t.Run("between cycles", func(t *testing.T) {
		f := newFFE(t, modeSandbox)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		// Cancel once the first cycle is printed, while the agent waits an
		// hour for the next.
		out := &cancelOn{want: "Cycle 1", cancel: cancel}
		var errb strings.Builder
		start := time.Now()
		env := f.env
		code := Run(ctx, []string{"run-agent", "--watchlist", "SPY", "--interval", "1h"}, nil, out, &errb,
			append([]Option{WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })}, f.opts...)...)
		require.Equal(t, ExitOK, code, "%s\n%s", out.String(), errb.String())
		require.Less(t, time.Since(start), 10*time.Second)
		require.Contains(t, out.String(), "Agent interrupted after 1 cycles: 1 decisions")
	})
	t.Run("mid-request", func(t *testing.T) {
		f := newFFE(t, modeHTTPMock)
		started := make(chan struct{}, 1)
		f.mock.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
			select {
			case started <- struct{}{}:
			default:
			}
			<-req.Context().Done() // the upstream hangs until the client gives up
			return nil, req.Context().Err()
		})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan result, 1)
		go func() { done <- f.runCtx(ctx, "run-agent", "--watchlist", "AAPL", "--interval", "1s") }()
		<-started
		cancel()
		select {
		case r := <-done:
			require.Equal(t, ExitOK, r.code, r)
			require.Contains(t, r.stdout, "Agent interrupted after 1 cycles: 0 decisions")
		case <-time.After(10 * time.Second):
			t.Fatal("run-agent did not stop after cancellation")
		}
	})
	t.Run("canceled before start", func(t *testing.T) {
		f := newFFE(t, modeSandbox)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		r := f.runCtx(ctx, "analyze", "AAPL")
		require.Equal(t, ExitFailure, r.code, r)
		require.Contains(t, r.stderr, "interrupted")
	})
}

func TestHumanAnalyze(t *testing.T) {
	f := newFFE(t, modeSandbox)
	out := f.ok("analyze", "SPY")
	for _, want := range []string{"Decision", "execute with: ffe execute", "SPY (equity)", "RSI(14)", "Bollinger upper",
		"ATR(14)", "trend", "mean-reversion", "momentum", "sentiment", "abstains", "Reasons"} {
		require.Contains(t, out, want)
	}
	require.False(t, strings.Contains(out, "NaN"), out)
}

// cancelOn is a writer that calls cancel once want has been written.
type cancelOn struct {
	strings.Builder
	want   string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	n, err := c.Builder.Write(p)
	if strings.Contains(c.String(), c.want) {
		c.cancel()
	}
	return n, err
}

// TestRunAgentClosesAtExits lets the agent close a position whose
// take-profit the price has passed.
func TestRunAgentClosesAtExits(t *testing.T) {
	f := newFFE(t, modeSandbox)
	f.setDate("2016-03-01")
	var buy analysisDoc
	f.json(&buy, "analyze", "BTC-USD")
	require.Equal(t, "BUY", buy.Decision.Action)
	f.ok("execute", buy.Decision.ID)

	f.setDate("2016-07-01") // bitcoin near 680, above the take-profit
	var rep struct {
		Cycles []struct {
			Results []struct {
				Symbol   string `json:"symbol"`
				Action   string `json:"action"`
				Exit     string `json:"exit"`
				Executed bool   `json:"executed"`
			} `json:"results"`
		} `json:"cycles"`
		Executions int `json:"executions"`
	}
	f.json(&rep, "run-agent", "--watchlist", "SPY", "--max-cycles", "1")
	exit := rep.Cycles[0].Results[0]
	require.Equal(t, "BTC-USD", exit.Symbol)
	require.Equal(t, "SELL", exit.Action)
	require.Contains(t, exit.Exit, "take-profit")
	require.True(t, exit.Executed)

	var bal balanceDoc
	f.json(&bal, "balance")
	require.Empty(t, bal.Positions)
	var lr learningDoc
	f.json(&lr, "learning-report")
	require.Equal(t, 1, lr.Portfolio.Trades)
	require.Positive(t, lr.Portfolio.TotalPnL)
}
