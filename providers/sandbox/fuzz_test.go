package sandbox

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzServe sends arbitrary paths, queries and bodies: every request gets
// an answer, never a panic.
func FuzzServe(f *testing.F) {
	seeds := []string{
		"/alphavantage/query?function=TIME_SERIES_DAILY&symbol=AAPL&apikey=k",
		"/alphavantage/query?function=FX_DAILY&from_symbol=EUR&to_symbol=USD&apikey=k&outputsize=full",
		"/alphavantage/query?function=CURRENCY_EXCHANGE_RATE&from_currency=BTC&to_currency=USD&apikey=k",
		"/coinbase-exchange/products/BTC-USD/candles?granularity=86400&start=2018-01-01&end=2018-02-01",
		"/coinbase/api/v3/brokerage/orders/historical/x",
		"/oanda/v3/instruments/EUR_USD/candles?granularity=D&count=3&from=2018-01-01T00:00:00Z",
		"/oanda/v3/accounts/1/candles/latest?candleSpecifications=EUR_USD:D:M",
		"/oanda/v3/accounts/1/pricing?instruments=EUR_USD",
		"/polygon/v2/aggs/ticker/AAPL/range/1/day/2017-01-01/2017-02-01?apiKey=k&limit=3&sort=desc",
		"/polygon/v1/open-close/AAPL/2017-01-03?apiKey=k",
		"/finnhub/api/v1/stock/candle?symbol=AAPL&resolution=D&from=0&to=2000000000&token=k",
		"/yahoo/v8/finance/chart/AAPL?period1=0&period2=2000000000&events=split",
		"/yahoo/v8/finance/chart/EURUSD=X?range=ytd",
		"/reddit/r/stocks/search?q=AAPL&restrict_sr=1&after=t3_sbx1",
		"/llm/v1/chat/completions",
	}
	for _, s := range seeds {
		f.Add(http.MethodGet, s, []byte(nil))
	}
	f.Add(http.MethodPost, "/oanda/v3/accounts/1/orders", []byte(`{"order":{"type":"MARKET","instrument":"EUR_USD","units":"-5"}}`))
	f.Add(http.MethodPost, "/coinbase/api/v3/brokerage/orders", []byte(`{"product_id":"BTC-USD","side":"SELL","order_configuration":{"market_market_ioc":{"quote_size":"1e308"}}}`))
	f.Add(http.MethodPost, "/llm/v1/chat/completions", []byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"AAPL"}]}]}`))
	f.Add(http.MethodPost, "/reddit-www/api/v1/access_token", []byte("grant_type=password"))
	h := New(WithReplay(day("2016-01-04"), StepPerQuote))
	f.Fuzz(func(t *testing.T, method, target string, body []byte) {
		if method != http.MethodGet && method != http.MethodPost {
			method = http.MethodGet
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || u.Host != "" || len(target) > 2000 {
			return
		}
		req := httptest.NewRequest(method, "http://sandbox/", bytes.NewReader(body))
		req.URL = &url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		switch prefix, _ := splitPrefix(u.Path); prefix {
		case "reddit-www":
			req.SetBasicAuth(Key, "s")
		case "reddit":
			req.Header.Set("Authorization", "Bearer "+redditTokenFor(Key))
		default:
			req.Header.Set("Authorization", bearerX)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("status %d", rec.Code)
		}
	})
}
