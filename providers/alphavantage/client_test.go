package alphavantage_test

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/alphavantage"
	"github.com/leakgate/leakgate/providers/internal/providertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testKey  = "av-test-key-0123456789"
	queryURL = alphavantage.DefaultBaseURL + "/query"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	return providertest.Fixture(t, "alphavantage", name)
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// step and ok shorten the scripted answers of the tables below.
type step = providertest.Step

var ok = providertest.OK

// newMock returns a client whose requests to the real base URL are answered
// by steps, with fast retries and no rate limit.
func newMock(t *testing.T, cfg alphavantage.Config, steps []step, opts ...providers.Option) (*alphavantage.Client, *providertest.Recorder) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	rec := providertest.OnGet(mt, cmp.Or(cfg.BaseURL, alphavantage.DefaultBaseURL)+"/query", steps...)
	cfg.APIKey = cmp.Or(cfg.APIKey, testKey)
	c, err := alphavantage.New(cfg, providertest.MockOptions(mt, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, rec
}

func TestBars(t *testing.T) {
	tests := []struct {
		name        string
		fixture     string
		cfg         alphavantage.Config
		symbol      string
		wantParams  map[string]string
		wantN       int
		first, last providers.Bar
	}{
		{
			name: "daily IBM", fixture: "time_series_daily_IBM.json", symbol: "ibm",
			wantParams: map[string]string{"function": "TIME_SERIES_DAILY", "symbol": "IBM", "outputsize": "compact"},
			wantN:      2,
			first:      providers.Bar{Time: day(2020, 5, 7), Open: 122.98, High: 123.26, Low: 120.85, Close: 121.23, Volume: 4412047},
			last:       providers.Bar{Time: day(2020, 5, 8), Open: 122.67, High: 122.80, Low: 121.06, Close: 121.79, Volume: 2538547},
		},
		{
			name: "daily MSFT compact, 100 days", fixture: "time_series_daily_MSFT_compact.json", symbol: "MSFT",
			wantParams: map[string]string{"function": "TIME_SERIES_DAILY", "symbol": "MSFT"},
			wantN:      100,
			first:      providers.Bar{Time: day(2018, 1, 17), Open: 89.08, High: 90.28, Low: 88.75, Close: 90.14, Volume: 24659472},
			last:       providers.Bar{Time: day(2018, 6, 8), Open: 101.0924, High: 101.95, Low: 100.54, Close: 101.63, Volume: 22165128},
		},
		{
			name: "daily adjusted IBM", fixture: "time_series_daily_adjusted_IBM.json", symbol: "IBM",
			cfg:        alphavantage.Config{Adjusted: true, OutputSize: alphavantage.OutputFull},
			wantParams: map[string]string{"function": "TIME_SERIES_DAILY_ADJUSTED", "symbol": "IBM", "outputsize": "full"},
			wantN:      2,
			first:      providers.Bar{Time: day(2020, 5, 7), Open: 122.98, High: 123.26, Low: 120.85, Close: 121.23, Volume: 4412047},
			last:       providers.Bar{Time: day(2020, 5, 8), Open: 122.67, High: 122.80, Low: 121.06, Close: 121.805, Volume: 2542577},
		},
		{
			name: "fx daily EUR/USD", fixture: "fx_daily_EUR_USD.json", symbol: "EUR/USD",
			wantParams: map[string]string{"function": "FX_DAILY", "from_symbol": "EUR", "to_symbol": "USD", "outputsize": "compact"},
			wantN:      2,
			first:      providers.Bar{Time: day(2020, 5, 5), Open: 1.0904, High: 1.0926, Low: 1.0825, Close: 1.0840},
			last:       providers.Bar{Time: day(2020, 5, 6), Open: 1.0839, High: 1.0844, Low: 1.0780, Close: 1.0794},
		},
		{
			name: "digital currency daily BTC/EUR (2024+ shape)", fixture: "digital_currency_daily_BTC_EUR.json", symbol: "BTC-EUR",
			wantParams: map[string]string{"function": "DIGITAL_CURRENCY_DAILY", "symbol": "BTC", "market": "EUR"},
			wantN:      3,
			first:      providers.Bar{Time: day(2025, 8, 22), Open: 96856.83, High: 100149.00, Low: 96171.51, Close: 99313.95, Volume: 260.30828027},
			last:       providers.Bar{Time: day(2025, 8, 24), Open: 97883.18, High: 98040.37, Low: 97854.95, Close: 97886.73, Volume: 9.35943544},
		},
		{
			name: "digital currency daily BTC/CNY (legacy shape)", fixture: "digital_currency_daily_BTC_CNY_legacy.json", symbol: "btc_cny",
			wantParams: map[string]string{"function": "DIGITAL_CURRENCY_DAILY", "symbol": "BTC", "market": "CNY"},
			wantN:      2,
			first:      providers.Bar{Time: day(2020, 5, 3), Open: 63347.31205800, High: 64952.92, Low: 61507.5912, Close: 62793.659016, Volume: 90126.065643},
			last:       providers.Bar{Time: day(2020, 5, 4), Open: 62793.588415, High: 63089.75961, Low: 62092.449884, Close: 62286.885038, Volume: 2328.295447},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := newMock(t, tt.cfg, []step{ok(fixture(t, tt.fixture))})
			bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: tt.symbol, Interval: providers.Day})
			require.NoError(t, err)
			require.Len(t, bars, tt.wantN)
			require.Equal(t, tt.first, bars[0])
			require.Equal(t, tt.last, bars[len(bars)-1])
			for i := 1; i < len(bars); i++ {
				require.True(t, bars[i-1].Time.Before(bars[i].Time), "bars ascending")
			}
			q := rec.Last().URL.Query()
			for k, v := range tt.wantParams {
				require.Equal(t, v, q.Get(k), k)
			}
			require.Equal(t, testKey, q.Get("apikey"))
			require.Equal(t, 1, rec.Len())
		})
	}
}

func TestBarsFilterRange(t *testing.T) {
	c, _ := newMock(t, alphavantage.Config{}, []step{ok(fixture(t, "time_series_daily_MSFT_compact.json"))})
	bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "MSFT", From: day(2018, 5, 26), To: day(2018, 6, 1)})
	require.NoError(t, err)
	require.Len(t, bars, 4) // 05-29, 05-30, 05-31, 06-01 (05-28 was Memorial Day)
	require.Equal(t, providers.Bar{Time: day(2018, 5, 29), Open: 97.84, High: 98.88, Low: 97.23, Close: 98.01, Volume: 28670981}, bars[0])
	require.Equal(t, providers.Bar{Time: day(2018, 6, 1), Open: 99.2798, High: 100.86, Low: 99.17, Close: 100.79, Volume: 28655624}, bars[3])

	// Bounds are dates: the time of day does not cut a bar off.
	bars, err = c.Bars(t.Context(), providers.BarQuery{Symbol: "MSFT", From: day(2018, 6, 7).Add(15 * time.Hour), To: day(2018, 6, 7).Add(16 * time.Hour)})
	require.NoError(t, err)
	require.Len(t, bars, 1)
	require.Equal(t, day(2018, 6, 7), bars[0].Time)

	_, err = c.Bars(t.Context(), providers.BarQuery{Symbol: "MSFT", From: day(2019, 1, 1), To: day(2019, 2, 1)})
	require.ErrorIs(t, err, providers.ErrNoData)
}

func TestAdjustedBars(t *testing.T) {
	c, rec := newMock(t, alphavantage.Config{}, []step{ok(fixture(t, "time_series_daily_adjusted_IBM.json"))})
	bars, err := c.AdjustedBars(t.Context(), providers.BarQuery{Symbol: "IBM"})
	require.NoError(t, err)
	require.Equal(t, []alphavantage.AdjustedBar{
		{Bar: providers.Bar{Time: day(2020, 5, 7), Open: 122.98, High: 123.26, Low: 120.85, Close: 121.23, Volume: 4412047},
			AdjustedClose: 121.23, Dividend: 1.63, SplitCoefficient: 1},
		{Bar: providers.Bar{Time: day(2020, 5, 8), Open: 122.67, High: 122.80, Low: 121.06, Close: 121.805, Volume: 2542577},
			AdjustedClose: 121.805, Dividend: 0, SplitCoefficient: 1},
	}, bars)
	require.Equal(t, "TIME_SERIES_DAILY_ADJUSTED", rec.Last().URL.Query().Get("function"))

	_, err = c.AdjustedBars(t.Context(), providers.BarQuery{Symbol: "EUR_USD"})
	require.ErrorIs(t, err, providers.ErrUnsupported)
}

func TestQuote(t *testing.T) {
	tests := []struct {
		name       string
		fixture    string
		symbol     string
		wantParams map[string]string
		want       providers.Quote
	}{
		{
			name: "global quote IBM", fixture: "global_quote_IBM.json", symbol: "IBM",
			wantParams: map[string]string{"function": "GLOBAL_QUOTE", "symbol": "IBM"},
			want: providers.Quote{Symbol: "IBM", Class: providers.Equity, Price: 121.74, Open: 122.67, High: 122.80, Low: 121.06,
				PrevClose: 121.23, Volume: 2528814, Time: day(2020, 5, 8), Provider: "alphavantage"},
		},
		{
			name: "global quote MSFT", fixture: "global_quote_MSFT.json", symbol: "msft",
			wantParams: map[string]string{"function": "GLOBAL_QUOTE", "symbol": "MSFT"},
			want: providers.Quote{Symbol: "MSFT", Class: providers.Equity, Price: 112.13, Open: 112.63, High: 113.17, Low: 110.64,
				PrevClose: 112.79, Volume: 29062853, Time: day(2018, 10, 5), Provider: "alphavantage"},
		},
		{
			name: "exchange rate BTC/CNY with bid and ask", fixture: "currency_exchange_rate_BTC_CNY.json", symbol: "BTC-CNY",
			wantParams: map[string]string{"function": "CURRENCY_EXCHANGE_RATE", "from_currency": "BTC", "to_currency": "CNY"},
			want: providers.Quote{Symbol: "BTC-CNY", Class: providers.Crypto, Price: 62423.68125, Bid: 62423.68125, Ask: 62423.751885,
				Time: time.Date(2020, 5, 3, 20, 32, 20, 0, time.UTC), Provider: "alphavantage"},
		},
		{
			name: "exchange rate BTC/CNY 2017, seven fields", fixture: "currency_exchange_rate_BTC_CNY_2017.json", symbol: "BTC-CNY",
			want: providers.Quote{Symbol: "BTC-CNY", Class: providers.Crypto, Price: 109631.430607,
				Time: time.Date(2017, 12, 20, 19, 23, 21, 0, time.UTC), Provider: "alphavantage"},
		},
		{
			name: "exchange rate EUR/USD 2018, seven fields", fixture: "currency_exchange_rate_EUR_USD_2018.json", symbol: "EURUSD",
			wantParams: map[string]string{"function": "CURRENCY_EXCHANGE_RATE", "from_currency": "EUR", "to_currency": "USD"},
			want: providers.Quote{Symbol: "EUR_USD", Class: providers.Forex, Price: 1.16665014,
				Time: time.Date(2018, 6, 23, 10, 27, 49, 0, time.UTC), Provider: "alphavantage"},
		},
		{
			name: `exchange rate USD/JPY, bid and ask "-"`, fixture: "currency_exchange_rate_USD_JPY_no_bid_ask.json", symbol: "USD_JPY",
			want: providers.Quote{Symbol: "USD_JPY", Class: providers.Forex, Price: 106.89,
				Time: time.Date(2020, 5, 3, 20, 50, 48, 0, time.UTC), Provider: "alphavantage"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := newMock(t, alphavantage.Config{}, []step{ok(fixture(t, tt.fixture))})
			got, err := c.Quote(t.Context(), tt.symbol)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			q := rec.Last().URL.Query()
			for k, v := range tt.wantParams {
				require.Equal(t, v, q.Get(k), k)
			}
		})
	}
}

func TestParseGlobalQuoteChange(t *testing.T) {
	q, err := alphavantage.ParseGlobalQuote(fixture(t, "global_quote_MSFT.json"))
	require.NoError(t, err)
	require.Equal(t, -0.66, q.Change)
	require.Equal(t, -0.5852, q.ChangePercent)
	q, err = alphavantage.ParseGlobalQuote(fixture(t, "global_quote_IBM.json"))
	require.NoError(t, err)
	require.Equal(t, 0.51, q.Change)
	require.Equal(t, 0.4207, q.ChangePercent)
}

// Error bodies no recorded fixture holds. premiumBody, volumeBody and
// burstBody carry the upstream's wording as quoted in public issue threads
// (jinglescode/time-series-forecasting-pytorch#11, 2022,
// RomelTorres/alpha_vantage#62, 2018, when rate limits came under
// "Information", and GeneBO98/tradetally#202, 2025); badKeyBody is
// illustrative.
const (
	burstBody   = `{"Information": "Thank you for using Alpha Vantage! Please consider spreading out your free API requests more sparingly (1 request per second). You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to lift the free key rate limit (25 requests per day), raise the per-second burst limit, and instantly unlock all premium endpoints"}`
	premiumBody = `{"Information": "Thank you for using Alpha Vantage! This is a premium endpoint and there are multiple ways to unlock premium endpoints: (1) become a holder of Alpha Vantage Coin (AVC), an Ethereum-based cryptocurrency that provides various utility & governance functions within the Alpha Vantage ecosystem (AVC mining guide: https://www.alphatournament.com/avc_mining_guide/) to unlock all premium endpoints, (2) subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly unlock all premium endpoints"}`
	volumeBody  = `{"Information": "Thank you for using Alpha Vantage! Please kindly contact support@alphavantage.co if you would like to have a higher API call volume."}`
	badKeyBody  = `{"Error Message": "the parameter apikey is invalid or missing."}`
	htmlBody    = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>"
	// notUTF8HTML once made the title search slice past the body's end.
	notUTF8HTML = "<000\xbc0000000<title>"
	emptySeries = `{"Meta Data": {"1. Information": "Daily Prices (open, high, low, close) and Volumes", "2. Symbol": "IBM"}, "Time Series (Daily)": {}}`
)

// getBars and getQuote are the calls TestErrors makes.
func getBars(ctx context.Context, c *alphavantage.Client) error {
	_, err := c.Bars(ctx, providers.BarQuery{Symbol: "IBM"})
	return err
}

func getQuote(ctx context.Context, c *alphavantage.Client) error {
	_, err := c.Quote(ctx, "ZZZZ")
	return err
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		steps      []step
		call       func(context.Context, *alphavantage.Client) error
		wantErr    error
		wantCalls  int
		wantMsg    string
		wantRetry  time.Duration
		wantStatus int // 0: not a *providers.StatusError
	}{
		{name: "Note: per-minute limit, retried", steps: []step{ok(fixture(t, "error_note_call_frequency_legacy.json"))}, call: getBars,
			wantErr: providers.ErrRateLimited, wantCalls: 3, wantMsg: "5 calls per minute", wantStatus: 200},
		{name: "Information: daily limit, not retried", steps: []step{ok(fixture(t, "error_information_daily_limit.json"))}, call: getBars,
			wantErr: providers.ErrRateLimited, wantCalls: 1, wantMsg: "25 requests per day", wantRetry: alphavantage.DailyLimitRetryAfter, wantStatus: 200},
		{name: "Information: premium endpoint", steps: []step{ok([]byte(premiumBody))}, call: getBars,
			wantErr: providers.ErrUnauthorized, wantCalls: 1, wantMsg: "premium endpoint", wantStatus: 200},
		{name: "Information: per-second burst, retried", steps: []step{ok([]byte(burstBody))}, call: getBars,
			wantErr: providers.ErrRateLimited, wantCalls: 3, wantMsg: "more sparingly", wantStatus: 200},
		{name: "Information: 2018 call volume, retried", steps: []step{ok([]byte(volumeBody))}, call: getBars,
			wantErr: providers.ErrRateLimited, wantCalls: 3, wantMsg: "higher API call volume", wantStatus: 200},
		{name: "Information: 2018 call frequency, retried", steps: []step{ok([]byte(`{"Information": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day."}`))},
			call: getBars, wantErr: providers.ErrRateLimited, wantCalls: 3, wantMsg: "call frequency", wantStatus: 200},
		{name: "Error Message: invalid call", steps: []step{ok(fixture(t, "error_message_invalid_api_call.json"))}, call: getBars,
			wantErr: providers.ErrNotFound, wantCalls: 1, wantMsg: "Invalid API call", wantStatus: 200},
		{name: "Error Message: invalid apikey", steps: []step{ok([]byte(badKeyBody))}, call: getBars,
			wantErr: providers.ErrUnauthorized, wantCalls: 1, wantMsg: "apikey is invalid", wantStatus: 200},
		{name: "malformed JSON", steps: []step{ok([]byte(`{"Meta Data": {"2. Symbol": "IBM"}, "Time Series (Daily)": {"2020-05-08": {"1. open": "1`))},
			call: getBars, wantErr: providers.ErrDecode, wantCalls: 1, wantMsg: "alphavantage: decode"},
		{name: "non-numeric value", steps: []step{ok([]byte(`{"Time Series (Daily)": {"2020-05-08": {"1. open": "x", "2. high": "1", "3. low": "1", "4. close": "1", "5. volume": "1"}}}`))},
			call: getBars, wantErr: providers.ErrDecode, wantCalls: 1, wantMsg: "2020-05-08.1. open"},
		{name: "missing field", steps: []step{ok([]byte(`{"Time Series (Daily)": {"2020-05-08": {"1. open": "1", "2. high": "1", "3. low": "1", "4. close": "1"}}}`))},
			call: getBars, wantErr: providers.ErrDecode, wantCalls: 1, wantMsg: `missing "volume"`},
		{name: "empty body", steps: []step{ok(nil)}, call: getBars, wantErr: providers.ErrDecode, wantCalls: 1, wantMsg: "alphavantage: decode"},
		{name: "HTML 502 page, retried", steps: []step{{Status: 502, Body: []byte(htmlBody)}}, call: getBars,
			wantErr: providers.ErrUpstream, wantCalls: 3, wantMsg: "HTML page: 502 Bad Gateway", wantStatus: 502},
		{name: "HTML page, not UTF-8 (fuzz regression)", steps: []step{{Status: 502, Body: []byte(notUTF8HTML)}}, call: getBars,
			wantErr: providers.ErrUpstream, wantCalls: 3, wantMsg: "HTML page", wantStatus: 502},
		{name: "HTML page with status 200", steps: []step{ok([]byte(htmlBody))}, call: getBars,
			wantErr: providers.ErrUpstream, wantCalls: 1, wantMsg: "HTML page", wantStatus: 200},
		{name: "empty series", steps: []step{ok([]byte(emptySeries))}, call: getBars,
			wantErr: providers.ErrNoData, wantCalls: 1, wantMsg: `"Time Series (Daily)" is empty`},
		{name: "unknown symbol quote", steps: []step{ok([]byte(`{"Global Quote": {}}`))}, call: getQuote,
			wantErr: providers.ErrNotFound, wantCalls: 1, wantMsg: `empty "Global Quote"`},
		{name: "HTTP 500 exhausted", steps: []step{{Status: 500, Body: []byte("internal error")}}, call: getBars,
			wantErr: providers.ErrUpstream, wantCalls: 3, wantMsg: "internal error", wantStatus: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := newMock(t, alphavantage.Config{}, tt.steps)
			err := tt.call(t.Context(), c)
			require.ErrorIs(t, err, tt.wantErr)
			require.Equal(t, tt.wantCalls, rec.Len())
			require.ErrorContains(t, err, tt.wantMsg)
			require.Equal(t, tt.wantRetry, providers.RetryAfter(err))
			require.NotContains(t, err.Error(), testKey)
			providertest.RequireStatus(t, err, "alphavantage", tt.wantStatus)
		})
	}
}

func TestRetriesThenSuccess(t *testing.T) {
	c, rec := newMock(t, alphavantage.Config{}, []step{
		ok(fixture(t, "error_note_call_frequency_legacy.json")),
		{Status: 503, Body: []byte(htmlBody)},
		ok(fixture(t, "time_series_daily_IBM.json")),
	})
	bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "IBM"})
	require.NoError(t, err)
	require.Len(t, bars, 2)
	require.Equal(t, 3, rec.Len())
}

func TestRetryAfterHonoured(t *testing.T) {
	c, rec := newMock(t, alphavantage.Config{}, []step{
		{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"1"}}},
		ok(fixture(t, "global_quote_IBM.json")),
	})
	q, err := c.Quote(t.Context(), "IBM")
	require.NoError(t, err)
	require.Equal(t, 121.74, q.Price)
	require.Equal(t, 2, rec.Len())
	at := rec.Times()
	require.GreaterOrEqual(t, at[1].Sub(at[0]), time.Second, "retried before Retry-After elapsed")
}

func TestTimeout(t *testing.T) {
	c, rec := newMock(t, alphavantage.Config{}, []step{{Status: 200, Delay: 5 * time.Second}},
		providers.WithTimeout(30*time.Millisecond), providers.WithRetry(2, time.Millisecond, time.Millisecond))
	_, err := c.Quote(t.Context(), "IBM")
	require.ErrorIs(t, err, providers.ErrTimeout)
	require.Equal(t, 2, rec.Len())
	require.NotContains(t, err.Error(), testKey)
}

func TestBaseURLPrefix(t *testing.T) {
	c, rec := newMock(t, alphavantage.Config{BaseURL: "http://sandbox.test/alphavantage"}, []step{ok(fixture(t, "global_quote_IBM.json"))})
	_, err := c.Quote(t.Context(), "IBM")
	require.NoError(t, err)
	require.Equal(t, "/alphavantage/query", rec.Last().URL.Path)
}

func TestOutputSizeFollowsRange(t *testing.T) {
	tests := []struct {
		name     string
		cfg      alphavantage.Config
		from, to time.Time
		want     string
	}{
		{name: "open range", want: "compact"},
		{name: "recent", from: time.Now().AddDate(0, -1, 0), want: "compact"},
		{name: "two years", from: time.Now().AddDate(-2, 0, 0), want: "full"},
		{name: "open start, recent end", to: time.Now().AddDate(0, -1, 0), want: "compact"},
		// The latest 100 bars hold nothing up to a year ago.
		{name: "open start, old end", to: time.Now().AddDate(-1, 0, 0), want: "full"},
		{name: "configured", cfg: alphavantage.Config{OutputSize: alphavantage.OutputCompact}, from: time.Now().AddDate(-2, 0, 0), want: "compact"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := newMock(t, tt.cfg, []step{ok(fixture(t, "time_series_daily_IBM.json"))})
			_, _ = c.Bars(t.Context(), providers.BarQuery{Symbol: "IBM", From: tt.from, To: tt.to})
			require.Equal(t, tt.want, rec.Last().URL.Query().Get("outputsize"))
		})
	}
}

func TestRejectedQueries(t *testing.T) {
	c, rec := newMock(t, alphavantage.Config{}, []step{ok(fixture(t, "time_series_daily_IBM.json"))})
	_, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "IBM", Interval: providers.Hour})
	require.ErrorIs(t, err, providers.ErrUnsupported)
	_, err = c.Bars(t.Context(), providers.BarQuery{Symbol: "not a symbol"})
	require.ErrorIs(t, err, providers.ErrBadSymbol)
	_, err = c.Quote(t.Context(), "")
	require.ErrorIs(t, err, providers.ErrBadSymbol)
	require.Equal(t, 0, rec.Len())
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     alphavantage.Config
		wantMsg string
	}{
		{name: "no key", cfg: alphavantage.Config{}, wantMsg: "APIKey is required"},
		{name: "key with space", cfg: alphavantage.Config{APIKey: "a b"}, wantMsg: "white space"},
		{name: "bad output size", cfg: alphavantage.Config{APIKey: "k", OutputSize: "big"}, wantMsg: "OutputSize"},
		{name: "bad base URL", cfg: alphavantage.Config{APIKey: "k", BaseURL: "ftp://x"}, wantMsg: "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := alphavantage.New(tt.cfg)
			require.ErrorContains(t, err, tt.wantMsg)
		})
	}
}

func TestClosedClient(t *testing.T) {
	c, rec := newMock(t, alphavantage.Config{}, []step{ok(fixture(t, "global_quote_IBM.json"))})
	require.NoError(t, c.Close())
	_, err := c.Quote(t.Context(), "IBM")
	require.ErrorIs(t, err, providers.ErrClosed)
	require.Equal(t, 0, rec.Len())
}

// fixtureHandler serves the recorded answers by function, as the real
// /query endpoint does.
func fixtureHandler(t *testing.T) http.Handler {
	byFunction := map[string][]byte{
		"TIME_SERIES_DAILY":          fixture(t, "time_series_daily_MSFT_compact.json"),
		"TIME_SERIES_DAILY_ADJUSTED": fixture(t, "time_series_daily_adjusted_IBM.json"),
		"GLOBAL_QUOTE":               fixture(t, "global_quote_IBM.json"),
		"FX_DAILY":                   fixture(t, "fx_daily_EUR_USD.json"),
		"DIGITAL_CURRENCY_DAILY":     fixture(t, "digital_currency_daily_BTC_EUR.json"),
		"CURRENCY_EXCHANGE_RATE":     fixture(t, "currency_exchange_rate_BTC_CNY.json"),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, found := byFunction[r.URL.Query().Get("function")]
		if r.URL.Path != "/alphavantage/query" || r.URL.Query().Get("apikey") != testKey || !found {
			w.Write(fixture(t, "error_message_invalid_api_call.json"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

func TestCloseReleasesEverything(t *testing.T) {
	providertest.CheckClose(t, fixtureHandler(t), func(base string) (io.Closer, error) {
		return alphavantage.New(alphavantage.Config{BaseURL: base + "/alphavantage", APIKey: testKey},
			providers.WithRateLimit(rate.Inf, 1))
	}, func(cl io.Closer) {
		c := cl.(*alphavantage.Client)
		ctx := t.Context()
		for _, sym := range []string{"MSFT", "EUR_USD", "BTC-EUR"} {
			bars, err := c.Bars(ctx, providers.BarQuery{Symbol: sym})
			require.NoError(t, err, sym)
			require.NotEmpty(t, bars)
		}
		_, err := c.AdjustedBars(ctx, providers.BarQuery{Symbol: "IBM"})
		require.NoError(t, err)
		for _, sym := range []string{"IBM", "BTC-CNY"} {
			_, err := c.Quote(ctx, sym)
			require.NoError(t, err, sym)
		}
	})
}

func TestUnclosedTracker(t *testing.T) {
	srv := providertest.NewServer(t, fixtureHandler(t))
	providertest.CheckUnclosedTracker(t, "alphavantage", func(l *slog.Logger) (io.Closer, error) {
		c, err := alphavantage.New(alphavantage.Config{BaseURL: srv.URL + "/alphavantage", APIKey: testKey},
			providers.WithLogger(l), providers.WithRateLimit(rate.Inf, 1))
		if err != nil {
			return nil, err
		}
		_, err = c.Quote(context.Background(), "IBM")
		return c, err
	})
	srv.RequireNoOpenConns(t)
}

// TestLive calls the real API; it runs only when ALPHAVANTAGE_API_KEY is set.
func TestLive(t *testing.T) {
	key := providertest.EnvOrSkip(t, "ALPHAVANTAGE_API_KEY")[0]
	c, err := alphavantage.New(alphavantage.Config{APIKey: key})
	require.NoError(t, err)
	defer c.Close()
	q, err := c.Quote(t.Context(), "IBM")
	require.NoError(t, err)
	require.Equal(t, "IBM", q.Symbol)
	require.Positive(t, q.Price)
}
