package sandbox

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leakgate/leakgate/providers"
)

// Finnhub: stock, forex and crypto candles and quotes. Symbols: AAPL and
// SPY, OANDA:EUR_USD, COINBASE:BTC-USD.

var finnhubResolutions = map[string]bool{
	"1": true, "5": true, "15": true, "30": true, "60": true, "D": true, "W": true, "M": true,
}

func finnhubJSON(status int, body []byte) reply { return bodyReply(status, ctJSONCharset, body) }

func finnhubError(status int, msg string) reply {
	return finnhubJSON(status, append(appendStr([]byte(`{"error":`), msg), '}'))
}

// finnhubVenue serves the Finnhub API under PrefixFinnhub.
type finnhubVenue struct{ *core }

func (*finnhubVenue) tooManyRequests() reply {
	return bodyReply(http.StatusTooManyRequests, ctJSONCharset, []byte(`{"error":"API limit reached. Please try again later. Remaining Limit: 0"}`))
}

func (*finnhubVenue) internalError() reply {
	return bodyReply(http.StatusInternalServerError, ctJSONCharset, []byte(`{"error":"Internal server error"}`))
}

func (fh *finnhubVenue) route(r *http.Request, rest string) reply {
	q := r.URL.Query()
	token := q.Get("token")
	if token == "" {
		token = r.Header.Get("X-Finnhub-Token")
	}
	if ok, revoked := credential(token); !ok {
		if revoked {
			return finnhubError(http.StatusUnauthorized, "Invalid API key.")
		}
		return finnhubError(http.StatusUnauthorized, "Please use an API key.")
	}
	switch rest {
	case "/api/v1/stock/candle":
		return fh.finnhubCandles(q, providers.Equity)
	case "/api/v1/forex/candle":
		return fh.finnhubCandles(q, providers.Forex)
	case "/api/v1/crypto/candle":
		return fh.finnhubCandles(q, providers.Crypto)
	case "/api/v1/quote":
		return fh.finnhubQuote(q.Get("symbol"))
	}
	return finnhubError(http.StatusNotFound, "Not found")
}

// finnhubSymbol maps a Finnhub symbol to a sandbox series of class.
func finnhubSymbol(raw string, class providers.AssetClass) (string, bool) {
	var sym string
	switch class {
	case providers.Equity:
		sym = raw
	case providers.Forex:
		rest, ok := strings.CutPrefix(raw, "OANDA:")
		if !ok {
			return "", false
		}
		sym = rest
	case providers.Crypto:
		rest, ok := strings.CutPrefix(raw, "COINBASE:")
		if !ok {
			return "", false
		}
		sym = rest
	}
	norm, c, err := providers.NormalizeSymbol(sym)
	if err != nil || c != class || norm != sym {
		return "", false
	}
	return norm, true
}

// finnhubSymbolAny maps a quote symbol of any class.
func finnhubSymbolAny(raw string) (string, bool) {
	for _, c := range []providers.AssetClass{providers.Equity, providers.Forex, providers.Crypto} {
		if sym, ok := finnhubSymbol(raw, c); ok {
			return sym, true
		}
	}
	return "", false
}

// finnhubStamp is a bar's Finnhub timestamp: 00:00 New York for stocks,
// 00:00 UTC for forex and crypto.
func finnhubStamp(s *series, i int) int64 { return s.midnight[i] }

var noData = []byte(`{"s":"no_data"}`)

// finnhubCandles serves the candle endpoints: parallel arrays c, h, l, o,
// s, t, v for the bars stamped within [from, to]. Only resolution D holds
// data; other valid resolutions, unknown symbols and empty ranges answer
// {"s":"no_data"}.
func (fh *finnhubVenue) finnhubCandles(q map[string][]string, class providers.AssetClass) reply {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	res := get("resolution")
	if !finnhubResolutions[res] {
		return finnhubError(http.StatusUnprocessableEntity, "Wrong resolution")
	}
	from, err1 := strconv.ParseInt(get("from"), 10, 64)
	to, err2 := strconv.ParseInt(get("to"), 10, 64)
	if err1 != nil || err2 != nil {
		return finnhubError(http.StatusUnprocessableEntity, "Wrong from/to")
	}
	sym, ok := finnhubSymbol(get("symbol"), class)
	s, n, known := fh.view(sym)
	if !ok || !known || res != "D" {
		return finnhubJSON(http.StatusOK, noData)
	}
	lo := s.search(time.Unix(from, 0).UTC().Add(-24 * time.Hour))
	for lo < n && finnhubStamp(s, lo) < from {
		lo++
	}
	hi := lo
	for hi < n && finnhubStamp(s, hi) <= to {
		hi++
	}
	if lo >= hi {
		return finnhubJSON(http.StatusOK, noData)
	}
	b := make([]byte, 0, 64+(hi-lo)*70)
	arr := func(key string, f func(i int) []byte) {
		b = append(b, key...)
		b = append(b, '[')
		for i := lo; i < hi; i++ {
			if i > lo {
				b = append(b, ',')
			}
			b = append(b, f(i)...)
		}
		b = append(b, ']')
	}
	var tmp []byte
	num := func(v float64) []byte { tmp = appendNum(tmp[:0], v); return tmp }
	arr(`{"c":`, func(i int) []byte { return num(s.bars[i].Close) })
	arr(`,"h":`, func(i int) []byte { return num(s.bars[i].High) })
	arr(`,"l":`, func(i int) []byte { return num(s.bars[i].Low) })
	arr(`,"o":`, func(i int) []byte { return num(s.bars[i].Open) })
	b = append(b, `,"s":"ok"`...)
	arr(`,"t":`, func(i int) []byte { tmp = strconv.AppendInt(tmp[:0], finnhubStamp(s, i), 10); return tmp })
	arr(`,"v":`, func(i int) []byte { return num(s.bars[i].Volume) })
	return finnhubJSON(http.StatusOK, append(b, '}'))
}

// finnhubQuote serves GET /api/v1/quote in the current shape (c, d, dp, h,
// l, o, pc, t). An unknown symbol answers zeros with null changes, as
// upstream.
func (fh *finnhubVenue) finnhubQuote(raw string) reply {
	sym, ok := finnhubSymbolAny(raw)
	var s *series
	var i int
	if ok {
		s, i, ok = fh.quoteIndex(sym)
	}
	if !ok {
		return finnhubJSON(http.StatusOK, []byte(`{"c":0,"d":null,"dp":null,"h":0,"l":0,"o":0,"pc":0,"t":0}`))
	}
	bar := s.bars[i]
	prev := bar.Open
	if i > 0 {
		prev = s.bars[i-1].Close
	}
	t := endOfDay(bar.Time).Truncate(time.Second)
	if s.class == providers.Equity {
		t = nyClose(bar.Time)
	}
	b := make([]byte, 0, 160)
	b = append(b, `{"c":`...)
	b = appendNum(b, bar.Close)
	b = append(b, `,"d":`...)
	b = appendNum(b, roundTo(bar.Close-prev, 4))
	b = append(b, `,"dp":`...)
	b = appendNum(b, roundTo((bar.Close-prev)/prev*100, 4))
	b = append(b, `,"h":`...)
	b = appendNum(b, bar.High)
	b = append(b, `,"l":`...)
	b = appendNum(b, bar.Low)
	b = append(b, `,"o":`...)
	b = appendNum(b, bar.Open)
	b = append(b, `,"pc":`...)
	b = appendNum(b, prev)
	b = append(b, `,"t":`...)
	b = strconv.AppendInt(b, t.Unix(), 10)
	return finnhubJSON(http.StatusOK, append(b, '}'))
}
