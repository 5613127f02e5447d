package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Coinbase Exchange (public market data) and Coinbase Advanced Trade
// (accounts and orders). The sandbox lists one product, BTC-USD.

const cbProduct = "BTC-USD"

// cbGranularities are the candle widths the Exchange API accepts, in
// seconds.
var cbGranularities = map[int64]bool{60: true, 300: true, 900: true, 3600: true, 21600: true, 86400: true}

func cbJSON(status int, body []byte) reply { return bodyReply(status, ctJSONCharset, body) }

// coinbaseExchangeVenue serves the public Coinbase Exchange API under
// PrefixCoinbaseExchange.
type coinbaseExchangeVenue struct{ *core }

func (*coinbaseExchangeVenue) tooManyRequests() reply {
	return cbJSON(http.StatusTooManyRequests, []byte(`{"message":"Public rate limit exceeded"}`))
}

func (*coinbaseExchangeVenue) internalError() reply {
	return cbJSON(http.StatusInternalServerError, []byte(`{"message":"Internal server error"}`))
}

func (ex *coinbaseExchangeVenue) route(r *http.Request, rest string) reply {
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) != 3 || parts[0] != "products" {
		return cbJSON(http.StatusNotFound, []byte(`{"message":"route not found"}`))
	}
	if r.Method != http.MethodGet {
		return cbJSON(http.StatusMethodNotAllowed, []byte(`{"message":"method not allowed"}`))
	}
	product := parts[1]
	if product != cbProduct {
		return cbJSON(http.StatusNotFound, []byte(`{"message":"NotFound"}`))
	}
	switch parts[2] {
	case "candles":
		return ex.cbCandles(r, product)
	case "ticker":
		s, i, _ := ex.quoteIndex(product)
		return cbJSON(http.StatusOK, cbTicker(s, i))
	}
	return cbJSON(http.StatusNotFound, []byte(`{"message":"route not found"}`))
}

// cbCandles serves GET /products/{id}/candles: rows [time, low, high, open,
// close, volume], newest first, at most 300 per request. Only daily
// candles (granularity=86400) hold data; the other valid granularities
// answer an empty array.
func (ex *coinbaseExchangeVenue) cbCandles(r *http.Request, product string) reply {
	q := r.URL.Query()
	g, err := strconv.ParseInt(q.Get("granularity"), 10, 64)
	if err != nil || !cbGranularities[g] {
		return cbJSON(http.StatusBadRequest, []byte(`{"message":"Unsupported granularity"}`))
	}
	s, n, _ := ex.view(product)
	from, to := max(0, n-300), n
	startS, endS := q.Get("start"), q.Get("end")
	if startS != "" && endS != "" { // one without the other is ignored, as upstream
		start, err := parseTimeParam(startS)
		if err != nil {
			return cbJSON(http.StatusBadRequest, []byte(`{"message":"Invalid start"}`))
		}
		end, err := parseTimeParam(endS)
		if err != nil {
			return cbJSON(http.StatusBadRequest, []byte(`{"message":"Invalid end"}`))
		}
		if end.Before(start) {
			return cbJSON(http.StatusBadRequest, []byte(`{"message":"start must be before end"}`))
		}
		if int64(end.Sub(start)/time.Second)/g > 300 {
			return cbJSON(http.StatusBadRequest, fixture("coinbase/exchange_error_400_candles_granularity_too_small.json"))
		}
		from = min(s.search(start), n)
		to = min(s.search(end.Add(time.Nanosecond)), n)
	}
	if g != 86400 || from >= to {
		return cbJSON(http.StatusOK, []byte("[]"))
	}
	b := make([]byte, 0, 2+(to-from)*80)
	b = append(b, '[')
	for i := to - 1; i >= from; i-- {
		bar := s.bars[i]
		b = append(b, '[')
		b = strconv.AppendInt(b, bar.Time.Unix(), 10)
		for _, v := range [...]float64{bar.Low, bar.High, bar.Open, bar.Close, bar.Volume} {
			b = append(b, ',')
			b = appendNum(b, v)
		}
		b = append(b, ']')
		if i > from {
			b = append(b, ',')
		}
	}
	return cbJSON(http.StatusOK, append(b, ']'))
}

// parseTimeParam accepts RFC 3339 (with or without fractional seconds or
// zone), a date, or Unix seconds.
func parseTimeParam(v string) (time.Time, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", v)
}

// endOfDay is the last microsecond of the UTC day of date, when the
// sandbox's quotes for that day are stamped.
func endOfDay(date time.Time) time.Time { return date.Add(24*time.Hour - time.Microsecond) }

const rfc3339Micro = "2006-01-02T15:04:05.000000Z07:00"

// cbTicker renders the Exchange ticker of bar i.
func cbTicker(s *series, i int) []byte {
	bar := s.bars[i]
	bid, ask := quoteSides(s, i)
	b := make([]byte, 0, 256)
	b = append(b, `{"ask":`...)
	b = appendDecStr(b, ask, 0)
	b = append(b, `,"bid":`...)
	b = appendDecStr(b, bid, 0)
	b = append(b, `,"volume":`...)
	b = appendDecStr(b, bar.Volume, 0)
	b = append(b, `,"trade_id":`...)
	b = strconv.AppendInt(b, int64(i)+1, 10)
	b = append(b, `,"price":`...)
	b = appendDecStr(b, bar.Close, 0)
	b = append(b, `,"size":"0.01","time":`...)
	b = appendStr(b, endOfDay(bar.Time).Format(rfc3339Micro))
	b = append(b, `,"rfq_volume":"0"}`...)
	return b
}
