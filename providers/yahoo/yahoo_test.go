package yahoo_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/yahoo"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const chartURL = yahoo.DefaultBaseURL + "/v8/finance/chart/"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	return providertest.Fixture(t, "yahoo", name)
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// newMock returns a client whose requests go to a fresh httpmock transport,
// with short retry backoffs and no rate limit.
func newMock(t *testing.T, opts ...providers.Option) (*yahoo.Client, *httpmock.MockTransport) {
	t.Helper()
	tr := httpmock.NewMockTransport()
	c, err := yahoo.New(yahoo.Config{}, providertest.MockOptions(tr, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, tr
}

// barWant is a bar as read by hand from a fixture.
type barWant struct {
	time                   time.Time
	open, high, low, close float64
	volume                 float64
}

func (w barWant) bar() providers.Bar {
	return providers.Bar{Time: w.time, Open: w.open, High: w.high, Low: w.low, Close: w.close, Volume: w.volume}
}

// TestParseChartFixtures checks every recorded success shape against values
// read from the JSON files.
func TestParseChartFixtures(t *testing.T) {
	tests := []struct {
		name        string
		file        string
		wantSymbol  string
		wantClass   providers.AssetClass
		wantN       int
		wantFirst   barWant
		wantLast    barWant
		wantAdj     [2]float64 // first and last adjclose
		wantPrice   float64
		wantPrev    float64 // chartPreviousClose
		wantMktTime time.Time
	}{
		{
			name: "AAPL one day", file: "v8_chart_AAPL_1d_2020-01-01_2020-01-03.json",
			wantSymbol: "AAPL", wantClass: providers.Equity, wantN: 1,
			// timestamp 1577975400 is 2020-01-02 14:30 UTC, the New York open.
			wantFirst: barWant{day(2020, 1, 2), 74.05999755859375, 75.1500015258789, 73.79750061035156, 75.0875015258789, 135480400},
			wantLast:  barWant{day(2020, 1, 2), 74.05999755859375, 75.1500015258789, 73.79750061035156, 75.0875015258789, 135480400},
			wantAdj:   [2]float64{72.71607208251953, 72.71607208251953},
			wantPrice: 244.87, wantPrev: 73.412, wantMktTime: time.Unix(1739998801, 0).UTC(),
		},
		{
			name: "BTC-USD three days", file: "v8_chart_BTC-USD_1d_2020-01-01_2020-01-03.json",
			wantSymbol: "BTC-USD", wantClass: providers.Crypto, wantN: 3,
			wantFirst: barWant{day(2020, 1, 1), 7194.89208984375, 7254.33056640625, 7174.9443359375, 7200.17431640625, 18565664997},
			wantLast:  barWant{day(2020, 1, 3), 6984.4287109375, 7413.71533203125, 6914.99609375, 7344.88427734375, 28111481032},
			wantAdj:   [2]float64{7200.17431640625, 7344.88427734375},
			wantPrice: 97208.17, wantPrev: 7200.174, wantMktTime: time.Unix(1740051840, 0).UTC(),
		},
		{
			name: "EURUSD=X three days", file: "v8_chart_EURUSDX_1d_2020-01-01_2020-01-03.json",
			wantSymbol: "EUR_USD", wantClass: providers.Forex, wantN: 3,
			wantFirst: barWant{day(2020, 1, 1), 1.1220825910568237, 1.1228384971618652, 1.115946888923645, 1.1220825910568237, 0},
			wantLast:  barWant{day(2020, 1, 3), 1.1170812845230103, 1.118067979812622, 1.112569808959961, 1.1171437501907349, 0},
			wantAdj:   [2]float64{1.1220825910568237, 1.1171437501907349},
			wantPrice: 1.0436, wantPrev: 1.1221, wantMktTime: time.Unix(1740052002, 0).UTC(),
		},
		{
			name: "AAPL with split and dividend", file: "v8_chart_AAPL_1d_2020-08-31_2020-11-07_with_split_dividend.json",
			wantSymbol: "AAPL", wantClass: providers.Equity, wantN: 49,
			wantFirst: barWant{day(2020, 8, 31), 127.58000183105469, 131, 126, 129.0399932861328, 225702700},
			wantLast:  barWant{day(2020, 11, 6), 118.31999969482422, 119.19999694824219, 116.12999725341797, 118.69000244140625, 114457900},
			wantAdj:   [2]float64{125.82673645019531, 115.93415069580078},
			wantPrice: 244.87, wantPrev: 124.808, wantMktTime: time.Unix(1739998801, 0).UTC(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := yahoo.ParseChart(fixture(t, tt.file))
			require.NoError(t, err)
			require.Equal(t, tt.wantSymbol, ch.Symbol)
			require.Equal(t, tt.wantClass, ch.Meta.Class)
			require.Len(t, ch.Bars, tt.wantN)
			require.Len(t, ch.AdjClose, tt.wantN)
			require.Equal(t, tt.wantFirst.bar(), ch.Bars[0])
			require.Equal(t, tt.wantLast.bar(), ch.Bars[tt.wantN-1])
			require.Equal(t, tt.wantAdj, [2]float64{ch.AdjClose[0], ch.AdjClose[tt.wantN-1]})
			require.Equal(t, tt.wantPrice, ch.Meta.RegularMarketPrice)
			require.Equal(t, tt.wantPrev, ch.Meta.ChartPreviousClose)
			require.Equal(t, tt.wantMktTime, ch.Meta.RegularMarketTime)
			require.Equal(t, "1d", ch.Meta.DataGranularity)
			for i := 1; i < len(ch.Bars); i++ {
				require.True(t, ch.Bars[i-1].Time.Before(ch.Bars[i].Time), "bars ascending")
			}
		})
	}
}

func TestParseChartEvents(t *testing.T) {
	ch, err := yahoo.ParseChart(fixture(t, "v8_chart_AAPL_1d_2020-08-31_2020-11-07_with_split_dividend.json"))
	require.NoError(t, err)
	// events.splits["1598880600"] = {date 1598880600, 4/1, "4:1"};
	// events.dividends["1604673000"] = {amount 0.205}.
	require.Equal(t, []yahoo.Split{{Time: day(2020, 8, 31), Numerator: 4, Denominator: 1, Ratio: "4:1"}}, ch.Splits)
	require.Equal(t, []yahoo.Dividend{{Time: day(2020, 11, 6), Amount: 0.205}}, ch.Dividends)
	require.Equal(t, ch.Bars[0].Time, ch.Splits[0].Time, "events are stamped like bars")
	require.Equal(t, "America/New_York", ch.Meta.ExchangeTimezoneName)
	require.Equal(t, -18000, ch.Meta.GMTOffset)
	require.Equal(t, "EQUITY", ch.Meta.InstrumentType)
}

func TestParseChartRecordedEnvelope(t *testing.T) {
	var env struct {
		Response struct {
			Status   int             `json:"status"`
			BodyJSON json.RawMessage `json:"bodyJson"`
		} `json:"response"`
	}
	require.NoError(t, json.Unmarshal(fixture(t, "recorded_envelope_chart-AAPL-2020-01-01-to-2020-01-03.json"), &env))
	require.Equal(t, 200, env.Response.Status)
	ch, err := yahoo.ParseChart(env.Response.BodyJSON)
	require.NoError(t, err)
	require.Equal(t, []providers.Bar{{Time: day(2020, 1, 2), Open: 74.05999755859375, High: 75.1500015258789,
		Low: 73.79750061035156, Close: 75.0875015258789, Volume: 135480400}}, ch.Bars)
}

// editFixture decodes a fixture, lets edit change it, and encodes it again.
func editFixture(t *testing.T, file string, edit func(result map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(fixture(t, file), &doc))
	res := doc["chart"].(map[string]any)["result"].([]any)[0].(map[string]any)
	edit(res)
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	return b
}

func quoteOf(res map[string]any) map[string]any {
	return res["indicators"].(map[string]any)["quote"].([]any)[0].(map[string]any)
}

func TestParseChartShapes(t *testing.T) {
	const btc = "v8_chart_BTC-USD_1d_2020-01-01_2020-01-03.json"
	tests := []struct {
		name      string
		body      []byte
		wantErr   error
		wantTimes []time.Time
		wantField string // DecodeError.Field
	}{
		{
			name:      "null high skips the bar",
			body:      editFixture(t, btc, func(r map[string]any) { quoteOf(r)["high"].([]any)[1] = nil }),
			wantTimes: []time.Time{day(2020, 1, 1), day(2020, 1, 3)},
		},
		{
			name:      "null volume is zero",
			body:      editFixture(t, btc, func(r map[string]any) { quoteOf(r)["volume"].([]any)[0] = nil }),
			wantTimes: []time.Time{day(2020, 1, 1), day(2020, 1, 2), day(2020, 1, 3)},
		},
		{
			name: "out of order timestamps are sorted",
			body: editFixture(t, btc, func(r map[string]any) {
				ts := r["timestamp"].([]any)
				ts[0], ts[2] = ts[2], ts[0]
			}),
			wantTimes: []time.Time{day(2020, 1, 1), day(2020, 1, 2), day(2020, 1, 3)},
		},
		{
			name:      "short close array",
			body:      editFixture(t, btc, func(r map[string]any) { quoteOf(r)["close"] = []any{1.0} }),
			wantErr:   providers.ErrDecode,
			wantField: "indicators.quote[0].close",
		},
		{
			name:      "string price",
			body:      editFixture(t, btc, func(r map[string]any) { quoteOf(r)["open"].([]any)[0] = "7194.89" }),
			wantErr:   providers.ErrDecode,
			wantField: "indicators.quote[0].open",
		},
		{
			name:      "no quote object",
			body:      editFixture(t, btc, func(r map[string]any) { delete(r, "indicators") }),
			wantErr:   providers.ErrDecode,
			wantField: "indicators.quote",
		},
		{name: "weekend minute chart", body: fixture(t, "v8_chart_AAPL_1m_2025-02-01_weekend_empty.json"), wantErr: providers.ErrNoData},
		{name: "empty result", body: []byte(`{"chart":{"result":[],"error":null}}`), wantErr: providers.ErrNoData},
		{name: "null result", body: []byte(`{"chart":{"result":null,"error":null}}`), wantErr: providers.ErrNoData},
		{name: "empty timestamps", body: editFixture(t, btc, func(r map[string]any) { r["timestamp"] = []any{} }), wantErr: providers.ErrNoData},
		{name: "malformed JSON", body: []byte(`{"chart":{"result":[{"meta":`), wantErr: providers.ErrDecode},
		{name: "not JSON", body: []byte("<html><title>502 Bad Gateway</title></html>"), wantErr: providers.ErrDecode},
		{name: "no chart", body: []byte(`{"quoteResponse":{}}`), wantErr: providers.ErrDecode, wantField: "chart"},
		{name: "error 404 body", body: fixture(t, "v8_chart_error_404_no_data_found.json"), wantErr: providers.ErrNotFound},
		{name: "error 400 body", body: fixture(t, "v8_chart_error_400_data_doesnt_exist.json"), wantErr: providers.ErrUpstream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := yahoo.ParseChart(tt.body)
			require.ErrorIs(t, err, tt.wantErr)
			var times []time.Time
			for _, b := range ch.Bars {
				times = append(times, b.Time)
			}
			if tt.wantErr == nil {
				require.Equal(t, tt.wantTimes, times)
				require.Len(t, ch.AdjClose, len(ch.Bars))
			}
			if tt.wantField != "" {
				var de *providers.DecodeError
				require.ErrorAs(t, err, &de)
				require.Equal(t, "yahoo", de.Provider)
				require.Equal(t, tt.wantField, de.Field)
			}
		})
	}
}

func TestParseChartSortKeepsAdjCloseAligned(t *testing.T) {
	body := editFixture(t, "v8_chart_BTC-USD_1d_2020-01-01_2020-01-03.json", func(r map[string]any) {
		ts := r["timestamp"].([]any)
		ts[0], ts[2] = ts[2], ts[0] // now bar 0 is dated 2020-01-03
	})
	ch, err := yahoo.ParseChart(body)
	require.NoError(t, err)
	// The values of index 0 (close 7200.17431640625) now belong to 2020-01-03.
	require.Equal(t, day(2020, 1, 3), ch.Bars[2].Time)
	require.Equal(t, 7200.17431640625, ch.Bars[2].Close)
	require.Equal(t, 7200.17431640625, ch.AdjClose[2])
	require.Equal(t, 7344.88427734375, ch.AdjClose[0])
}

func TestParseChartWeekendKeepsMeta(t *testing.T) {
	ch, err := yahoo.ParseChart(fixture(t, "v8_chart_AAPL_1m_2025-02-01_weekend_empty.json"))
	require.ErrorIs(t, err, providers.ErrNoData)
	require.Empty(t, ch.Bars)
	require.Equal(t, "AAPL", ch.Meta.Symbol)
	require.Equal(t, 244.87, ch.Meta.RegularMarketPrice)
	require.Equal(t, 244.47, ch.Meta.PreviousClose)
	require.Equal(t, 236.0, ch.Meta.ChartPreviousClose)
	require.Equal(t, "1m", ch.Meta.DataGranularity)
}

func TestBarsRequest(t *testing.T) {
	tests := []struct {
		give     string
		wantPath string
		file     string
		wantSym  string
	}{
		{give: "AAPL", wantPath: "/v8/finance/chart/AAPL", file: "v8_chart_AAPL_1d_2020-01-01_2020-01-03.json", wantSym: "AAPL"},
		{give: "btc-usd", wantPath: "/v8/finance/chart/BTC-USD", file: "v8_chart_BTC-USD_1d_2020-01-01_2020-01-03.json", wantSym: "BTC-USD"},
		{give: "EUR_USD", wantPath: "/v8/finance/chart/EURUSD=X", file: "v8_chart_EURUSDX_1d_2020-01-01_2020-01-03.json", wantSym: "EUR_USD"},
		{give: "BRK.B", wantPath: "/v8/finance/chart/BRK-B", file: "v8_chart_AAPL_1d_2020-01-01_2020-01-03.json", wantSym: "BRK.B"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			c, tr := newMock(t)
			var rec providertest.Recorder
			tr.RegisterNoResponder(rec.Wrap(httpmock.NewBytesResponder(200, fixture(t, tt.file))))
			from, to := time.Unix(1577836800, 0), time.Unix(1578009600, 0)
			ch, err := c.Chart(t.Context(), providers.BarQuery{Symbol: tt.give, Interval: providers.Day, From: from, To: to})
			require.NoError(t, err)
			require.Equal(t, tt.wantSym, ch.Symbol)
			require.Equal(t, 1, rec.Len())
			reqs, _ := rec.Requests()
			u := reqs[0].URL
			require.Equal(t, "query2.finance.yahoo.com", u.Host)
			require.Equal(t, tt.wantPath, u.Path)
			require.Equal(t, url.Values{"interval": {"1d"}, "period1": {"1577836800"}, "period2": {"1578009600"},
				"events": {"div|split"}}, u.Query())
			require.Equal(t, yahoo.DefaultUserAgent, reqs[0].Header.Get("User-Agent"))
		})
	}
}

func TestBarsIntervalsAndRange(t *testing.T) {
	now := time.Date(2025, 2, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		give         providers.Interval
		wantInterval string
	}{
		{providers.Minute, "1m"}, {providers.Hour, "60m"}, {providers.Day, "1d"}, {"", "1d"}, {providers.Week, "1wk"},
	}
	for _, tt := range tests {
		t.Run(string(tt.wantInterval), func(t *testing.T) {
			c, tr := newMock(t)
			yahoo.SetNow(c, func() time.Time { return now })
			var rec providertest.Recorder
			tr.RegisterNoResponder(rec.Wrap(httpmock.NewBytesResponder(200, fixture(t, "v8_chart_BTC-USD_1d_2020-01-01_2020-01-03.json"))))
			_, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "BTC-USD", Interval: tt.give})
			require.NoError(t, err)
			reqs, _ := rec.Requests()
			q := reqs[0].URL.Query()
			require.Equal(t, tt.wantInterval, q.Get("interval"))
			require.Equal(t, "1708516800", q.Get("period1"), "From defaults to 365 days before To") // 2024-02-21 12:00 UTC
			require.Equal(t, "1740052800", q.Get("period2"), "To defaults to now")
		})
	}
}

func TestBarsRejectsBadQueries(t *testing.T) {
	c, tr := newMock(t)
	tests := []struct {
		name    string
		give    providers.BarQuery
		wantErr error
	}{
		{"bad symbol", providers.BarQuery{Symbol: "A$PL"}, providers.ErrBadSymbol},
		{"unknown interval", providers.BarQuery{Symbol: "AAPL", Interval: "3d"}, providers.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Bars(t.Context(), tt.give)
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
	_, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: day(2020, 1, 3), To: day(2020, 1, 1)})
	require.ErrorContains(t, err, "is not before")
	require.Zero(t, tr.GetTotalCallCount(), "no request for a bad query")
}

func TestBarsResponses(t *testing.T) {
	html502 := "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"
	aapl := fixture(t, "v8_chart_AAPL_1d_2020-01-01_2020-01-03.json")
	tests := []struct {
		name      string
		responder httpmock.Responder
		opts      []providers.Option
		wantErr   error
		wantMsg   string
		wantCalls int
		wantN     int
	}{
		{name: "ok", responder: httpmock.NewBytesResponder(200, aapl), wantCalls: 1, wantN: 1},
		{name: "404 not found", responder: httpmock.NewBytesResponder(404, fixture(t, "v8_chart_error_404_no_data_found.json")),
			wantErr: providers.ErrNotFound, wantMsg: "Not Found: No data found, symbol may be delisted", wantCalls: 1},
		{name: "400 bad request", responder: httpmock.NewBytesResponder(400, fixture(t, "v8_chart_error_400_data_doesnt_exist.json")),
			wantErr: providers.ErrUpstream, wantMsg: "Data doesn't exist for startDate = 1577836800, endDate = 1578009600", wantCalls: 1},
		{name: "error body with 200", responder: httpmock.NewBytesResponder(200, fixture(t, "v8_chart_error_404_no_data_found.json")),
			wantErr: providers.ErrNotFound, wantCalls: 1},
		{name: "401 invalid crumb", responder: httpmock.NewStringResponder(401,
			`{"finance":{"result":null,"error":{"code":"Unauthorized","description":"Invalid Crumb"}}}`),
			wantErr: providers.ErrUnauthorized, wantMsg: "Invalid Crumb", wantCalls: 1},
		{name: "weekend empty", responder: httpmock.NewBytesResponder(200, fixture(t, "v8_chart_AAPL_1m_2025-02-01_weekend_empty.json")),
			wantErr: providers.ErrNoData, wantCalls: 1},
		{name: "malformed JSON", responder: httpmock.NewStringResponder(200, `{"chart":{"result":[{"meta":{"symbol":"AAPL"`),
			wantErr: providers.ErrDecode, wantCalls: 1},
		{name: "HTML 502 retried then fails", responder: httpmock.NewStringResponder(502, html502),
			wantErr: providers.ErrUpstream, wantMsg: "HTML page: 502 Bad Gateway", wantCalls: 3},
		{name: "HTML page with 200", responder: httpmock.NewStringResponder(200, "<!DOCTYPE html><html><head><title>Yahoo consent</title></head></html>"),
			wantErr: providers.ErrUpstream, wantMsg: "HTML page: Yahoo consent", wantCalls: 1},
		{name: "503 then ok", responder: httpmock.NewStringResponder(503, "busy").Then(httpmock.NewBytesResponder(200, aapl)),
			wantCalls: 2, wantN: 1},
		{name: "429 then ok", responder: httpmock.NewStringResponder(429, "Too Many Requests\r\n").Then(httpmock.NewBytesResponder(200, aapl)),
			wantCalls: 2, wantN: 1},
		{name: "429 exhausted", responder: httpmock.NewStringResponder(429, "Too Many Requests\r\n"),
			wantErr: providers.ErrRateLimited, wantCalls: 3},
		{name: "timeout", responder: httpmock.NewBytesResponder(200, aapl).Delay(time.Second),
			opts:    []providers.Option{providers.WithTimeout(150 * time.Millisecond), providers.WithRetry(2, time.Millisecond, time.Millisecond)},
			wantErr: providers.ErrTimeout, wantCalls: 2},
		{name: "timeout then ok", responder: httpmock.NewBytesResponder(200, aapl).Delay(time.Second).Then(httpmock.NewBytesResponder(200, aapl)),
			opts: []providers.Option{providers.WithTimeout(150 * time.Millisecond)}, wantCalls: 2, wantN: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, tr := newMock(t, tt.opts...)
			tr.RegisterResponder(http.MethodGet, chartURL+"AAPL", tt.responder)
			bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: day(2020, 1, 1), To: day(2020, 1, 3)})
			require.ErrorIs(t, err, tt.wantErr)
			if tt.wantMsg != "" {
				require.ErrorContains(t, err, tt.wantMsg)
			}
			require.Len(t, bars, tt.wantN)
			require.Equal(t, tt.wantCalls, tr.GetTotalCallCount())
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	c, tr := newMock(t)
	var rec providertest.Recorder
	tr.RegisterResponder(http.MethodGet, chartURL+"AAPL", rec.Wrap(
		httpmock.NewStringResponder(429, "Too Many Requests").HeaderSet(http.Header{"Retry-After": {"1"}}).
			Then(httpmock.NewBytesResponder(200, fixture(t, "v8_chart_AAPL_1d_2020-01-01_2020-01-03.json")))))
	bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", From: day(2020, 1, 1), To: day(2020, 1, 3)})
	require.NoError(t, err)
	require.Len(t, bars, 1)
	require.Equal(t, 2, rec.Len())
	at := rec.Times()
	require.GreaterOrEqual(t, at[1].Sub(at[0]), time.Second, "retried before Retry-After elapsed")
}

func TestQuote(t *testing.T) {
	now := time.Date(2025, 2, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		sym  string
		file string
		want providers.Quote
	}{
		{
			// meta: regularMarketPrice 97208.17, day high 97372.1, low
			// 96481.414, volume 27909466112, time 1740051840; no
			// previousClose, so the close of the bar before the last
			// (2020-01-02: 6985.47021484375); open of the last bar.
			name: "crypto from bars", sym: "BTC-USD", file: "v8_chart_BTC-USD_1d_2020-01-01_2020-01-03.json",
			want: providers.Quote{Symbol: "BTC-USD", Class: providers.Crypto, Price: 97208.17, Open: 6984.4287109375,
				High: 97372.1, Low: 96481.414, PrevClose: 6985.47021484375, Volume: 27909466112,
				Time: time.Unix(1740051840, 0).UTC(), Provider: "yahoo"},
		},
		{
			// One bar only: the previous close is chartPreviousClose 73.412.
			name: "equity one bar", sym: "AAPL", file: "v8_chart_AAPL_1d_2020-01-01_2020-01-03.json",
			want: providers.Quote{Symbol: "AAPL", Class: providers.Equity, Price: 244.87, Open: 74.05999755859375,
				High: 246.01, Low: 243.16, PrevClose: 73.412, Volume: 32129951,
				Time: time.Unix(1739998801, 0).UTC(), Provider: "yahoo"},
		},
		{
			// No bars at all: the meta alone, with its previousClose 244.47.
			name: "equity from meta only", sym: "AAPL", file: "v8_chart_AAPL_1m_2025-02-01_weekend_empty.json",
			want: providers.Quote{Symbol: "AAPL", Class: providers.Equity, Price: 244.87,
				High: 246.01, Low: 243.16, PrevClose: 244.47, Volume: 32129951,
				Time: time.Unix(1739998801, 0).UTC(), Provider: "yahoo"},
		},
		{
			name: "forex", sym: "EUR/USD", file: "v8_chart_EURUSDX_1d_2020-01-01_2020-01-03.json",
			want: providers.Quote{Symbol: "EUR_USD", Class: providers.Forex, Price: 1.0436, Open: 1.1170812845230103,
				High: 1.0449, Low: 1.0422, PrevClose: 1.1220825910568237,
				Time: time.Unix(1740052002, 0).UTC(), Provider: "yahoo"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, tr := newMock(t)
			yahoo.SetNow(c, func() time.Time { return now })
			var rec providertest.Recorder
			tr.RegisterNoResponder(rec.Wrap(httpmock.NewBytesResponder(200, fixture(t, tt.file))))
			got, err := c.Quote(t.Context(), tt.sym)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			reqs, _ := rec.Requests()
			q := reqs[0].URL.Query()
			require.Equal(t, "1d", q.Get("interval"))
			require.Equal(t, "1740052800", q.Get("period2"))
			require.Equal(t, "1739188800", q.Get("period1"), "ten days back")
		})
	}
}

func TestQuoteErrors(t *testing.T) {
	c, tr := newMock(t)
	tr.RegisterResponder(http.MethodGet, chartURL+"MDLY", httpmock.NewBytesResponder(404, fixture(t, "v8_chart_error_404_no_data_found.json")))
	_, err := c.Quote(t.Context(), "MDLY")
	require.ErrorIs(t, err, providers.ErrNotFound)
	var se *providers.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, 404, se.Status)

	tr.RegisterResponder(http.MethodGet, chartURL+"ZZZZ", httpmock.NewStringResponder(200, `{"chart":{"result":[{"meta":{"symbol":"ZZZZ"}}],"error":null}}`))
	_, err = c.Quote(t.Context(), "ZZZZ")
	require.ErrorIs(t, err, providers.ErrNoData)
}

func TestClientBasics(t *testing.T) {
	c, _ := newMock(t)
	require.Equal(t, "yahoo", c.Name())
	require.Equal(t, []providers.AssetClass{providers.Equity, providers.Crypto, providers.Forex}, c.Classes())
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	_, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL"})
	require.ErrorIs(t, err, providers.ErrClosed)

	_, err = yahoo.New(yahoo.Config{BaseURL: "ftp://example.com"})
	require.Error(t, err)
	require.False(t, errors.Is(err, providers.ErrClosed))
}
