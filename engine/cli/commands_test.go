package cli

import (
	"context"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/sandbox"
)

func TestUsageErrors(t *testing.T) {
	f := newFFE(t, modeSandbox)
	badCfg := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(badCfg, []byte("risk:\n  max_position_share: 0.1\n  max_loss: 0.2\n"), 0o644))
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{name: "unknown command", args: []string{"analyse", "AAPL"}, want: []string{`unknown command "analyse"`, "did you mean analyze?", "Run 'ffe --help'"}},
		{name: "unknown flag", args: []string{"history", "--bogus"}, want: []string{"unknown flag: --bogus", "Run 'ffe history --help'"}},
		{name: "missing argument", args: []string{"analyze"}, want: []string{"analyze takes SYMBOL"}},
		{name: "extra argument", args: []string{"balance", "now"}, want: []string{"balance takes no arguments"}},
		{name: "bad symbol", args: []string{"analyze", "A B"}, want: []string{"bad symbol", "such as AAPL"}},
		{name: "unknown symbol", args: []string{"analyze", "MSFT"}, want: []string{"no market data for MSFT", "the sandbox serves AAPL, BTC-USD, EUR_USD, SPY"}},
		{name: "malformed decision id", args: []string{"execute", "42"}, want: []string{`"42" is not a decision id`, "ffe history"}},
		{name: "unknown decision id", args: []string{"execute", "aaaaaaaaaaaa"}, want: []string{`unknown decision id "aaaaaaaaaaaa"`, "ffe history"}},
		{name: "bad limit", args: []string{"history", "--limit", "0"}, want: []string{"--limit 0"}},
		{name: "bad since", args: []string{"history", "--since", "yesterday"}, want: []string{"--since", "YYYY-MM-DD"}},
		{name: "bad action", args: []string{"history", "--action", "HODL"}, want: []string{`action "HODL": use BUY, SELL or HOLD`}},
		{name: "bad duration", args: []string{"prune-memory", "--older-than", "soon"}, want: []string{"older-than", "30d"}},
		{name: "bad keep", args: []string{"prune-memory", "--keep", "-1"}, want: []string{"--keep -1"}},
		{name: "bad threshold", args: []string{"run-agent", "--threshold", "2"}, want: []string{"--threshold 2"}},
		{name: "bad watchlist", args: []string{"run-agent", "--watchlist", "A B"}, want: []string{"bad symbol"}},
		{name: "unknown strategy", args: []string{"backtest", "AAPL", "--strategy", "magic"}, want: []string{`unknown strategy "magic"`, "sma-cross"}},
		{name: "missing csv", args: []string{"backtest", "AAPL", "--csv", "nope.csv"}, want: []string{"--csv", "nope.csv"}},
		{name: "bad date", args: []string{"backtest", "AAPL", "--from", "2017-13-01"}, want: []string{"--from", "YYYY-MM-DD"}},
		{name: "dates reversed", args: []string{"backtest", "AAPL", "--from", "2017-01-01", "--to", "2016-01-01"}, want: []string{"is not before --to"}},
		{name: "portfolio without symbols", args: []string{"portfolio-backtest"}, want: []string{"--symbols is required"}},
		{name: "portfolio weights", args: []string{"portfolio-backtest", "--symbols", "AAPL,SPY", "--weights", "0.9,0.9"}, want: []string{"sum to 1.8"}},
		{name: "portfolio weight count", args: []string{"portfolio-backtest", "--symbols", "AAPL,SPY", "--weights", "1"}, want: []string{"1 weights for 2 symbols"}},
		{name: "empty grid", args: []string{"walk-forward", "SPY", "--fast", "50", "--slow", "20"}, want: []string{"grid is empty"}},
		{name: "bad objective", args: []string{"walk-forward", "SPY", "--objective", "luck"}, want: []string{`unknown objective "luck"`}},
		{name: "bad sims", args: []string{"monte-carlo", "AAPL", "--sims", "0"}, want: []string{"--sims"}},
		{name: "missing config", args: []string{"--config", filepath.Join(t.TempDir(), "none.yaml"), "balance"}, want: []string{"config file not found"}},
		{name: "bad config key", args: []string{"--config", badCfg, "balance"}, want: []string{"line 3", `unknown key "max_loss" in risk`}},
		{name: "bad log level", args: []string{"--log-level", "loud", "balance"}, want: []string{"log.level"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := f.fail(ExitUsage, tt.args...)
			for _, w := range tt.want {
				require.Contains(t, msg, w)
			}
		})
	}
	// A bad environment variable is a usage error too.
	msg := f.with("FFE_AGENT_MAX_CYCLES", "lots").fail(ExitUsage, "balance")
	require.Contains(t, msg, "FFE_AGENT_MAX_CYCLES")
}

func TestHelpAndConfigShow(t *testing.T) {
	f := newFFE(t, modeSandbox)
	out := f.ok("--help")
	for _, c := range []string{"analyze", "history", "balance", "execute", "run-agent", "learning-report", "prune-memory",
		"backtest", "portfolio-backtest", "walk-forward", "monte-carlo", "config"} {
		require.Contains(t, out, c)
	}
	require.Contains(t, f.ok(), "Usage:")
	require.Contains(t, f.ok("execute", "--help"), "risk.max_position_share")

	secret := "oanda-token-0123456789"
	g := f.with("FFE_OANDA_TOKEN", secret, "FFE_RISK_MAX_DAILY_LOSS", "0.02")
	out = g.ok("config", "show")
	require.NotContains(t, out, secret)
	require.Contains(t, out, "oanda.token:\n    env: FFE_OANDA_TOKEN\n    value: REDACTED")
	require.Contains(t, out, "max_daily_loss: 0.02")
	require.Contains(t, out, "source: sandbox")
	require.Contains(t, out, "config_file: '(none: defaults)'")

	var m map[string]any
	g.json(&m, "config", "show")
	require.Equal(t, "REDACTED", m["secrets"].(map[string]any)["oanda.token"].(map[string]any)["value"])
	require.Equal(t, 0.02, m["risk"].(map[string]any)["max_daily_loss"])

	// config show opens no engine: no database appears.
	_, err := os.Stat(filepath.Join(f.env["FFE_DATA_DIR"], "ffe.db"))
	require.ErrorIs(t, err, os.ErrNotExist)

	// --data-dir moves the database.
	dir := filepath.Join(t.TempDir(), "elsewhere")
	f.ok("--data-dir", dir, "balance")
	_, err = os.Stat(filepath.Join(dir, "ffe.db"))
	require.NoError(t, err)
}

func TestBacktestCommands(t *testing.T) {
	f := newFFE(t, modeSandbox)
	type btDoc struct {
		Symbol      string      `json:"symbol"`
		Strategy    string      `json:"strategy"`
		Source      string      `json:"source"`
		Bars        int         `json:"bars"`
		FinalEquity float64     `json:"final_equity"`
		TotalReturn float64     `json:"total_return"`
		CAGR        float64     `json:"cagr"`
		Sharpe      float64     `json:"sharpe"`
		Sortino     float64     `json:"sortino"`
		MaxDrawdown float64     `json:"max_drawdown"`
		WinRate     float64     `json:"win_rate"`
		Exposure    float64     `json:"exposure"`
		Equity      []float64   `json:"equity"`
		Times       []time.Time `json:"times"`
		Trades      int         `json:"trades"`
		TradeLog    []any       `json:"trade_log"`
		Config      struct {
			Capital     float64 `json:"capital"`
			FeeBps      float64 `json:"fee_bps"`
			SlippageBps float64 `json:"slippage_bps"`
		} `json:"config"`
	}

	var bt btDoc
	f.json(&bt, "backtest", "AAPL")
	require.Equal(t, "AAPL", bt.Symbol)
	require.Equal(t, "ensemble", bt.Strategy)
	require.Equal(t, "unified", bt.Source)
	require.Greater(t, bt.Bars, 700, "three years of daily bars")
	require.Len(t, bt.Equity, bt.Bars)
	require.Len(t, bt.Times, bt.Bars)
	require.Equal(t, 100_000.0, bt.Equity[0])
	require.InDelta(t, bt.FinalEquity/bt.Equity[0]-1, bt.TotalReturn, 1e-9)
	require.Equal(t, 10.0, bt.Config.FeeBps)
	require.Equal(t, 5.0, bt.Config.SlippageBps)
	require.NotEmpty(t, bt.TradeLog)
	require.Equal(t, bt.Trades, len(bt.TradeLog))
	require.Equal(t, time.Date(2018, 1, 19, 0, 0, 0, 0, time.UTC), bt.Times[len(bt.Times)-1])

	var free btDoc
	f.json(&free, "backtest", "AAPL", "--fee-bps", "0", "--slippage-bps", "0", "--from", "2016-01-01", "--to", "2017-12-31")
	require.Zero(t, free.Config.FeeBps)
	require.Equal(t, free.Times[0], time.Date(2016, 1, 4, 0, 0, 0, 0, time.UTC))

	// The same bars from a CSV file give the same result.
	var csv btDoc
	f.json(&csv, "backtest", "AAPL", "--csv", "testdata/aapl_2016_2017.csv", "--fee-bps", "0", "--slippage-bps", "0")
	require.Equal(t, "testdata/aapl_2016_2017.csv", csv.Source)
	require.Equal(t, 503, csv.Bars)
	require.InDelta(t, free.FinalEquity, csv.FinalEquity, 1e-6)

	var sma btDoc
	f.json(&sma, "backtest", "SPY", "--strategy", "sma-cross", "--capital", "5000")
	require.Equal(t, "sma-cross", sma.Strategy)
	require.Equal(t, 5000.0, sma.Equity[0])

	out := f.ok("backtest", "BTC-USD", "--strategy", "buy-and-hold")
	for _, w := range []string{"Total return", "CAGR", "Sharpe", "Sortino", "Max drawdown", "Win rate", "Exposure"} {
		require.Contains(t, out, w)
	}

	var pf struct {
		Symbols     []string  `json:"symbols"`
		Targets     []float64 `json:"target_weights"`
		Rebalances  int       `json:"rebalances"`
		Bars        int       `json:"bars"`
		Equity      []float64 `json:"equity"`
		TotalReturn float64   `json:"total_return"`
	}
	f.json(&pf, "portfolio-backtest", "--symbols", "aapl,spy,btc-usd", "--weights", "0.4,0.4,0.2", "--rebalance", "21")
	require.Equal(t, []string{"AAPL", "SPY", "BTC-USD"}, pf.Symbols)
	require.Equal(t, []float64{0.4, 0.4, 0.2}, pf.Targets)
	require.Greater(t, pf.Rebalances, 10)
	require.Len(t, pf.Equity, pf.Bars)
	require.Contains(t, f.ok("portfolio-backtest", "--symbols", "AAPL,SPY"), "50.0%")

	var wf struct {
		Grid   []any `json:"grid"`
		Result struct {
			Windows []struct {
				Best struct{ Fast, Slow int } `json:"best"`
			} `json:"windows"`
			Equity  []float64 `json:"equity"`
			Metrics struct {
				Bars int `json:"bars"`
			} `json:"metrics"`
		} `json:"result"`
	}
	f.json(&wf, "walk-forward", "SPY", "--train", "252", "--test", "63", "--fast", "5,10", "--slow", "50,100")
	require.Len(t, wf.Grid, 4)
	require.NotEmpty(t, wf.Result.Windows)
	for _, w := range wf.Result.Windows {
		require.Less(t, w.Best.Fast, w.Best.Slow)
	}
	require.Len(t, wf.Result.Equity, wf.Result.Metrics.Bars)
	require.Contains(t, f.ok("walk-forward", "SPY", "--anchored", "--objective", "calmar"), "Out of sample")

	type mcDoc struct {
		Seed    uint64 `json:"seed"`
		Returns int    `json:"returns"`
		Result  struct {
			Sims                  int
			P5, P50, P95          float64
			VaR95, CVaR95         float64
			ProbRuin              float64 `json:"prob_ruin"`
			DrawdownP50, Drawdown float64
		} `json:"result"`
	}
	var mc1, mc2, mc3 mcDoc
	f.json(&mc1, "monte-carlo", "AAPL", "--sims", "400", "--seed", "42")
	f.json(&mc2, "monte-carlo", "AAPL", "--sims", "400", "--seed", "42")
	require.Equal(t, mc1, mc2, "the same seed gives the same result")
	require.Equal(t, uint64(42), mc1.Seed)
	require.Equal(t, 400, mc1.Result.Sims)
	require.LessOrEqual(t, mc1.Result.P5, mc1.Result.P50)
	require.LessOrEqual(t, mc1.Result.P50, mc1.Result.P95)
	require.GreaterOrEqual(t, mc1.Result.CVaR95, mc1.Result.VaR95)
	require.True(t, mc1.Result.ProbRuin >= 0 && mc1.Result.ProbRuin <= 1)
	f.json(&mc3, "monte-carlo", "AAPL", "--sims", "400")
	require.NotZero(t, mc3.Seed, "a random seed is chosen and reported")
	out = f.ok("monte-carlo", "AAPL", "--sims", "300", "--seed", "7", "--strategy", "buy-and-hold")
	require.Contains(t, out, "(seed 7)")
	require.Contains(t, out, "Probability of ruin")
}

// TestBadData proves bad bars are reported, never decided or traded on.
func TestBadData(t *testing.T) {
	t.Run("csv", func(t *testing.T) {
		f := newFFE(t, modeSandbox)
		tests := []struct {
			file string
			want []string
		}{
			{file: "aapl_bad_zero.csv", want: []string{"AAPL data from testdata/aapl_bad_zero.csv failed validation", "close 0 is not positive"}},
			{file: "aapl_bad_unsorted.csv", want: []string{"failed validation", "earlier than bar"}},
			{file: "aapl_bad_missing.csv", want: []string{"failed validation", "csv line 202, column 3 (high)", "missing value"}},
		}
		for _, tt := range tests {
			t.Run(tt.file, func(t *testing.T) {
				for _, cmd := range []string{"backtest", "walk-forward", "monte-carlo"} {
					msg := f.fail(ExitFailure, cmd, "AAPL", "--csv", filepath.Join("testdata", tt.file))
					for _, w := range tt.want {
						require.Contains(t, msg, w)
					}
				}
			})
		}
	})

	good, err := sandbox.History("AAPL")
	require.NoError(t, err)
	good = good[len(good)-300:]
	tests := []struct {
		name   string
		bars   func([]providers.Bar) []providers.Bar
		quote  float64
		want   []string
		noWant string
	}{
		{name: "NaN close", bars: func(b []providers.Bar) []providers.Bar { b[290].Close = math.NaN(); return b },
			want: []string{"AAPL data from fake failed validation", "close is NaN"}},
		{name: "zero price", bars: func(b []providers.Bar) []providers.Bar { b[280].Low = 0; return b },
			want: []string{"failed validation", "low 0 is not positive"}},
		{name: "unsorted", bars: func(b []providers.Bar) []providers.Bar { b[270], b[271] = b[271], b[270]; return b },
			want: []string{"failed validation", "sort the series by time"}},
		{name: "gap", bars: func(b []providers.Bar) []providers.Bar { return append(b[:200:200], b[215:]...) },
			want: []string{"failed validation", "sessions missing", "provider lost data"}},
		{name: "NaN quote", bars: func(b []providers.Bar) []providers.Bar { return b }, quote: math.NaN(),
			want: []string{"failed validation", "quote price NaN"}},
		{name: "zero quote", bars: func(b []providers.Bar) []providers.Bar { return b }, quote: -1,
			want: []string{"quote price 0 is not a positive number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := tt.bars(append([]providers.Bar(nil), good...))
			q := bs[len(bs)-1].Close
			switch {
			case math.IsNaN(tt.quote):
				q = math.NaN()
			case tt.quote < 0:
				q = 0
			}
			md := &fakeMD{bars: bs, quote: q}
			f := newFFE(t, modeSandbox).withOpts(WithEngineOptions(engine.WithMarketData(md)))
			for _, args := range [][]string{{"analyze", "AAPL"}, {"run-agent", "--watchlist", "AAPL", "--max-cycles", "1"}} {
				r := f.run(args...)
				out := r.stderr + r.stdout
				for _, w := range tt.want {
					require.Contains(t, out, w, r)
				}
			}
			require.Equal(t, ExitFailure, f.run("analyze", "AAPL").code)
			var h historyDoc
			f.json(&h, "history")
			require.Empty(t, h.Decisions, "nothing was decided on bad data")
			require.Equal(t, int32(4), md.closed.Load(), "each of the four commands closed the provider once")
		})
	}
}

// fakeMD serves fixed bars and a fixed quote for any equity symbol.
type fakeMD struct {
	bars   []providers.Bar
	quote  float64
	panics bool
	closed atomic.Int32
}

func (m *fakeMD) Name() string                    { return "fake" }
func (m *fakeMD) Classes() []providers.AssetClass { return []providers.AssetClass{providers.Equity} }
func (m *fakeMD) Close() error                    { m.closed.Add(1); return nil }

func (m *fakeMD) Bars(context.Context, providers.BarQuery) ([]providers.Bar, error) {
	if m.panics {
		panic("fake provider: corrupted state")
	}
	return m.bars, nil
}

func (m *fakeMD) Quote(_ context.Context, s string) (providers.Quote, error) {
	return providers.Quote{Symbol: s, Price: m.quote, Provider: "fake"}, nil
}

// TestPanicClosesEngine proves a panic inside a command still closes the
// engine, and becomes exit 1 instead of killing the process.
func TestPanicClosesEngine(t *testing.T) {
	md := &fakeMD{panics: true, quote: 100}
	base := providers.OpenClients()
	f := newFFE(t, modeSandbox).withOpts(WithEngineOptions(engine.WithMarketData(md)))
	r := f.run("analyze", "AAPL")
	require.Equal(t, ExitFailure, r.code)
	require.Contains(t, r.stderr, "ffe: panic: fake provider: corrupted state")
	require.Contains(t, r.stderr, "internal error")
	require.Equal(t, int32(1), md.closed.Load())
	require.Equal(t, base, providers.OpenClients())
}

// TestHTTPMockFixtures serves Alpha Vantage from recorded upstream
// responses through httpmock, the rest from the sandbox.
func TestHTTPMockFixtures(t *testing.T) {
	fixture := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "upstream", "alphavantage", name))
		require.NoError(t, err)
		return b
	}
	t.Run("recorded MSFT", func(t *testing.T) {
		f := newFFE(t, modeHTTPMock).with("FFE_DATA_HISTORY_BARS", "100")
		f.mock.RegisterResponder(http.MethodGet, "=~^"+mockURL+"/alphavantage/query", func(req *http.Request) (*http.Response, error) {
			q := req.URL.Query()
			require.Equal(t, sandbox.Key, q.Get("apikey"))
			switch q.Get("function") + " " + q.Get("symbol") {
			case "TIME_SERIES_DAILY MSFT":
				return httpmock.NewBytesResponse(http.StatusOK, fixture("time_series_daily_MSFT_compact.json")), nil
			case "GLOBAL_QUOTE MSFT":
				return httpmock.NewBytesResponse(http.StatusOK, fixture("global_quote_MSFT.json")), nil
			}
			return httpmock.NewBytesResponse(http.StatusOK, fixture("error_message_invalid_api_call.json")), nil
		})
		var an analysisDoc
		f.json(&an, "analyze", "MSFT")
		require.Equal(t, "MSFT", an.Decision.Symbol)
		require.Equal(t, 100, an.Bars)
		require.Equal(t, 112.13, an.Quote.Price)
		require.Equal(t, "alphavantage", an.Quote.Provider)
		// The quote, then bars up to its day (2018-10-05), then, since the
		// recorded series ends in June, bars up to its last day.
		require.Equal(t, 3, f.mock.GetCallCountInfo()["GET =~^"+mockURL+"/alphavantage/query"])
	})
	t.Run("rate limited falls back", func(t *testing.T) {
		f := newFFE(t, modeHTTPMock)
		f.mock.RegisterResponder(http.MethodGet, "=~^"+mockURL+"/alphavantage/", httpmock.NewBytesResponder(http.StatusOK,
			fixture("error_information_daily_limit.json")))
		var an analysisDoc
		f.json(&an, "analyze", "AAPL")
		require.Equal(t, "polygon", an.Quote.Provider)
		require.Positive(t, f.mock.GetTotalCallCount())
	})
	t.Run("every route down", func(t *testing.T) {
		f := newFFE(t, modeHTTPMock)
		f.mock.RegisterNoResponder(httpmock.NewStringResponder(http.StatusServiceUnavailable, "maintenance"))
		msg := f.fail(ExitFailure, "analyze", "AAPL")
		require.Contains(t, msg, "market data for AAPL")
		require.Contains(t, msg, "503")
	})
}

// TestSecretsNeverPrinted makes an upstream echo the API key back in an
// error answer, with debug logging on: neither the error nor any log line
// shows it.
func TestSecretsNeverPrinted(t *testing.T) {
	const key = "av-live-key-9f8e7d6c5b4a"
	f := newFFE(t, modeHTTPMock).with("FFE_ALPHAVANTAGE_API_KEY", key, "FFE_ROUTING_EQUITY", "alphavantage")
	f.mock.RegisterResponder(http.MethodGet, "=~^"+mockURL+"/alphavantage/", func(req *http.Request) (*http.Response, error) {
		require.Equal(t, key, req.URL.Query().Get("apikey"), "the configured key is used, not the sandbox's")
		return httpmock.NewStringResponse(http.StatusInternalServerError, "internal error for "+req.URL.String()), nil
	})
	r := f.run("--log-level", "debug", "analyze", "AAPL")
	require.Equal(t, ExitFailure, r.code, r)
	require.Contains(t, r.stderr, "REDACTED")
	require.Contains(t, r.stderr, "retrying")
	require.NotContains(t, r.stderr+r.stdout, key)
	require.NotContains(t, f.ok("config", "show"), key)
}

// TestSentiment turns the Reddit vote on.
func TestSentiment(t *testing.T) {
	for _, mode := range []string{modeSandbox, modeHTTPMock} {
		t.Run(mode, func(t *testing.T) {
			f := newFFE(t, mode).with("FFE_SENTIMENT_ENABLED", "true")
			var an analysisDoc
			f.json(&an, "analyze", "AAPL")
			require.NotNil(t, an.Sentiment)
			require.Positive(t, an.Sentiment.Samples)
			require.True(t, an.Sentiment.Score >= -1 && an.Sentiment.Score <= 1)
			for _, v := range an.Decision.Votes {
				if v.Strategy == "sentiment" {
					require.False(t, v.Abstain)
				}
			}
			require.Contains(t, f.with("FFE_SENTIMENT_ENABLED", "true").ok("analyze", "AAPL"), "Sentiment")

			// Without it the sentiment strategy abstains.
			var off analysisDoc
			f.with("FFE_SENTIMENT_ENABLED", "false").json(&off, "analyze", "AAPL")
			require.Nil(t, off.Sentiment)
		})
	}
}
