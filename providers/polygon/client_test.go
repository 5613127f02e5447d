package polygon_test

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/polygon"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testKey = "pg-test-key-0123456789"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	return providertest.Fixture(t, "polygon", name)
}

const aggsFixture = "v2_aggs_ticker_AAPL_range_1_day_2005-04-01_2005-04-04.json"

// The two bars of aggsFixture, read from the file: t 1112331600000 and
// 1112587200000 (midnight in New York, before and after the switch to
// daylight saving time).
var (
	aggsFirst = providers.Bar{Time: time.Date(2005, 4, 1, 5, 0, 0, 0, time.UTC), Open: 1.5032, High: 1.5064, Low: 1.4489, Close: 1.4604, Volume: 642646396}
	aggsLast  = providers.Bar{Time: time.Date(2005, 4, 4, 4, 0, 0, 0, time.UTC), Open: 1.4639, High: 1.4754, Low: 1.4343, Close: 1.4675, Volume: 578172308}
)

// step and ok shorten the scripted answers of the tables below.
type step = providertest.Step

var ok = providertest.OK

type mock struct {
	mt   *httpmock.MockTransport
	base string
}

// on registers steps for GET requests whose path (after the base URL)
// matches pattern.
func (m *mock) on(pattern string, steps ...step) *providertest.Recorder {
	return providertest.OnGet(m.mt, "=~^"+regexp.QuoteMeta(m.base)+pattern+`(\?|$)`, steps...)
}

func newMock(t *testing.T, cfg polygon.Config, opts ...providers.Option) (*polygon.Client, *mock) {
	t.Helper()
	m := &mock{mt: httpmock.NewMockTransport(), base: cmp.Or(cfg.BaseURL, polygon.DefaultBaseURL)}
	cfg.APIKey = cmp.Or(cfg.APIKey, testKey)
	c, err := polygon.New(cfg, providertest.MockOptions(m.mt, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, m
}

func requireAuth(t *testing.T, req *http.Request) {
	t.Helper()
	require.Equal(t, "Bearer "+testKey, req.Header.Get("Authorization"))
	require.NotContains(t, req.URL.String(), testKey, "the key travels in a header, never in the URL")
}

func TestBars(t *testing.T) {
	tests := []struct {
		name     string
		q        providers.BarQuery
		cfg      polygon.Config
		wantPath string
		wantAdj  string
	}{
		{name: "equity daily", q: providers.BarQuery{Symbol: "AAPL", Interval: providers.Day, From: day(2005, 4, 1), To: day(2005, 4, 4)},
			wantPath: "/v2/aggs/ticker/AAPL/range/1/day/2005-04-01/2005-04-04", wantAdj: "true"},
		{name: "crypto ticker", q: providers.BarQuery{Symbol: "btc-usd", From: day(2005, 4, 1), To: day(2005, 4, 4)},
			wantPath: "/v2/aggs/ticker/X:BTCUSD/range/1/day/2005-04-01/2005-04-04", wantAdj: "true"},
		{name: "forex ticker, unadjusted", q: providers.BarQuery{Symbol: "EUR/USD", From: day(2005, 4, 1), To: day(2005, 4, 4)},
			cfg: polygon.Config{Unadjusted: true}, wantPath: "/v2/aggs/ticker/C:EURUSD/range/1/day/2005-04-01/2005-04-04", wantAdj: "false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, m := newMock(t, tt.cfg)
			r := m.on(`/v2/aggs/ticker/.*`, ok(fixture(t, aggsFixture)))
			bars, err := c.Bars(t.Context(), tt.q)
			require.NoError(t, err)
			require.Equal(t, []providers.Bar{aggsFirst, aggsLast}, bars)
			req := r.Request(0)
			require.Equal(t, tt.wantPath, req.URL.Path)
			require.Equal(t, tt.wantAdj, req.URL.Query().Get("adjusted"))
			require.Equal(t, "asc", req.URL.Query().Get("sort"))
			require.Equal(t, "50000", req.URL.Query().Get("limit"))
			requireAuth(t, req)
		})
	}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestBarsIntervalsAndRange(t *testing.T) {
	c, m := newMock(t, polygon.Config{})
	r := m.on(`/v2/aggs/ticker/.*`, ok(fixture(t, aggsFixture)))
	// The daily range is whole dates: the bar at 04:00 UTC on To's date is in.
	bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: day(2005, 4, 2), To: day(2005, 4, 4)})
	require.NoError(t, err)
	require.Equal(t, []providers.Bar{aggsLast}, bars)

	_, err = c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", Interval: providers.Hour, From: day(2005, 4, 1), To: day(2005, 4, 5)})
	require.NoError(t, err)
	require.Equal(t, "/v2/aggs/ticker/AAPL/range/1/hour/2005-04-01/2005-04-05", r.Request(1).URL.Path)

	_, err = c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", Interval: "3d"})
	require.ErrorIs(t, err, providers.ErrUnsupported)
	_, err = c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: day(2005, 4, 4), To: day(2005, 4, 1)})
	require.ErrorContains(t, err, "before")
	require.Equal(t, 2, r.Len())
}

// pages splits aggsFixture into two pages, the first pointing at the
// second with next_url.
func pages(t *testing.T, nextURL string) (page1, page2 []byte) {
	var doc map[string]any
	require.NoError(t, json.Unmarshal(fixture(t, aggsFixture), &doc))
	results := doc["results"].([]any)
	doc["results"], doc["next_url"] = results[:1], nextURL
	page1, err := json.Marshal(doc)
	require.NoError(t, err)
	delete(doc, "next_url")
	doc["results"] = results[1:]
	page2, err = json.Marshal(doc)
	require.NoError(t, err)
	return page1, page2
}

func TestBarsFollowsNextURL(t *testing.T) {
	tests := []struct {
		name     string
		base     string
		nextURL  string
		wantPath string
	}{
		{name: "real host", nextURL: "https://api.polygon.io/v2/aggs/ticker/AAPL/range/1/day/1112400000000/2005-04-04?cursor=bGltaXQ9MSZzb3J0PWFzYw",
			wantPath: "/v2/aggs/ticker/AAPL/range/1/day/1112400000000/2005-04-04"},
		{name: "sandbox prefix", base: "http://sandbox.test/polygon",
			nextURL:  "http://sandbox.test/polygon/v2/aggs/ticker/AAPL/range/1/day/1112400000000/2005-04-04?cursor=bGltaXQ9MSZzb3J0PWFzYw",
			wantPath: "/polygon/v2/aggs/ticker/AAPL/range/1/day/1112400000000/2005-04-04"},
		{name: "foreign host is not contacted", nextURL: "https://evil.example/v2/aggs/ticker/AAPL/range/1/day/1112400000000/2005-04-04?cursor=bGltaXQ9MSZzb3J0PWFzYw&apiKey=x",
			wantPath: "/v2/aggs/ticker/AAPL/range/1/day/1112400000000/2005-04-04"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, m := newMock(t, polygon.Config{BaseURL: tt.base})
			p1, p2 := pages(t, tt.nextURL)
			r := m.on(`/v2/aggs/ticker/.*`, ok(p1), ok(p2))
			bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: day(2005, 4, 1), To: day(2005, 4, 4)})
			require.NoError(t, err)
			require.Equal(t, []providers.Bar{aggsFirst, aggsLast}, bars)
			require.Equal(t, 2, r.Len())
			second := r.Request(1)
			require.Equal(t, tt.wantPath, second.URL.Path)
			require.Equal(t, "bGltaXQ9MSZzb3J0PWFzYw", second.URL.Query().Get("cursor"))
			require.Empty(t, second.URL.Query().Get("apiKey"))
			requireAuth(t, second)
		})
	}
}

func TestBarsPagesAreBounded(t *testing.T) {
	c, m := newMock(t, polygon.Config{MaxPages: 3})
	p1, _ := pages(t, "https://api.polygon.io/v2/aggs/ticker/AAPL/range/1/day/1112400000000/2005-04-04?cursor=loop")
	r := m.on(`/v2/aggs/ticker/.*`, ok(p1))
	_, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL"})
	require.ErrorIs(t, err, providers.ErrUnsupported)
	require.ErrorContains(t, err, "more than 3 pages")
	require.Equal(t, 3, r.Len())
}

// A next_url that cannot be parsed is a decode error that does not quote
// the URL, since a next_url may carry the key.
func TestBarsBadNextURLKeepsTheKeySecret(t *testing.T) {
	c, m := newMock(t, polygon.Config{})
	p1, _ := pages(t, "https://api.polygon.io/v2/aggs/ticker/AAPL/range/1/day/1112400000000/2005-04-04?apiKey="+testKey+"&cursor=\x7f")
	r := m.on(`/v2/aggs/ticker/.*`, ok(p1))
	_, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: day(2005, 4, 1), To: day(2005, 4, 4)})
	require.ErrorIs(t, err, providers.ErrDecode)
	require.ErrorContains(t, err, "next_url")
	require.NotContains(t, err.Error(), testKey)
	require.Equal(t, 1, r.Len())
}

func TestQuote(t *testing.T) {
	// forexBody has the shape of the documented sample of
	// /v1/last_quote/currencies/{from}/{to}; no recorded fixture holds one.
	const forexBody = `{"last":{"ask":1.0854,"bid":1.0852,"exchange":48,"timestamp":1605557756000},"request_id":"a73a29dbcab4613eeaf48583d3baacf0","status":"success","symbol":"EUR/USD"}`
	tests := []struct {
		name     string
		symbol   string
		pattern  string
		body     []byte
		wantPath string
		want     providers.Quote
	}{
		{name: "stock last trade", symbol: "aapl", pattern: `/v2/last/trade/.*`, body: fixture(t, "v2_last_trade_AAPL.json"),
			wantPath: "/v2/last/trade/AAPL",
			want: providers.Quote{Symbol: "AAPL", Class: providers.Equity, Price: 166.25,
				Time: time.Unix(0, 1651179319310617300).UTC(), Provider: "polygon"}},
		{name: "crypto last trade", symbol: "BTC-USD", pattern: `/v1/last/crypto/.*`, body: fixture(t, "v1_last_crypto_BTC_USD.json"),
			wantPath: "/v1/last/crypto/BTC/USD",
			want: providers.Quote{Symbol: "BTC-USD", Class: providers.Crypto, Price: 39976.89682331,
				Time: time.UnixMilli(1651180409688).UTC(), Provider: "polygon"}},
		{name: "forex last quote", symbol: "EUR_USD", pattern: `/v1/last_quote/currencies/.*`, body: []byte(forexBody),
			wantPath: "/v1/last_quote/currencies/EUR/USD",
			want: providers.Quote{Symbol: "EUR_USD", Class: providers.Forex, Price: (1.0852 + 1.0854) / 2, Bid: 1.0852, Ask: 1.0854,
				Time: time.UnixMilli(1605557756000).UTC(), Provider: "polygon"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, m := newMock(t, polygon.Config{})
			r := m.on(tt.pattern, ok(tt.body))
			got, err := c.Quote(t.Context(), tt.symbol)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantPath, r.Request(0).URL.Path)
			requireAuth(t, r.Request(0))
		})
	}
}

func TestLastTradeKeepsNanoseconds(t *testing.T) {
	tr, err := polygon.ParseLastTrade(fixture(t, "v2_last_trade_AAPL.json"))
	require.NoError(t, err)
	require.Equal(t, int64(1651179319310617300), tr.Time.UnixNano(), "beyond 2^53: must not pass through float64")
	require.Equal(t, polygon.Trade{Ticker: "AAPL", Price: 166.25, Size: 2, Exchange: 4, Time: tr.Time}, tr)
}

func TestQuoteFallsBackToPrevClose(t *testing.T) {
	c, m := newMock(t, polygon.Config{})
	last := m.on(`/v2/last/trade/.*`, step{Status: http.StatusForbidden, Body: fixture(t, "error_403_not_authorized.json")})
	prev := m.on(`/v2/aggs/ticker/AAPL/prev`, ok(fixture(t, "v2_aggs_ticker_AAPL_prev.json")))
	want := providers.Quote{Symbol: "AAPL", Class: providers.Equity, Price: 156.8, Open: 162.25, High: 162.34, Low: 156.72,
		Volume: 95595226, Time: time.UnixMilli(1651003200000).UTC(), Provider: "polygon"}
	for range 2 {
		got, err := c.Quote(t.Context(), "AAPL")
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	require.Equal(t, 1, last.Len(), "a plan without last trades is remembered")
	require.Equal(t, 2, prev.Len())
}

func TestQuoteFallsBackOnMissingRoute(t *testing.T) {
	// A server without the forex last-quote route answers 404: the previous
	// close is used for this call, and the route is tried again next time.
	c, m := newMock(t, polygon.Config{})
	last := m.on(`/v1/last_quote/currencies/EUR/USD`, step{Status: http.StatusNotFound, Body: []byte(`{"status":"NOT_FOUND","request_id":"4d5f6a1b2c3d4e5f","message":"Route not found."}`)})
	prev := m.on(`/v2/aggs/ticker/C:EURUSD/prev`, ok(fixture(t, "v2_aggs_ticker_AAPL_prev.json")))
	for range 2 {
		q, err := c.Quote(t.Context(), "EUR_USD")
		require.NoError(t, err)
		require.Equal(t, 156.8, q.Price)
		require.Equal(t, providers.Forex, q.Class)
	}
	require.Equal(t, 2, last.Len())
	require.Equal(t, 2, prev.Len())
}

func TestPrevCloseNBBOAndOpenClose(t *testing.T) {
	c, m := newMock(t, polygon.Config{})
	m.on(`/v2/aggs/ticker/AAPL/prev`, ok(fixture(t, "v2_aggs_ticker_AAPL_prev.json")))
	m.on(`/v2/last/nbbo/AAPL`, ok(fixture(t, "v2_last_nbbo_AAPL.json")))
	oc := m.on(`/v1/open-close/AAPL/2005-04-01`, ok(fixture(t, "v1_open-close_AAPL_2005-04-01.json")))

	b, err := c.PrevClose(t.Context(), "AAPL")
	require.NoError(t, err)
	require.Equal(t, providers.Bar{Time: time.UnixMilli(1651003200000).UTC(), Open: 162.25, High: 162.34, Low: 156.72, Close: 156.8, Volume: 95595226}, b)

	q, err := c.LastNBBO(t.Context(), "AAPL")
	require.NoError(t, err)
	require.Equal(t, polygon.NBBO{Ticker: "AAPL", Bid: 155.65, BidSize: 1, Ask: 155.66, AskSize: 14,
		Time: time.Unix(0, 1652192754171838500).UTC()}, q)

	got, err := c.DailyOpenClose(t.Context(), "AAPL", day(2005, 4, 1))
	require.NoError(t, err)
	// The recorded mock answers "from": "2021-04-01" for a 2005 request; the
	// body's date is what is reported.
	require.Equal(t, polygon.OpenClose{Symbol: "AAPL", PreMarket: 123.45, AfterHours: 123,
		Bar: providers.Bar{Time: day(2021, 4, 1), Open: 123.66, High: 124.18, Low: 122.49, Close: 123, Volume: 75089134}}, got)
	require.Equal(t, "true", oc.Request(0).URL.Query().Get("adjusted"))

	_, err = c.LastTrade(t.Context(), "EUR_USD")
	require.ErrorIs(t, err, providers.ErrUnsupported)
	_, err = c.LastNBBO(t.Context(), "BTC-USD")
	require.ErrorIs(t, err, providers.ErrUnsupported)
}

// Error bodies no recorded fixture holds, in the documented shape
// {"status","request_id","error"}; the 429 text is the one quoted in
// testdata/upstream/SOURCES.md.
const (
	unknownKeyBody = `{"status":"ERROR","request_id":"4d5f6a1b2c3d4e5f","error":"Unknown API Key"}`
	tooManyBody    = `{"status":"ERROR","request_id":"4d5f6a1b2c3d4e5f","error":"You've exceeded the maximum requests per minute, please wait or upgrade your subscription to continue."}`
	notFoundBody   = `{"status":"NOT_FOUND","request_id":"4d5f6a1b2c3d4e5f","message":"Data not found."}`
	emptyAggsBody  = `{"ticker":"AAPL","queryCount":0,"resultsCount":0,"adjusted":true,"status":"OK","request_id":"8f6450b5edbd1446ad0304023fad77ae","count":0}`
	notUTF8HTML    = "<000\xbc0000000<title>" // once made the title search slice past the end
	htmlBody       = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		steps      []step
		wantErr    error
		wantCalls  int
		wantMsg    string
		wantStatus int // 0: not a *providers.StatusError
	}{
		{name: "403 NOT_AUTHORIZED", steps: []step{{Status: 403, Body: fixture(t, "error_403_not_authorized.json")}},
			wantErr: providers.ErrUnauthorized, wantCalls: 1, wantMsg: "You are not entitled to this data", wantStatus: 403},
		{name: "401 unknown key", steps: []step{{Status: 401, Body: []byte(unknownKeyBody)}},
			wantErr: providers.ErrUnauthorized, wantCalls: 1, wantMsg: "Unknown API Key", wantStatus: 401},
		{name: "404 NOT_FOUND", steps: []step{{Status: 404, Body: []byte(notFoundBody)}},
			wantErr: providers.ErrNotFound, wantCalls: 1, wantMsg: "Data not found", wantStatus: 404},
		{name: "429 retried", steps: []step{{Status: 429, Body: []byte(tooManyBody)}},
			wantErr: providers.ErrRateLimited, wantCalls: 3, wantMsg: "maximum requests per minute", wantStatus: 429},
		{name: "200 with status ERROR", steps: []step{ok([]byte(unknownKeyBody))},
			wantErr: providers.ErrUpstream, wantCalls: 1, wantMsg: "Unknown API Key", wantStatus: 200},
		{name: "200 with NOT_AUTHORIZED", steps: []step{ok(fixture(t, "error_403_not_authorized.json"))},
			wantErr: providers.ErrUnauthorized, wantCalls: 1, wantMsg: "You are not entitled to this data", wantStatus: 200},
		{name: "malformed JSON", steps: []step{ok([]byte(`{"ticker":"AAPL","results":[{"o":1.5,"h":`))},
			wantErr: providers.ErrDecode, wantCalls: 1, wantMsg: "polygon: decode"},
		{name: "results not an array", steps: []step{ok([]byte(`{"status":"OK","results":{"o":1}}`))},
			wantErr: providers.ErrDecode, wantCalls: 1, wantMsg: "results"},
		{name: "missing close", steps: []step{ok([]byte(`{"status":"OK","results":[{"o":1,"h":1,"l":1,"v":1,"t":1112331600000}]}`))},
			wantErr: providers.ErrDecode, wantCalls: 1, wantMsg: "results[0].c"},
		{name: "string price", steps: []step{ok([]byte(`{"status":"OK","results":[{"o":"1","h":1,"l":1,"c":1,"v":1,"t":1112331600000}]}`))},
			wantErr: providers.ErrDecode, wantCalls: 1, wantMsg: "results[0].o"},
		{name: "empty results", steps: []step{ok([]byte(emptyAggsBody))}, wantErr: providers.ErrNoData, wantCalls: 1, wantMsg: "between 2005-04-01 and 2005-04-04"},
		{name: "HTML 502 retried", steps: []step{{Status: 502, Body: []byte(htmlBody)}},
			wantErr: providers.ErrUpstream, wantCalls: 3, wantMsg: "HTML page: 502 Bad Gateway", wantStatus: 502},
		{name: "HTML with 200", steps: []step{ok([]byte(htmlBody))}, wantErr: providers.ErrUpstream, wantCalls: 1, wantMsg: "HTML page", wantStatus: 200},
		{name: "HTML not UTF-8 (fuzz regression)", steps: []step{{Status: 502, Body: []byte(notUTF8HTML)}},
			wantErr: providers.ErrUpstream, wantCalls: 3, wantMsg: "HTML page", wantStatus: 502},
		{name: "empty body", steps: []step{ok(nil)}, wantErr: providers.ErrDecode, wantCalls: 1, wantMsg: "polygon: decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, m := newMock(t, polygon.Config{})
			r := m.on(`/v2/aggs/ticker/.*`, tt.steps...)
			_, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: day(2005, 4, 1), To: day(2005, 4, 4)})
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorContains(t, err, tt.wantMsg)
			require.Equal(t, tt.wantCalls, r.Len())
			require.NotContains(t, err.Error(), testKey)
			providertest.RequireStatus(t, err, "polygon", tt.wantStatus)
		})
	}
}

func TestRetriesThenSuccess(t *testing.T) {
	c, m := newMock(t, polygon.Config{})
	r := m.on(`/v2/aggs/ticker/.*`, step{Status: 503, Body: []byte(htmlBody)}, step{Status: 429, Body: []byte(tooManyBody)}, ok(fixture(t, aggsFixture)))
	bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: day(2005, 4, 1), To: day(2005, 4, 4)})
	require.NoError(t, err)
	require.Len(t, bars, 2)
	require.Equal(t, 3, r.Len())
}

func TestRetryAfterHonoured(t *testing.T) {
	c, m := newMock(t, polygon.Config{})
	r := m.on(`/v2/last/trade/AAPL`, step{Status: 429, Body: []byte(tooManyBody), Header: http.Header{"Retry-After": {"1"}}},
		ok(fixture(t, "v2_last_trade_AAPL.json")))
	q, err := c.Quote(t.Context(), "AAPL")
	require.NoError(t, err)
	require.Equal(t, 166.25, q.Price)
	require.Equal(t, 2, r.Len())
	at := r.Times()
	require.GreaterOrEqual(t, at[1].Sub(at[0]), time.Second)
}

func TestTimeout(t *testing.T) {
	c, m := newMock(t, polygon.Config{}, providers.WithTimeout(30*time.Millisecond), providers.WithRetry(2, time.Millisecond, time.Millisecond))
	r := m.on(`/v2/aggs/ticker/.*`, step{Status: 200, Delay: 5 * time.Second})
	_, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL"})
	require.ErrorIs(t, err, providers.ErrTimeout)
	require.Equal(t, 2, r.Len())
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     polygon.Config
		wantMsg string
	}{
		{name: "no key", wantMsg: "APIKey is required"},
		{name: "key with newline", cfg: polygon.Config{APIKey: "k\n"}, wantMsg: "white space"},
		{name: "negative pages", cfg: polygon.Config{APIKey: "k", MaxPages: -1}, wantMsg: "MaxPages"},
		{name: "bad base URL", cfg: polygon.Config{APIKey: "k", BaseURL: "api.polygon.io"}, wantMsg: "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := polygon.New(tt.cfg)
			require.ErrorContains(t, err, tt.wantMsg)
		})
	}
}

func TestBadSymbolAndClosed(t *testing.T) {
	c, m := newMock(t, polygon.Config{})
	r := m.on(`/.*`, ok(fixture(t, aggsFixture)))
	_, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "A B"})
	require.ErrorIs(t, err, providers.ErrBadSymbol)
	_, err = c.Quote(t.Context(), "")
	require.ErrorIs(t, err, providers.ErrBadSymbol)
	require.NoError(t, c.Close())
	_, err = c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL"})
	require.ErrorIs(t, err, providers.ErrClosed)
	require.Equal(t, 0, r.Len())
}

// fixtureHandler serves the recorded answers on the real paths under
// /polygon, checking the bearer key.
func fixtureHandler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	serve := func(pattern, name string) {
		body := fixture(t, name)
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+testKey {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, unknownKeyBody)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		})
	}
	serve("GET /polygon/v2/aggs/ticker/{t}/range/{m}/{s}/{from}/{to}", aggsFixture)
	serve("GET /polygon/v2/aggs/ticker/{t}/prev", "v2_aggs_ticker_AAPL_prev.json")
	serve("GET /polygon/v2/last/trade/{t}", "v2_last_trade_AAPL.json")
	serve("GET /polygon/v1/last/crypto/{from}/{to}", "v1_last_crypto_BTC_USD.json")
	serve("GET /polygon/v2/last/nbbo/{t}", "v2_last_nbbo_AAPL.json")
	return mux
}

func TestCloseReleasesEverything(t *testing.T) {
	providertest.CheckClose(t, fixtureHandler(t), func(base string) (io.Closer, error) {
		return polygon.New(polygon.Config{BaseURL: base + "/polygon", APIKey: testKey}, providers.WithRateLimit(rate.Inf, 1))
	}, func(cl io.Closer) {
		c := cl.(*polygon.Client)
		ctx := t.Context()
		bars, err := c.Bars(ctx, providers.BarQuery{Symbol: "AAPL", From: day(2005, 4, 1), To: day(2005, 4, 4)})
		require.NoError(t, err)
		require.Len(t, bars, 2)
		for _, sym := range []string{"AAPL", "BTC-USD"} {
			_, err := c.Quote(ctx, sym)
			require.NoError(t, err, sym)
		}
		_, err = c.PrevClose(ctx, "AAPL")
		require.NoError(t, err)
		_, err = c.LastNBBO(ctx, "AAPL")
		require.NoError(t, err)
	})
}

func TestUnclosedTracker(t *testing.T) {
	srv := providertest.NewServer(t, fixtureHandler(t))
	providertest.CheckUnclosedTracker(t, "polygon", func(l *slog.Logger) (io.Closer, error) {
		c, err := polygon.New(polygon.Config{BaseURL: srv.URL + "/polygon", APIKey: testKey},
			providers.WithLogger(l), providers.WithRateLimit(rate.Inf, 1))
		if err != nil {
			return nil, err
		}
		_, err = c.Quote(context.Background(), "AAPL")
		return c, err
	})
	srv.RequireNoOpenConns(t)
}

// TestLive calls the real API; it runs only when POLYGON_API_KEY is set.
func TestLive(t *testing.T) {
	key := providertest.EnvOrSkip(t, "POLYGON_API_KEY")[0]
	c, err := polygon.New(polygon.Config{APIKey: key})
	require.NoError(t, err)
	defer c.Close()
	to := time.Now().AddDate(0, 0, -7)
	bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: to.AddDate(0, 0, -14), To: to})
	require.NoError(t, err)
	require.NotEmpty(t, bars)
	require.True(t, strings.HasPrefix(bars[0].Time.Location().String(), "UTC"))
}
