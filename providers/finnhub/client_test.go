package finnhub_test

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/finnhub"
	"github.com/leakgate/leakgate/providers/internal/providertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testKey = "fh-test-key-0123456789"

const (
	stockFixture = "stock_candle_AAPL_D_docexample.json"
	forexFixture = "forex_candle_docexample.json"
	quoteFixture = "quote_docexample_2020.json"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	return providertest.Fixture(t, "finnhub", name)
}

// Values read from the fixtures.
var (
	stockFirst = providers.Bar{Time: time.Unix(1569297600, 0).UTC(), Open: 221.03, High: 222.49, Low: 217.19, Close: 217.68, Volume: 33463820}
	stockMid   = providers.Bar{Time: time.Unix(1569384000, 0).UTC(), Open: 218.55, High: 221.5, Low: 217.1402, Close: 221.03, Volume: 24018876}
	stockLast  = providers.Bar{Time: time.Unix(1569470400, 0).UTC(), Open: 220, High: 220.94, Low: 218.83, Close: 219.89, Volume: 20730608}
	forexFirst = providers.Bar{Time: time.Unix(1568667600, 0).UTC(), Open: 1.0996, High: 1.1074, Low: 1.09897, Close: 1.10713, Volume: 75789}
	forexLast  = providers.Bar{Time: time.Unix(1568926800, 0).UTC(), Open: 1.10398, High: 1.10595, Low: 1.10101, Close: 1.10182, Volume: 5138}
)

// step and ok shorten the scripted answers of the tables below.
type step = providertest.Step

var ok = providertest.OK

type mock struct {
	mt   *httpmock.MockTransport
	base string
}

// on registers steps for GET requests to path (after the base URL).
func (m *mock) on(path string, steps ...step) *providertest.Recorder {
	return providertest.OnGet(m.mt, m.base+path, steps...)
}

func newMock(t *testing.T, cfg finnhub.Config, opts ...providers.Option) (*finnhub.Client, *mock) {
	t.Helper()
	m := &mock{mt: httpmock.NewMockTransport(), base: cmp.Or(cfg.BaseURL, finnhub.DefaultBaseURL)}
	cfg.APIKey = cmp.Or(cfg.APIKey, testKey)
	c, err := finnhub.New(cfg, providertest.MockOptions(m.mt, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, m
}

func requireAuth(t *testing.T, req *http.Request) {
	t.Helper()
	require.Equal(t, testKey, req.Header.Get("X-Finnhub-Token"))
	require.NotContains(t, req.URL.String(), testKey, "the key travels in a header, never in the URL")
}

func TestBars(t *testing.T) {
	from, to := time.Date(2019, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2019, 10, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		cfg         finnhub.Config
		q           providers.BarQuery
		path        string
		fixture     string
		wantSymbol  string
		wantRes     string
		wantN       int
		first, last providers.Bar
	}{
		{name: "stock daily", q: providers.BarQuery{Symbol: "aapl", Interval: providers.Day, From: from, To: to},
			path: "/api/v1/stock/candle", fixture: stockFixture, wantSymbol: "AAPL", wantRes: "D", wantN: 3, first: stockFirst, last: stockLast},
		{name: "forex daily", q: providers.BarQuery{Symbol: "EUR/USD", From: from, To: to},
			path: "/api/v1/forex/candle", fixture: forexFixture, wantSymbol: "OANDA:EUR_USD", wantRes: "D", wantN: 4, first: forexFirst, last: forexLast},
		{name: "forex hourly, other exchange", cfg: finnhub.Config{ForexExchange: "FXCM"}, q: providers.BarQuery{Symbol: "EUR_USD", Interval: providers.Hour, From: from, To: to},
			path: "/api/v1/forex/candle", fixture: forexFixture, wantSymbol: "FXCM:EUR_USD", wantRes: "60", wantN: 4, first: forexFirst, last: forexLast},
		{name: "crypto daily", q: providers.BarQuery{Symbol: "btc-usd", From: from, To: to},
			path: "/api/v1/crypto/candle", fixture: stockFixture, wantSymbol: "COINBASE:BTC-USD", wantRes: "D", wantN: 3, first: stockFirst, last: stockLast},
		{name: "stock weekly", q: providers.BarQuery{Symbol: "AAPL", Interval: providers.Week, From: from, To: to},
			path: "/api/v1/stock/candle", fixture: stockFixture, wantSymbol: "AAPL", wantRes: "W", wantN: 3, first: stockFirst, last: stockLast},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, m := newMock(t, tt.cfg)
			r := m.on(tt.path, ok(fixture(t, tt.fixture)))
			bars, err := c.Bars(t.Context(), tt.q)
			require.NoError(t, err)
			require.Len(t, bars, tt.wantN)
			require.Equal(t, tt.first, bars[0])
			require.Equal(t, tt.last, bars[len(bars)-1])
			q := r.Request(0).URL.Query()
			require.Equal(t, tt.wantSymbol, q.Get("symbol"))
			require.Equal(t, tt.wantRes, q.Get("resolution"))
			require.Equal(t, strconv.FormatInt(from.Unix(), 10), q.Get("from"))
			require.Equal(t, strconv.FormatInt(to.Unix(), 10), q.Get("to"))
			requireAuth(t, r.Request(0))
		})
	}
}

func TestBarsRangeIsExact(t *testing.T) {
	c, m := newMock(t, finnhub.Config{})
	m.on("/api/v1/stock/candle", ok(fixture(t, stockFixture)))
	// From is the second candle's time: the first is out, the second in.
	bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: time.Unix(1569384000, 0), To: time.Unix(1569470400, 0)})
	require.NoError(t, err)
	require.Equal(t, []providers.Bar{stockMid, stockLast}, bars)
	_, err = c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: time.Unix(1569470401, 0), To: time.Unix(1569480000, 0)})
	require.ErrorIs(t, err, providers.ErrNoData)
}

func TestQuote(t *testing.T) {
	// The current shape adds d, dp and t; these bodies carry the 2020
	// fixture's values (d = c - pc, dp in percent).
	tests := []struct {
		name string
		body []byte
		want providers.Quote
	}{
		{name: "2020 shape", body: fixture(t, quoteFixture),
			want: providers.Quote{Symbol: "AAPL", Class: providers.Equity, Price: 261.74, High: 263.31, Low: 260.68, Open: 261.07, PrevClose: 259.45, Provider: "finnhub"}},
		{name: "current shape", body: []byte(`{"c":261.74,"d":2.29,"dp":0.8826,"h":263.31,"l":260.68,"o":261.07,"pc":259.45,"t":1582641000}`),
			want: providers.Quote{Symbol: "AAPL", Class: providers.Equity, Price: 261.74, High: 263.31, Low: 260.68, Open: 261.07, PrevClose: 259.45,
				Time: time.Unix(1582641000, 0).UTC(), Provider: "finnhub"}},
		{name: "null change", body: []byte(`{"c":261.74,"d":null,"dp":null,"h":263.31,"l":260.68,"o":261.07,"pc":259.45,"t":1582641000}`),
			want: providers.Quote{Symbol: "AAPL", Class: providers.Equity, Price: 261.74, High: 263.31, Low: 260.68, Open: 261.07, PrevClose: 259.45,
				Time: time.Unix(1582641000, 0).UTC(), Provider: "finnhub"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, m := newMock(t, finnhub.Config{})
			r := m.on("/api/v1/quote", ok(tt.body))
			got, err := c.Quote(t.Context(), "aapl")
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, "AAPL", r.Request(0).URL.Query().Get("symbol"))
			requireAuth(t, r.Request(0))
		})
	}
}

// Error bodies: accessBody is the 403 quoted in
// testdata/upstream/SOURCES.md; no 429 or 401 body was captured anywhere,
// so limitBody and badKeyBody are illustrative {"error": …} answers.
const (
	accessBody  = `{"error":"You don't have access to this resource."}`
	limitBody   = `{"error":"API limit reached. Please try again later. Remaining Limit: 0"}`
	badKeyBody  = `{"error":"Invalid API key"}`
	noDataBody  = `{"s":"no_data"}`
	zeroesQuote = `{"c":0,"d":null,"dp":null,"h":0,"l":0,"o":0,"pc":0,"t":0}`
	notUTF8HTML = "<000\xbc0000000<title>" // once made the title search slice past the end
	htmlBody    = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"
)

const (
	candlePath = "/api/v1/stock/candle"
	quotePath  = "/api/v1/quote"
)

// getBars and getQuote are the calls TestErrors makes.
func getBars(ctx context.Context, c *finnhub.Client) error {
	_, err := c.Bars(ctx, providers.BarQuery{Symbol: "AAPL"})
	return err
}

func getQuote(ctx context.Context, c *finnhub.Client) error {
	_, err := c.Quote(ctx, "ZZZZ")
	return err
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		path       string // the route the call asks
		call       func(context.Context, *finnhub.Client) error
		steps      []step
		wantErr    error
		wantCalls  int
		wantMsg    string
		wantStatus int // 0: not a *providers.StatusError
	}{
		{name: "403 premium candles", path: candlePath, call: getBars, steps: []step{{Status: 403, Body: []byte(accessBody)}},
			wantErr: providers.ErrUnauthorized, wantCalls: 1, wantMsg: "You don't have access to this resource.", wantStatus: 403},
		{name: "401 bad key", path: candlePath, call: getBars, steps: []step{{Status: 401, Body: []byte(badKeyBody)}},
			wantErr: providers.ErrUnauthorized, wantCalls: 1, wantMsg: "Invalid API key", wantStatus: 401},
		{name: "429 retried", path: candlePath, call: getBars, steps: []step{{Status: 429, Body: []byte(limitBody)}},
			wantErr: providers.ErrRateLimited, wantCalls: 3, wantMsg: "API limit reached", wantStatus: 429},
		{name: "200 with error", path: candlePath, call: getBars, steps: []step{ok([]byte(accessBody))},
			wantErr: providers.ErrUnauthorized, wantCalls: 1, wantMsg: "access", wantStatus: 200},
		{name: "no_data", path: candlePath, call: getBars, steps: []step{ok([]byte(noDataBody))}, wantErr: providers.ErrNoData, wantCalls: 1, wantMsg: "the range holds no candles"},
		{name: "unknown symbol quote", path: quotePath, call: getQuote, steps: []step{ok([]byte(zeroesQuote))}, wantErr: providers.ErrNotFound, wantCalls: 1, wantMsg: "all zeros"},
		{name: "malformed JSON", path: candlePath, call: getBars, steps: []step{ok([]byte(`{"c":[217.68,221.03],"h":[`))}, wantErr: providers.ErrDecode, wantCalls: 1, wantMsg: "finnhub: decode"},
		{name: "ragged arrays", path: candlePath, call: getBars, steps: []step{ok([]byte(`{"c":[1,2],"h":[1,2],"l":[1,2],"o":[1],"t":[1569297600,1569384000],"s":"ok"}`))},
			wantErr: providers.ErrDecode, wantCalls: 1, wantMsg: "decode o: 1 values for 2 times"},
		{name: "string price", path: candlePath, call: getBars, steps: []step{ok([]byte(`{"c":["1"],"h":[1],"l":[1],"o":[1],"t":[1569297600],"s":"ok"}`))},
			wantErr: providers.ErrDecode, wantCalls: 1, wantMsg: "c[0]"},
		{name: "quote missing price", path: quotePath, call: getQuote, steps: []step{ok([]byte(`{"h":1,"l":1,"o":1,"pc":1}`))}, wantErr: providers.ErrDecode, wantCalls: 1, wantMsg: "decode c"},
		{name: "HTML 502 retried", path: candlePath, call: getBars, steps: []step{{Status: 502, Body: []byte(htmlBody)}},
			wantErr: providers.ErrUpstream, wantCalls: 3, wantMsg: "HTML page: 502 Bad Gateway", wantStatus: 502},
		{name: "HTML with 200", path: candlePath, call: getBars, steps: []step{ok([]byte(htmlBody))}, wantErr: providers.ErrUpstream, wantCalls: 1, wantMsg: "HTML page", wantStatus: 200},
		{name: "HTML not UTF-8 (fuzz regression)", path: candlePath, call: getBars, steps: []step{{Status: 502, Body: []byte(notUTF8HTML)}},
			wantErr: providers.ErrUpstream, wantCalls: 3, wantMsg: "HTML page", wantStatus: 502},
		{name: "empty body", path: candlePath, call: getBars, steps: []step{ok(nil)}, wantErr: providers.ErrDecode, wantCalls: 1, wantMsg: "finnhub: decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, m := newMock(t, finnhub.Config{})
			r := m.on(tt.path, tt.steps...)
			err := tt.call(t.Context(), c)
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorContains(t, err, tt.wantMsg)
			require.Equal(t, tt.wantCalls, r.Len())
			require.NotContains(t, err.Error(), testKey)
			providertest.RequireStatus(t, err, "finnhub", tt.wantStatus)
		})
	}
}

func TestRetriesThenSuccess(t *testing.T) {
	c, m := newMock(t, finnhub.Config{})
	r := m.on("/api/v1/stock/candle", step{Status: 429, Body: []byte(limitBody)}, step{Status: 503, Body: []byte(htmlBody)}, ok(fixture(t, stockFixture)))
	bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: time.Unix(1569297600, 0), To: time.Unix(1569470400, 0)})
	require.NoError(t, err)
	require.Equal(t, []providers.Bar{stockFirst, stockMid, stockLast}, bars)
	require.Equal(t, 3, r.Len())
}

func TestRetryAfterHonoured(t *testing.T) {
	c, m := newMock(t, finnhub.Config{})
	r := m.on("/api/v1/quote", step{Status: 429, Body: []byte(limitBody), Header: http.Header{"Retry-After": {"1"}}}, ok(fixture(t, quoteFixture)))
	q, err := c.Quote(t.Context(), "AAPL")
	require.NoError(t, err)
	require.Equal(t, 261.74, q.Price)
	require.Equal(t, 2, r.Len())
	at := r.Times()
	require.GreaterOrEqual(t, at[1].Sub(at[0]), time.Second)
}

func TestTimeout(t *testing.T) {
	c, m := newMock(t, finnhub.Config{}, providers.WithTimeout(30*time.Millisecond), providers.WithRetry(2, time.Millisecond, time.Millisecond))
	r := m.on("/api/v1/quote", step{Status: 200, Delay: 5 * time.Second})
	_, err := c.Quote(t.Context(), "AAPL")
	require.ErrorIs(t, err, providers.ErrTimeout)
	require.Equal(t, 2, r.Len())
}

func TestUnsupported(t *testing.T) {
	c, m := newMock(t, finnhub.Config{})
	r := m.on("/api/v1/stock/candle", ok(fixture(t, stockFixture)))
	_, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", Interval: "2h"})
	require.ErrorIs(t, err, providers.ErrUnsupported)
	_, err = c.Quote(t.Context(), "EUR_USD")
	require.ErrorIs(t, err, providers.ErrUnsupported)
	_, err = c.Bars(t.Context(), providers.BarQuery{Symbol: "??"})
	require.ErrorIs(t, err, providers.ErrBadSymbol)
	require.NoError(t, c.Close())
	_, err = c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL"})
	require.ErrorIs(t, err, providers.ErrClosed)
	require.Equal(t, 0, r.Len())
}

func TestBaseURLPrefix(t *testing.T) {
	c, m := newMock(t, finnhub.Config{BaseURL: "http://sandbox.test/finnhub"})
	r := m.on("/api/v1/quote", ok(fixture(t, quoteFixture)))
	_, err := c.Quote(t.Context(), "AAPL")
	require.NoError(t, err)
	require.Equal(t, "/finnhub/api/v1/quote", r.Request(0).URL.Path)
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     finnhub.Config
		wantMsg string
	}{
		{name: "no key", wantMsg: "APIKey is required"},
		{name: "key with tab", cfg: finnhub.Config{APIKey: "a\tb"}, wantMsg: "white space"},
		{name: "bad forex exchange", cfg: finnhub.Config{APIKey: "k", ForexExchange: "OANDA:"}, wantMsg: "ForexExchange"},
		{name: "bad crypto exchange", cfg: finnhub.Config{APIKey: "k", CryptoExchange: "COIN BASE"}, wantMsg: "CryptoExchange"},
		{name: "bad base URL", cfg: finnhub.Config{APIKey: "k", BaseURL: "finnhub.io"}, wantMsg: "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := finnhub.New(tt.cfg)
			require.ErrorContains(t, err, tt.wantMsg)
		})
	}
}

// fixtureHandler serves the recorded answers on the real paths under
// /finnhub, checking the token header.
func fixtureHandler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	serve := func(pattern, name string) {
		body := fixture(t, name)
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Finnhub-Token") != testKey {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, badKeyBody)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		})
	}
	serve("GET /finnhub/api/v1/stock/candle", stockFixture)
	serve("GET /finnhub/api/v1/forex/candle", forexFixture)
	serve("GET /finnhub/api/v1/quote", quoteFixture)
	return mux
}

func TestCloseReleasesEverything(t *testing.T) {
	providertest.CheckClose(t, fixtureHandler(t), func(base string) (io.Closer, error) {
		return finnhub.New(finnhub.Config{BaseURL: base + "/finnhub", APIKey: testKey}, providers.WithRateLimit(rate.Inf, 1))
	}, func(cl io.Closer) {
		c := cl.(*finnhub.Client)
		ctx := t.Context()
		from, to := time.Date(2019, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2019, 10, 1, 0, 0, 0, 0, time.UTC)
		for _, sym := range []string{"AAPL", "EUR_USD"} {
			bars, err := c.Bars(ctx, providers.BarQuery{Symbol: sym, From: from, To: to})
			require.NoError(t, err, sym)
			require.NotEmpty(t, bars)
		}
		_, err := c.Quote(ctx, "AAPL")
		require.NoError(t, err)
	})
}

func TestUnclosedTracker(t *testing.T) {
	srv := providertest.NewServer(t, fixtureHandler(t))
	providertest.CheckUnclosedTracker(t, "finnhub", func(l *slog.Logger) (io.Closer, error) {
		c, err := finnhub.New(finnhub.Config{BaseURL: srv.URL + "/finnhub", APIKey: testKey},
			providers.WithLogger(l), providers.WithRateLimit(rate.Inf, 1))
		if err != nil {
			return nil, err
		}
		_, err = c.Quote(context.Background(), "AAPL")
		return c, err
	})
	srv.RequireNoOpenConns(t)
}

// TestLive calls the real API; it runs only when FINNHUB_API_KEY is set.
func TestLive(t *testing.T) {
	key := providertest.EnvOrSkip(t, "FINNHUB_API_KEY")[0]
	c, err := finnhub.New(finnhub.Config{APIKey: key})
	require.NoError(t, err)
	defer c.Close()
	q, err := c.Quote(t.Context(), "AAPL")
	require.NoError(t, err)
	require.Positive(t, q.Price)
}
