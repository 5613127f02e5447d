package sandbox_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/alphavantage"
	"github.com/leakgate/leakgate/providers/coinbase"
	"github.com/leakgate/leakgate/providers/finnhub"
	"github.com/leakgate/leakgate/providers/llm"
	"github.com/leakgate/leakgate/providers/oanda"
	"github.com/leakgate/leakgate/providers/polygon"
	"github.com/leakgate/leakgate/providers/reddit"
	"github.com/leakgate/leakgate/providers/sandbox"
	"github.com/leakgate/leakgate/providers/yahoo"
)

// The per-API clients pointed at a running sandbox: every one must work
// exactly as against its real host, and the bars it returns must be the
// embedded history.

func start(t *testing.T, opts ...sandbox.Option) *sandbox.Server {
	t.Helper()
	srv, err := sandbox.Start(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	return srv
}

// fast are the options every client gets: no client-side rate limit and no
// retries, so a failure shows at once.
func fast() []providers.Option {
	return []providers.Option{providers.WithRateLimit(rate.Inf, 1), providers.WithRetry(1, 0, 0)}
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// history returns the embedded bars of symbol dated from..to inclusive.
func history(t *testing.T, symbol, from, to string) []providers.Bar {
	t.Helper()
	all, err := sandbox.History(symbol)
	require.NoError(t, err)
	var out []providers.Bar
	for _, b := range all {
		if d := b.Time.Format(time.DateOnly); d >= from && d <= to {
			out = append(out, b)
		}
	}
	require.NotEmpty(t, out)
	return out
}

// requireBars compares bars from a client with the embedded history: the
// same trading days (each API stamps its bars at its own time of day) and
// the same prices and volumes.
func requireBars(t *testing.T, want, got []providers.Bar) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		w, g := want[i], got[i]
		require.Equal(t, w.Time.Format(time.DateOnly), g.Time.UTC().Format(time.DateOnly), "bar %d", i)
		g.Time = w.Time
		require.Equal(t, w, g, "bar %d", i)
	}
}

func current(t *testing.T, srv *sandbox.Server, symbol string) providers.Bar {
	t.Helper()
	b, err := srv.Handler.Current(symbol)
	require.NoError(t, err)
	return b
}

// span names the daily bars of symbol from one date to another, inclusive.
type span struct{ symbol, from, to string }

// requireHistory runs a subtest "bars <symbol>" per span: the daily bars c
// returns for it must be the embedded history. to, unless nil, turns the
// span's last date into the query's To, for an API whose bound is exclusive
// or a timestamp.
func requireHistory(t *testing.T, c providers.MarketData, spans []span, to func(time.Time) time.Time) {
	t.Helper()
	for _, sp := range spans {
		t.Run("bars "+sp.symbol, func(t *testing.T) {
			q := providers.BarQuery{Symbol: sp.symbol, Interval: providers.Day, From: date(sp.from), To: date(sp.to)}
			if to != nil {
				q.To = to(q.To)
			}
			got, err := c.Bars(t.Context(), q)
			require.NoError(t, err)
			requireBars(t, history(t, sp.symbol, sp.from, sp.to), got)
		})
	}
}

// requireQuotes runs a subtest "quote <symbol>" per symbol: the price c
// quotes must be the symbol's current close, after round unless it is nil.
func requireQuotes(t *testing.T, srv *sandbox.Server, c providers.MarketData, symbols []string, round func(float64) float64) {
	t.Helper()
	for _, sym := range symbols {
		t.Run("quote "+sym, func(t *testing.T) {
			q, err := c.Quote(t.Context(), sym)
			require.NoError(t, err)
			if round != nil {
				q.Price = round(q.Price)
			}
			require.Equal(t, current(t, srv, sym).Close, q.Price)
		})
	}
}

func TestAlphaVantageClient(t *testing.T) {
	srv := start(t)
	c, err := alphavantage.New(alphavantage.Config{BaseURL: srv.BaseURL("alphavantage"), APIKey: sandbox.Key}, fast()...)
	require.NoError(t, err)
	defer c.Close()
	ctx := t.Context()

	requireHistory(t, c, []span{
		{"AAPL", "2017-01-01", "2017-12-31"},
		{"SPY", "2020-03-01", "2020-03-31"},
		{"EUR_USD", "2018-06-01", "2018-06-30"},
		{"BTC-USD", "2017-12-01", "2017-12-31"},
	}, nil)
	requireQuotes(t, srv, c, []string{"AAPL", "SPY", "EUR_USD", "BTC-USD"}, nil)
	t.Run("unknown symbol", func(t *testing.T) {
		_, err := c.Bars(ctx, providers.BarQuery{Symbol: "MSFT", From: date("2017-01-01"), To: date("2017-02-01")})
		require.Error(t, err)
		require.False(t, errors.Is(err, providers.ErrUnauthorized), "%v", err)
	})
	t.Run("revoked key", func(t *testing.T) {
		rc, err := alphavantage.New(alphavantage.Config{BaseURL: srv.BaseURL("alphavantage"), APIKey: sandbox.RevokedKey}, fast()...)
		require.NoError(t, err)
		defer rc.Close()
		_, err = rc.Quote(ctx, "AAPL")
		require.ErrorIs(t, err, providers.ErrUnauthorized)
	})
}

func TestCoinbaseClient(t *testing.T) {
	srv := start(t)
	c, err := coinbase.New(coinbase.Config{
		BaseURL: srv.BaseURL("coinbase"), ExchangeURL: srv.BaseURL("coinbase-exchange"),
		KeyName: sandbox.CoinbaseKeyName, PrivateKey: sandbox.CoinbasePrivateKey,
	}, fast()...)
	require.NoError(t, err)
	defer c.Close()
	ctx := t.Context()

	t.Run("bars over several requests", func(t *testing.T) {
		got, err := c.Bars(ctx, providers.BarQuery{Symbol: "BTC-USD", Interval: providers.Day, From: date("2017-01-01"), To: date("2018-06-30")})
		require.NoError(t, err)
		requireBars(t, history(t, "BTC-USD", "2017-01-01", "2018-06-30"), got)
	})
	t.Run("quote", func(t *testing.T) {
		q, err := c.Quote(ctx, "BTC-USD")
		require.NoError(t, err)
		require.Equal(t, 6253.67, q.Price)
		require.Equal(t, current(t, srv, "BTC-USD").Close, q.Price)
	})
	t.Run("account, order, account", func(t *testing.T) {
		before, err := c.Account(ctx)
		require.NoError(t, err)
		o, err := c.PlaceOrder(ctx, providers.OrderRequest{Symbol: "BTC-USD", Side: providers.Buy, Type: providers.Market, Quantity: 0.25})
		require.NoError(t, err)
		require.Equal(t, providers.OrderFilled, o.Status)
		require.Equal(t, 0.25, o.FilledQuantity)
		require.Equal(t, 6253.67, o.AvgPrice)
		got, err := c.GetOrder(ctx, o.ID)
		require.NoError(t, err)
		require.Equal(t, o.ID, got.ID)
		after, err := c.Account(ctx)
		require.NoError(t, err)
		require.Equal(t, balance(before, "BTC")+0.25, balance(after, "BTC"))
		require.Less(t, balance(after, "USD"), balance(before, "USD"))
	})
	t.Run("refused order", func(t *testing.T) {
		_, err := c.PlaceOrder(ctx, providers.OrderRequest{Symbol: "ETH-USD", Side: providers.Buy, Type: providers.Market, Quantity: 1})
		require.Error(t, err)
		var oe *coinbase.OrderError
		require.ErrorAs(t, err, &oe)
	})
	t.Run("revoked key", func(t *testing.T) {
		rc, err := coinbase.New(coinbase.Config{BaseURL: srv.BaseURL("coinbase"), KeyName: sandbox.RevokedKey, PrivateKey: sandbox.CoinbasePrivateKey}, fast()...)
		require.NoError(t, err)
		defer rc.Close()
		_, err = rc.Account(ctx)
		require.ErrorIs(t, err, providers.ErrUnauthorized)
	})
}

func balance(a providers.Account, currency string) float64 {
	for _, b := range a.Balances {
		if b.Currency == currency {
			return b.Available
		}
	}
	return 0
}

func TestYahooClient(t *testing.T) {
	srv := start(t)
	c, err := yahoo.New(yahoo.Config{BaseURL: srv.BaseURL("yahoo")}, fast()...)
	require.NoError(t, err)
	defer c.Close()
	ctx := t.Context()
	// Yahoo's period2 is exclusive: ask up to the next day.
	requireHistory(t, c, []span{
		{"AAPL", "2014-01-01", "2014-12-31"},
		{"SPY", "2008-09-01", "2008-11-30"},
		{"BTC-USD", "2018-01-01", "2018-03-31"},
		{"EUR_USD", "2016-06-01", "2016-07-31"},
	}, func(to time.Time) time.Time { return to.AddDate(0, 0, 1) })
	requireQuotes(t, srv, c, []string{"AAPL", "SPY", "BTC-USD", "EUR_USD"}, nil)
	t.Run("split event", func(t *testing.T) {
		ch, err := c.Chart(ctx, providers.BarQuery{Symbol: "AAPL", From: date("2014-06-01"), To: date("2014-06-30")})
		require.NoError(t, err)
		require.Len(t, ch.Splits, 1)
	})
	t.Run("unknown symbol", func(t *testing.T) {
		_, err := c.Bars(ctx, providers.BarQuery{Symbol: "MSFT", From: date("2014-06-01"), To: date("2014-06-30")})
		require.ErrorIs(t, err, providers.ErrNotFound)
	})
}

func TestPolygonClient(t *testing.T) {
	srv := start(t)
	c, err := polygon.New(polygon.Config{BaseURL: srv.BaseURL("polygon"), APIKey: sandbox.Key}, fast()...)
	require.NoError(t, err)
	defer c.Close()
	ctx := t.Context()
	requireHistory(t, c, []span{
		{"AAPL", "2015-01-01", "2015-12-31"},
		{"SPY", "1998-01-01", "2021-12-31"}, // the whole series
		{"BTC-USD", "2018-01-01", "2018-03-31"},
		{"EUR_USD", "2016-06-01", "2016-07-31"},
	}, nil)
	requireQuotes(t, srv, c, []string{"AAPL", "SPY", "BTC-USD", "EUR_USD"}, func(p float64) float64 { return roundTo(p, 6) })
	t.Run("revoked key", func(t *testing.T) {
		rc, err := polygon.New(polygon.Config{BaseURL: srv.BaseURL("polygon"), APIKey: sandbox.RevokedKey}, fast()...)
		require.NoError(t, err)
		defer rc.Close()
		_, err = rc.Bars(ctx, providers.BarQuery{Symbol: "AAPL", From: date("2015-01-01"), To: date("2015-02-01")})
		require.ErrorIs(t, err, providers.ErrUnauthorized)
	})
}

func roundTo(v float64, dec int) float64 {
	p := 1.0
	for range dec {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

func TestFinnhubClient(t *testing.T) {
	srv := start(t)
	c, err := finnhub.New(finnhub.Config{BaseURL: srv.BaseURL("finnhub"), APIKey: sandbox.Key}, fast()...)
	require.NoError(t, err)
	defer c.Close()
	ctx := t.Context()
	// Finnhub filters by timestamp: To is the end of its day.
	requireHistory(t, c, []span{
		{"AAPL", "2016-01-01", "2016-12-31"},
		{"SPY", "2021-01-01", "2021-03-31"},
		{"BTC-USD", "2018-01-01", "2018-03-31"},
		{"EUR_USD", "2016-06-01", "2016-07-31"},
	}, func(to time.Time) time.Time { return to.Add(24*time.Hour - time.Second) })
	requireQuotes(t, srv, c, []string{"AAPL", "SPY"}, nil)
	t.Run("revoked key", func(t *testing.T) {
		rc, err := finnhub.New(finnhub.Config{BaseURL: srv.BaseURL("finnhub"), APIKey: sandbox.RevokedKey}, fast()...)
		require.NoError(t, err)
		defer rc.Close()
		_, err = rc.Quote(ctx, "AAPL")
		require.ErrorIs(t, err, providers.ErrUnauthorized)
	})
}

func TestRedditClient(t *testing.T) {
	srv := start(t)
	c, err := reddit.New(reddit.Config{BaseURL: srv.BaseURL("reddit"), AuthURL: srv.BaseURL("reddit-www"),
		ClientID: sandbox.Key, ClientSecret: "secret"}, fast()...)
	require.NoError(t, err)
	defer c.Close()
	ctx := t.Context()
	t.Run("new, paginated", func(t *testing.T) {
		posts, err := c.Posts(ctx, providers.PostQuery{Subreddit: "askreddit", Limit: 150})
		require.NoError(t, err)
		require.Len(t, posts, 100, "the recording holds 100 posts")
		require.Equal(t, "48fbm9", posts[0].ID)
	})
	t.Run("finance", func(t *testing.T) {
		posts, err := c.Posts(ctx, providers.PostQuery{Subreddit: "stocks+investing", Limit: 200})
		require.NoError(t, err)
		require.Len(t, posts, 120)
		for _, p := range posts {
			require.NotEmpty(t, p.Title)
			require.False(t, p.Created.IsZero())
		}
	})
	t.Run("search", func(t *testing.T) {
		posts, err := c.Posts(ctx, providers.PostQuery{Subreddit: "CryptoCurrency", Search: "BTC", Limit: 10})
		require.NoError(t, err)
		require.Len(t, posts, 10)
		for _, p := range posts {
			require.Contains(t, p.Title+" "+p.Body, "BTC")
		}
	})
	t.Run("revoked client", func(t *testing.T) {
		rc, err := reddit.New(reddit.Config{BaseURL: srv.BaseURL("reddit"), AuthURL: srv.BaseURL("reddit-www"),
			ClientID: sandbox.RevokedKey, ClientSecret: "secret"}, fast()...)
		require.NoError(t, err)
		defer rc.Close()
		_, err = rc.Posts(ctx, providers.PostQuery{Subreddit: "stocks"})
		require.ErrorIs(t, err, providers.ErrUnauthorized)
	})
}

func TestOandaClient(t *testing.T) {
	srv := start(t)
	c, err := oanda.New(oanda.Config{BaseURL: srv.BaseURL("oanda"), Token: sandbox.Key, AccountID: sandbox.OandaAccountID}, fast()...)
	require.NoError(t, err)
	defer c.Close()
	ctx := t.Context()
	t.Run("bars", func(t *testing.T) {
		got, err := c.Bars(ctx, providers.BarQuery{Symbol: "EUR_USD", Interval: providers.Day, From: date("2016-01-01"), To: date("2016-12-31")})
		require.NoError(t, err)
		requireBars(t, history(t, "EUR_USD", "2016-01-01", "2016-12-31"), got)
	})
	t.Run("bars over several requests", func(t *testing.T) {
		got, err := c.Bars(ctx, providers.BarQuery{Symbol: "EUR_USD", Interval: providers.Day, From: date("2007-01-01"), To: date("2018-12-31")})
		require.NoError(t, err)
		requireBars(t, history(t, "EUR_USD", "2007-01-01", "2018-12-31"), got)
	})
	t.Run("quote", func(t *testing.T) {
		q, err := c.Quote(ctx, "EUR_USD")
		require.NoError(t, err)
		require.Equal(t, 1.14607, q.Bid)
		require.Equal(t, 1.14707, q.Ask)
		require.InDelta(t, current(t, srv, "EUR_USD").Close, q.Price, 1e-9)
	})
	t.Run("latest candles", func(t *testing.T) {
		_, err := c.LatestCandles(ctx, "EUR_USD:D:M")
		require.NoError(t, err)
	})
	t.Run("account, order, account", func(t *testing.T) {
		before, err := c.Account(ctx)
		require.NoError(t, err)
		require.Equal(t, 100000.0, before.Balance)
		o, err := c.PlaceOrder(ctx, providers.OrderRequest{Symbol: "EUR_USD", Side: providers.Buy, Type: providers.Market, Quantity: 1000})
		require.NoError(t, err)
		require.Equal(t, providers.OrderFilled, o.Status)
		require.Equal(t, 1000.0, o.FilledQuantity)
		require.Equal(t, 1.14707, o.AvgPrice)
		after, err := c.Account(ctx)
		require.NoError(t, err)
		require.Less(t, after.UnrealizedPL, 0.0, "bought at the ask, valued at the bid")
		require.Greater(t, after.MarginUsed, 0.0)
	})
	t.Run("refused order", func(t *testing.T) {
		o, err := c.PlaceOrder(ctx, providers.OrderRequest{Symbol: "GBP_USD", Side: providers.Buy, Type: providers.Market, Quantity: 10})
		require.Error(t, err)
		require.Equal(t, providers.OrderRejected, o.Status)
	})
	t.Run("revoked token", func(t *testing.T) {
		rc, err := oanda.New(oanda.Config{BaseURL: srv.BaseURL("oanda"), Token: sandbox.RevokedKey, AccountID: sandbox.OandaAccountID}, fast()...)
		require.NoError(t, err)
		defer rc.Close()
		_, err = rc.Account(ctx)
		require.ErrorIs(t, err, providers.ErrUnauthorized)
	})
}

func TestLLMClient(t *testing.T) {
	srv := start(t)
	c, err := llm.New(llm.Config{BaseURL: srv.BaseURL("llm"), APIKey: sandbox.Key, MaxAttempts: 1}, fast()...)
	require.NoError(t, err)
	defer c.Close()
	ctx := t.Context()
	msgs := []llm.Message{{Role: "system", Content: "You are a careful analyst."}, {Role: "user", Content: "Compare AAPL with BTC-USD."}}
	got, err := c.Complete(ctx, msgs)
	require.NoError(t, err)
	require.Equal(t, "stop", got.FinishReason)
	require.True(t, strings.HasPrefix(got.Content, "AAPL: last close 178.460007"), got.Content)
	require.Contains(t, got.Content, "BTC-USD: last close 6253.67")
	require.Positive(t, got.Usage.TotalTokens)
	again, err := c.Complete(ctx, msgs)
	require.NoError(t, err)
	require.Equal(t, got, again, "deterministic")

	rc, err := llm.New(llm.Config{BaseURL: srv.BaseURL("llm"), APIKey: sandbox.RevokedKey, MaxAttempts: 1}, fast()...)
	require.NoError(t, err)
	defer rc.Close()
	_, err = rc.Complete(ctx, msgs)
	require.ErrorIs(t, err, providers.ErrUnauthorized)
}

// A price monitor polling through a client sees the replayed bars one by
// one.
func TestReplayThroughClients(t *testing.T) {
	srv := start(t, sandbox.WithReplay(date("2017-01-03"), sandbox.StepPerQuote))
	fc, err := finnhub.New(finnhub.Config{BaseURL: srv.BaseURL("finnhub"), APIKey: sandbox.Key}, fast()...)
	require.NoError(t, err)
	defer fc.Close()
	yc, err := yahoo.New(yahoo.Config{BaseURL: srv.BaseURL("yahoo")}, fast()...)
	require.NoError(t, err)
	defer yc.Close()
	want := history(t, "AAPL", "2017-01-03", "2017-01-31")
	for i := range 6 {
		var q providers.Quote
		if i%2 == 0 {
			q, err = fc.Quote(t.Context(), "AAPL")
		} else {
			q, err = yc.Quote(t.Context(), "AAPL")
		}
		require.NoError(t, err)
		require.Equal(t, want[i].Close, q.Price, "poll %d", i)
	}
	// Bars stop at the clock's date.
	bars, err := fc.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: date("2016-12-01"), To: date("2017-12-31")})
	require.NoError(t, err)
	require.Equal(t, want[6].Time.Format(time.DateOnly), bars[len(bars)-1].Time.UTC().Format(time.DateOnly))
}

// The embedded mode: a client over the in-process Transport, no socket.
func TestClientOverTransport(t *testing.T) {
	h := sandbox.New()
	c, err := yahoo.New(yahoo.Config{BaseURL: "http://sandbox/yahoo"}, append(fast(), providers.WithTransport(h.Transport()))...)
	require.NoError(t, err)
	defer c.Close()
	got, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: date("2017-01-01"), To: date("2018-01-01")})
	require.NoError(t, err)
	requireBars(t, history(t, "AAPL", "2017-01-01", "2017-12-31"), got)
	require.Equal(t, int64(1), h.Stats()["yahoo"].ByStatus[200])
}

// Faults reach the clients as the typed errors they promise.
func TestClientsUnderFaults(t *testing.T) {
	srv := start(t, sandbox.WithFaultHeader())
	hdr := func(v string) providers.Option {
		return providers.WithTransport(headerTransport{v, http.DefaultTransport})
	}
	tests := []struct {
		fault string
		want  error
	}{
		{"429", providers.ErrRateLimited},
		{"500", providers.ErrUpstream},
		{"502", providers.ErrUpstream},
		{"malformed", providers.ErrDecode},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			c, err := finnhub.New(finnhub.Config{BaseURL: srv.BaseURL("finnhub"), APIKey: sandbox.Key}, append(fast(), hdr(tt.fault))...)
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Quote(t.Context(), "AAPL")
			require.ErrorIs(t, err, tt.want)
		})
	}
	t.Run("slow", func(t *testing.T) {
		c, err := finnhub.New(finnhub.Config{BaseURL: srv.BaseURL("finnhub"), APIKey: sandbox.Key},
			append(fast(), hdr("slow"), providers.WithTimeout(60*time.Millisecond))...)
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: date("2016-01-01"), To: date("2016-12-31")})
		require.ErrorIs(t, err, providers.ErrTimeout)
	})
	t.Run("reset", func(t *testing.T) {
		c, err := finnhub.New(finnhub.Config{BaseURL: srv.BaseURL("finnhub"), APIKey: sandbox.Key}, append(fast(), hdr("reset"))...)
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Quote(t.Context(), "AAPL")
		require.ErrorIs(t, err, providers.ErrUpstream)
	})
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

// headerTransport adds the fault header to every request.
type headerTransport struct {
	fault string
	next  http.RoundTripper
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(sandbox.FaultHeader, h.fault)
	return h.next.RoundTrip(r)
}
