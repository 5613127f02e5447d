package sandbox

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkTransport measures one request through the in-process
// Transport, the ffe CLI's default data path: routing, rendering the
// answer in the API's wire format and reading the body.
func BenchmarkTransport(b *testing.B) {
	benches := []struct {
		name, target string
		hdr          []string
	}{
		{"alphavantage/compact-100d", "/alphavantage/query?function=TIME_SERIES_DAILY&symbol=AAPL&apikey=k", nil},
		{"alphavantage/full-13y", "/alphavantage/query?function=TIME_SERIES_DAILY&symbol=AAPL&outputsize=full&apikey=k", nil},
		{"yahoo/1y", "/yahoo/v8/finance/chart/AAPL?interval=1d&period1=1483228800&period2=1514764800&events=div%7Csplit", nil},
		{"polygon/1y", "/polygon/v2/aggs/ticker/AAPL/range/1/day/2017-01-01/2017-12-31?apiKey=k", nil},
		{"finnhub/1y", "/finnhub/api/v1/stock/candle?symbol=AAPL&resolution=D&from=1483228800&to=1514764800&token=k", nil},
		{"coinbase/300d", "/coinbase-exchange/products/BTC-USD/candles?granularity=86400", nil},
		{"oanda/1y", "/oanda/v3/instruments/EUR_USD/candles?granularity=D&price=BA&from=2017-01-01T00:00:00Z&to=2017-12-31T00:00:00Z", []string{"Authorization", bearerX}},
		{"finnhub/quote", "/finnhub/api/v1/quote?symbol=AAPL&token=k", nil},
	}
	h := New()
	rt := h.Transport()
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "http://sandbox"+bb.target, nil)
			for i := 0; i+1 < len(bb.hdr); i += 2 {
				req.Header.Set(bb.hdr[i], bb.hdr[i+1])
			}
			req.RequestURI = "" // a client request
			var n int64
			b.ReportAllocs()
			for b.Loop() {
				res, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				n, err = io.Copy(io.Discard, res.Body)
				if err != nil || res.StatusCode != 200 {
					b.Fatal(res.StatusCode, err)
				}
				res.Body.Close()
			}
			b.SetBytes(n)
		})
	}
}
