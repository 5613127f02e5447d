package oanda_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/oanda"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	base      = oanda.DefaultBaseURL
	testToken = "f00dfeedcafe0123456789abcdef0123-0123456789abcdef0123456789abcdef"
	accountID = "101-001-1234567-001"
	acctURL   = base + "/v3/accounts/" + accountID
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	return providertest.Fixture(t, "oanda", name)
}

func newMockCfg(t *testing.T, cfg oanda.Config, extra ...providers.Option) (*oanda.Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	c, err := oanda.New(cfg, providertest.MockOptions(mt, append([]providers.Option{providers.WithTimeout(2 * time.Second)}, extra...)...)...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c, mt
}

func newMock(t *testing.T, extra ...providers.Option) (*oanda.Client, *httpmock.MockTransport) {
	t.Helper()
	return newMockCfg(t, oanda.Config{Token: testToken, AccountID: accountID}, extra...)
}

// respond answers like OANDA: JSON with a RequestID header.
func respond(status int, body []byte, header ...string) httpmock.Responder {
	return providertest.RespondJSON(status, body, append([]string{"RequestID", "24514834665124128"}, header...)...)
}

const htmlPage = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"

func htmlResponder(status int) httpmock.Responder { return providertest.RespondHTML(status, htmlPage) }

// Generic v20 error bodies ({"errorMessage"}, documented; SOURCES.md has no
// capture of them).
var (
	err401 = []byte(`{"errorMessage":"Insufficient authorization to perform request."}`)
	err404 = []byte(`{"errorMessage":"The requested resource was not found."}`)
	err400 = []byte(`{"errorMessage":"Invalid value specified for 'granularity'"}`)
)

func requireHeaders(t *testing.T, r *http.Request) {
	t.Helper()
	require.Equal(t, "Bearer "+testToken, r.Header.Get("Authorization"))
	require.Equal(t, "RFC3339", r.Header.Get("Accept-Datetime-Format"))
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name    string
		give    oanda.Config
		wantErr string
	}{
		{name: "token only", give: oanda.Config{Token: testToken}},
		{name: "live", give: oanda.Config{Token: testToken, Live: true, AccountID: accountID}},
		{name: "no token", give: oanda.Config{AccountID: accountID}, wantErr: "Config.Token is empty"},
		{name: "token with spaces", give: oanda.Config{Token: "abc def"}, wantErr: "white space"},
		{name: "bad account id", give: oanda.Config{Token: testToken, AccountID: "../../v3/x"}, wantErr: "Config.AccountID"},
		{name: "bad base URL", give: oanda.Config{Token: testToken, BaseURL: "api-fxpractice.oanda.com"}, wantErr: "Config.BaseURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := oanda.New(tt.give, providers.WithLogger(slog.New(slog.DiscardHandler)))
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NoError(t, c.Close())
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.Nil(t, c)
		})
	}
}

// TestBaseURLs checks the practice default, the Live switch and an explicit
// BaseURL (the sandbox's prefix).
func TestBaseURLs(t *testing.T) {
	summary := fixture(t, "v3_accounts_summary.json")
	tests := []struct {
		name string
		give oanda.Config
		want string
	}{
		{name: "practice", give: oanda.Config{Token: testToken, AccountID: accountID}, want: "https://api-fxpractice.oanda.com/v3/accounts/" + accountID + "/summary"},
		{name: "live", give: oanda.Config{Token: testToken, AccountID: accountID, Live: true}, want: "https://api-fxtrade.oanda.com/v3/accounts/" + accountID + "/summary"},
		{name: "explicit", give: oanda.Config{Token: testToken, AccountID: accountID, Live: true, BaseURL: "http://127.0.0.1:9/oanda"}, want: "http://127.0.0.1:9/oanda/v3/accounts/" + accountID + "/summary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMockCfg(t, tt.give)
			mt.RegisterResponder(http.MethodGet, tt.want, respond(200, summary))
			_, err := c.Account(t.Context())
			require.NoError(t, err)
			require.Equal(t, 1, mt.GetTotalCallCount())
		})
	}
}

func TestInterfaces(t *testing.T) {
	c, _ := newMock(t)
	require.Equal(t, "oanda", c.Name())
	require.Equal(t, []providers.AssetClass{providers.Forex}, c.Classes())
	require.True(t, providers.Serves(c, providers.Forex))
}

type ohlcv struct {
	time                           time.Time
	open, high, low, close, volume float64
}

func asOHLCV(b providers.Bar) ohlcv { return ohlcv{b.Time, b.Open, b.High, b.Low, b.Close, b.Volume} }

func TestBarsFixtures(t *testing.T) {
	askDaily := fixture(t, "v3_instruments_GBP_USD_candles_D_ask.json")
	// The same answer for price=M: the shape is identical with "mid" for
	// "ask" (SOURCES.md: no mid-price capture exists).
	midDaily := bytes.ReplaceAll(askDaily, []byte(`"ask"`), []byte(`"mid"`))
	first := ohlcv{time.Date(2018, 10, 11, 0, 0, 0, 0, time.UTC), 1.32059, 1.32571, 1.31831, 1.32346, 81734}
	lastComplete := ohlcv{time.Date(2019, 2, 3, 1, 0, 0, 0, time.UTC), 1.30773, 1.30857, 1.30692, 1.30816, 795}
	incomplete := ohlcv{time.Date(2019, 2, 4, 1, 0, 0, 0, time.UTC), 1.30814, 1.30861, 1.30789, 1.30840, 262}
	tests := []struct {
		name              string
		body              []byte
		includeIncomplete bool
		wantN             int
		first, last       ohlcv
	}{
		{name: "mid, incomplete left out", body: midDaily, wantN: 99, first: first, last: lastComplete},
		{name: "mid, incomplete included", body: midDaily, includeIncomplete: true, wantN: 100, first: first, last: incomplete},
		{name: "recorded ask only", body: askDaily, wantN: 99, first: first, last: lastComplete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMockCfg(t, oanda.Config{Token: testToken, IncludeIncomplete: tt.includeIncomplete})
			var rec providertest.Recorder
			mt.RegisterResponder(http.MethodGet, base+"/v3/instruments/GBP_USD/candles", rec.Wrap(respond(200, tt.body)))
			bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "GBP/USD", Interval: providers.Day})
			require.NoError(t, err)
			require.Len(t, bars, tt.wantN)
			require.Equal(t, tt.first, asOHLCV(bars[0]))
			require.Equal(t, tt.last, asOHLCV(bars[len(bars)-1]))
			for i := 1; i < len(bars); i++ {
				require.True(t, bars[i].Time.After(bars[i-1].Time))
			}
			reqs, _ := rec.Requests()
			require.Len(t, reqs, 1)
			requireHeaders(t, reqs[0])
			q := reqs[0].URL.Query()
			require.Equal(t, "M", q.Get("price"))
			require.Equal(t, "D", q.Get("granularity"))
			require.Empty(t, q.Get("from"))
			require.Empty(t, q.Get("to"))
		})
	}
}

func TestBarsGranularities(t *testing.T) {
	tests := []struct {
		give providers.Interval
		want string
	}{
		{providers.Minute, "M1"}, {providers.Hour, "H1"}, {providers.Day, "D"}, {"", "D"}, {providers.Week, "W"},
	}
	body := fixture(t, "v3_instruments_GBP_USD_candles_D_ask.json")
	for _, tt := range tests {
		t.Run(string(tt.give), func(t *testing.T) {
			c, mt := newMock(t)
			var rec providertest.Recorder
			mt.RegisterResponder(http.MethodGet, base+"/v3/instruments/EUR_USD/candles", rec.Wrap(respond(200, body)))
			_, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "EURUSD", Interval: tt.give})
			require.NoError(t, err)
			reqs, _ := rec.Requests()
			require.Equal(t, tt.want, reqs[0].URL.Query().Get("granularity"))
		})
	}
}

func TestBarsErrors(t *testing.T) {
	tests := []struct {
		name      string
		responder httpmock.Responder
		query     providers.BarQuery
		wantErr   error
		wantText  string
		wantCalls int
	}{
		{name: "no candles", responder: respond(200, []byte(`{"instrument":"EUR_USD","granularity":"D","candles":[]}`)), wantErr: providers.ErrNoData, wantCalls: 1},
		{name: "only an incomplete candle", responder: respond(200, []byte(`{"instrument":"EUR_USD","granularity":"D","candles":[{"complete":false,"volume":262,"time":"2019-02-04T01:00:00.000000000Z","mid":{"o":"1.30814","h":"1.30861","l":"1.30789","c":"1.30840"}}]}`)), wantErr: providers.ErrNoData, wantCalls: 1},
		{name: "malformed JSON", responder: respond(200, []byte(`{"instrument":"EUR_USD","candles":[{"complete":true,`)), wantErr: providers.ErrDecode, wantText: "oanda: decode candles", wantCalls: 1},
		{name: "candles missing", responder: respond(200, []byte(`{"instrument":"EUR_USD"}`)), wantErr: providers.ErrDecode, wantText: "decode candles: field missing", wantCalls: 1},
		{name: "price not a decimal", responder: respond(200, []byte(`{"candles":[{"complete":true,"volume":1,"time":"2019-02-04T01:00:00.000000000Z","mid":{"o":"1.3x","h":"1","l":"1","c":"1"}}]}`)), wantErr: providers.ErrDecode, wantText: `candles[0].mid: price "o"`, wantCalls: 1},
		{name: "bad time", responder: respond(200, []byte(`{"candles":[{"complete":true,"volume":1,"time":"Feb 4","mid":{"o":"1","h":"1","l":"1","c":"1"}}]}`)), wantErr: providers.ErrDecode, wantText: "candles[0].time", wantCalls: 1},
		{name: "no prices", responder: respond(200, []byte(`{"candles":[{"complete":true,"volume":1,"time":"2019-02-04T01:00:00.000000000Z"}]}`)), wantErr: providers.ErrDecode, wantText: "no mid, bid or ask", wantCalls: 1},
		{name: "400 bad granularity", responder: respond(400, err400), wantErr: providers.ErrUpstream, wantText: "Invalid value specified for 'granularity'", wantCalls: 1},
		{name: "401 token", responder: respond(401, err401), wantErr: providers.ErrUnauthorized, wantText: "Insufficient authorization to perform request.", wantCalls: 1},
		{name: "404", responder: respond(404, err404), wantErr: providers.ErrNotFound, wantText: "The requested resource was not found.", wantCalls: 1},
		{name: "HTML 502 page", responder: htmlResponder(502), wantErr: providers.ErrUpstream, wantText: "HTML page: 502 Bad Gateway", wantCalls: 3},
		{name: "HTML page with 200", responder: htmlResponder(200), wantErr: providers.ErrUpstream, wantText: "HTML instead of JSON", wantCalls: 1},
		{name: "429 three times", responder: respond(429, []byte(`{"errorMessage":"Too many requests"}`)), wantErr: providers.ErrRateLimited, wantText: "Too many requests", wantCalls: 3},
		{name: "crypto symbol", query: providers.BarQuery{Symbol: "BTC-USD"}, wantErr: providers.ErrUnsupported},
		{name: "equity symbol", query: providers.BarQuery{Symbol: "AAPL"}, wantErr: providers.ErrUnsupported},
		{name: "bad interval", query: providers.BarQuery{Symbol: "EUR_USD", Interval: "5m"}, wantErr: providers.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMock(t)
			if tt.responder != nil {
				mt.RegisterResponder(http.MethodGet, base+"/v3/instruments/EUR_USD/candles", tt.responder)
			}
			q := tt.query
			if q.Symbol == "" {
				q = providers.BarQuery{Symbol: "EUR_USD", Interval: providers.Day}
			}
			bars, err := c.Bars(t.Context(), q)
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorContains(t, err, tt.wantText)
			require.Nil(t, bars)
			require.Equal(t, tt.wantCalls, mt.GetTotalCallCount())
		})
	}
}

// TestBarsSplitsLongRanges asks for 12 000 hourly candles: three requests of
// at most 5000, sharing their boundary candles, merged without repeats.
func TestBarsSplitsLongRanges(t *testing.T) {
	c, mt := newMock(t)
	var rec providertest.Recorder
	mt.RegisterResponder(http.MethodGet, base+"/v3/instruments/EUR_USD/candles", rec.Wrap(func(req *http.Request) (*http.Response, error) {
		q := req.URL.Query()
		from, err1 := time.Parse(time.RFC3339Nano, q.Get("from"))
		to, err2 := time.Parse(time.RFC3339Nano, q.Get("to"))
		if err1 != nil || err2 != nil || q.Get("count") != "" {
			return httpmock.NewStringResponse(400, `{"errorMessage":"Invalid value specified for 'from'"}`), nil
		}
		if to.Sub(from)/time.Hour+1 > 5000 {
			return httpmock.NewStringResponse(400, `{"errorMessage":"Maximum value for 'count' exceeded"}`), nil
		}
		var b bytes.Buffer
		b.WriteString(`{"instrument":"EUR_USD","granularity":"H1","candles":[`)
		for ts := from; !ts.After(to); ts = ts.Add(time.Hour) {
			if ts != from {
				b.WriteString(",")
			}
			b.WriteString(`{"complete":true,"volume":10,"time":"` + ts.Format(time.RFC3339Nano) + `","mid":{"o":"1.1","h":"1.2","l":"1.0","c":"1.15"}}`)
		}
		b.WriteString("]}")
		return httpmock.NewBytesResponse(200, b.Bytes()), nil
	}))
	from := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(11999 * time.Hour)
	bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "EUR_USD", Interval: providers.Hour, From: from, To: to})
	require.NoError(t, err)
	require.Len(t, bars, 12000)
	require.Equal(t, from, bars[0].Time)
	require.Equal(t, to, bars[len(bars)-1].Time)
	for i := 1; i < len(bars); i++ {
		require.Equal(t, time.Hour, bars[i].Time.Sub(bars[i-1].Time))
	}
	reqs, _ := rec.Requests()
	require.Len(t, reqs, 3)
	require.Equal(t, from.Format(time.RFC3339Nano), reqs[0].URL.Query().Get("from"))
	require.Equal(t, reqs[0].URL.Query().Get("to"), reqs[1].URL.Query().Get("from"), "windows share their boundary")
	require.Equal(t, to.Format(time.RFC3339Nano), reqs[2].URL.Query().Get("to"))
}

// TestBarsOpenEnded: a range without To (or with To in the future) is asked
// for with from and count, never with a "to" OANDA would refuse.
func TestBarsOpenEnded(t *testing.T) {
	c, mt := newMock(t)
	var rec providertest.Recorder
	mt.RegisterResponder(http.MethodGet, base+"/v3/instruments/GBP_USD/candles",
		rec.Wrap(respond(200, fixture(t, "v3_instruments_GBP_USD_candles_D_ask.json"))))
	from := time.Date(2018, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, to := range []time.Time{{}, time.Now().Add(48 * time.Hour)} {
		bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "GBP_USD", From: from, To: to})
		require.NoError(t, err)
		require.Len(t, bars, 99)
	}
	reqs, _ := rec.Requests()
	require.NotEmpty(t, reqs)
	for _, r := range reqs {
		require.Empty(t, r.URL.Query().Get("to"))
		require.NotEmpty(t, r.URL.Query().Get("from"))
		require.Equal(t, "5000", r.URL.Query().Get("count"))
	}
}

func TestBarsRangeChecks(t *testing.T) {
	c, mt := newMock(t)
	_, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "EUR_USD", Interval: providers.Minute,
		From: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.ErrorContains(t, err, "at most 100")
	_, err = c.Bars(t.Context(), providers.BarQuery{Symbol: "EUR_USD",
		From: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.ErrorContains(t, err, "ends before it starts")
	require.Zero(t, mt.GetTotalCallCount())
}

func TestLatestCandles(t *testing.T) {
	c, mt := newMock(t)
	var rec providertest.Recorder
	mt.RegisterResponder(http.MethodGet, acctURL+"/candles/latest", rec.Wrap(respond(200, fixture(t, "v3_accounts_candles_latest.json"))))
	got, err := c.LatestCandles(t.Context(), "USD_JPY:M1:A", "USD_JPY:M5:BA")
	require.NoError(t, err)
	require.Len(t, got, 7)
	require.Equal(t, "USD_JPY", got[0].Symbol)
	require.Equal(t, "M1", got[0].Granularity)
	// Incomplete candles are left out: one complete candle per entry.
	require.Len(t, got[0].Bars, 1)
	require.Equal(t, ohlcv{time.Date(2023, 12, 29, 13, 21, 0, 0, time.UTC), 141.526, 141.530, 141.500, 141.510, 178}, asOHLCV(got[0].Bars[0]))
	// Bid and ask: the bar is their mid.
	require.Equal(t, "M5", got[2].Granularity)
	require.Equal(t, ohlcv{time.Date(2023, 12, 29, 13, 15, 0, 0, time.UTC),
		(141.501 + 141.518) / 2, (141.541 + 141.560) / 2, (141.472 + 141.489) / 2, (141.506 + 141.525) / 2, 569}, asOHLCV(got[2].Bars[0]))
	require.Equal(t, "GBP_CHF", got[3].Symbol)
	reqs, _ := rec.Requests()
	require.Equal(t, "USD_JPY:M1:A,USD_JPY:M5:BA", reqs[0].URL.Query().Get("candleSpecifications"))
	requireHeaders(t, reqs[0])

	_, err = c.LatestCandles(t.Context(), "EUR_USD")
	require.ErrorContains(t, err, "INSTRUMENT:GRANULARITY:PRICE")
}

func TestQuote(t *testing.T) {
	pricing := fixture(t, "v3_accounts_pricing.json")
	want := providers.Quote{Symbol: "EUR_USD", Class: providers.Forex, Provider: "oanda",
		Bid: 1.29360, Ask: 1.29470, Price: (1.29360 + 1.29470) / 2, Time: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)}
	emptyBook := []byte(`{"time":"2019-01-01T00:00:00.000000000Z","prices":[{"type":"PRICE","time":"2019-01-01T00:00:00.000000000Z","bids":[],"asks":[],"closeoutBid":"1.29335","closeoutAsk":"1.29495","status":"non-tradeable","tradeable":false,"instrument":"EUR_USD"}]}`)
	tests := []struct {
		name      string
		responder httpmock.Responder
		want      providers.Quote
		wantErr   error
		wantText  string
		wantCalls int
	}{
		{name: "recorded pricing", responder: respond(200, pricing), want: want, wantCalls: 1},
		{name: "empty book: closeout prices", responder: respond(200, emptyBook), want: providers.Quote{Symbol: "EUR_USD", Class: providers.Forex, Provider: "oanda",
			Bid: 1.29335, Ask: 1.29495, Price: (1.29335 + 1.29495) / 2, Time: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)}, wantCalls: 1},
		{name: "instrument not in answer", responder: respond(200, []byte(`{"time":"2019-01-01T00:00:00.000000000Z","prices":[]}`)), wantErr: providers.ErrNotFound, wantCalls: 1},
		{name: "prices missing", responder: respond(200, []byte(`{"time":"2019-01-01T00:00:00.000000000Z"}`)), wantErr: providers.ErrDecode, wantText: "decode prices: field missing", wantCalls: 1},
		{name: "bad price", responder: respond(200, bytes.Replace(pricing, []byte(`"1.29360"`), []byte(`"one"`), 1)), wantErr: providers.ErrDecode, wantText: "prices[0].bids[0].price", wantCalls: 1},
		{name: "malformed JSON", responder: respond(200, pricing[:100]), wantErr: providers.ErrDecode, wantCalls: 1},
		{name: "401", responder: respond(401, err401), wantErr: providers.ErrUnauthorized, wantCalls: 1},
		{name: "HTML 503 page", responder: htmlResponder(503), wantErr: providers.ErrUpstream, wantText: "HTML page", wantCalls: 3},
		{name: "503 then 502 then pricing", responder: respond(503, []byte(`{"errorMessage":"Service unavailable"}`)).Then(respond(502, []byte(`{"errorMessage":"Bad gateway"}`))).Then(respond(200, pricing)), want: want, wantCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMock(t)
			var rec providertest.Recorder
			mt.RegisterResponder(http.MethodGet, acctURL+"/pricing", rec.Wrap(tt.responder))
			got, err := c.Quote(t.Context(), "EUR/USD")
			require.ErrorIs(t, err, tt.wantErr)
			if err != nil {
				require.ErrorContains(t, err, tt.wantText)
			}
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantCalls, mt.GetTotalCallCount())
			reqs, _ := rec.Requests()
			require.Equal(t, "EUR_USD", reqs[0].URL.Query().Get("instruments"))
			requireHeaders(t, reqs[0])
		})
	}
}

func TestAccountIDRequired(t *testing.T) {
	c, mt := newMockCfg(t, oanda.Config{Token: testToken})
	_, err := c.Quote(t.Context(), "EUR_USD")
	require.ErrorContains(t, err, "Config.AccountID is empty")
	_, err = c.Account(t.Context())
	require.ErrorContains(t, err, "Config.AccountID is empty")
	_, err = c.PlaceOrder(t.Context(), providers.OrderRequest{Symbol: "EUR_USD", Side: providers.Buy, Quantity: 1})
	require.ErrorContains(t, err, "Config.AccountID is empty")
	require.Zero(t, mt.GetTotalCallCount())
}

func TestRetryAfterHonoured(t *testing.T) {
	c, mt := newMock(t)
	mt.RegisterResponder(http.MethodGet, acctURL+"/pricing",
		respond(429, []byte(`{"errorMessage":"Too many requests"}`), "Retry-After", "1").Then(respond(200, fixture(t, "v3_accounts_pricing.json"))))
	start := time.Now()
	q, err := c.Quote(t.Context(), "EUR_USD")
	require.NoError(t, err)
	require.Equal(t, 1.2936, q.Bid)
	require.GreaterOrEqual(t, time.Since(start), time.Second)
	require.Equal(t, 2, mt.GetTotalCallCount())
}

func TestTimeout(t *testing.T) {
	c, mt := newMock(t, providers.WithTimeout(30*time.Millisecond))
	mt.RegisterResponder(http.MethodGet, acctURL+"/summary", respond(200, fixture(t, "v3_accounts_summary.json")).Delay(5*time.Second))
	start := time.Now()
	_, err := c.Account(t.Context())
	require.ErrorIs(t, err, providers.ErrTimeout)
	require.Less(t, time.Since(start), 2*time.Second)
	require.Equal(t, 3, mt.GetTotalCallCount())
}

// TestTokenRedacted: an upstream echoing the token must not get it into an
// error or a log line.
func TestTokenRedacted(t *testing.T) {
	var logs providertest.SyncBuffer
	c, mt := newMock(t, providers.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	mt.RegisterResponder(http.MethodGet, acctURL+"/summary", respond(500, []byte(`{"errorMessage":"bad token `+testToken+`"}`)))
	_, err := c.Account(t.Context())
	require.ErrorIs(t, err, providers.ErrUpstream)
	require.NotContains(t, err.Error(), testToken)
	require.Contains(t, err.Error(), providers.Redacted)
	var ae *oanda.APIError
	require.ErrorAs(t, err, &ae)
	require.NotContains(t, ae.Err.Message, testToken)
	require.NotContains(t, logs.String(), testToken)
	require.True(t, strings.Contains(logs.String(), "retrying"))
}
