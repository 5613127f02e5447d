package sandbox

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leakgate/leakgate/providers"
)

// Polygon: aggregates, previous close and last trade for AAPL, SPY,
// X:BTCUSD and C:EURUSD.

var polygonSpans = map[string]bool{
	"second": true, "minute": true, "hour": true, "day": true, "week": true, "month": true,
	"quarter": true, "year": true,
}

// polygonVenue serves the Polygon.io REST API under PrefixPolygon.
type polygonVenue struct{ *core }

func (*polygonVenue) tooManyRequests() reply {
	return bodyReply(http.StatusTooManyRequests, ctJSON, []byte(`{"status":"ERROR","request_id":"00000000000000000000000000000429","error":"You've exceeded the maximum requests per minute, please wait or upgrade your subscription to continue."}`))
}

func (*polygonVenue) internalError() reply {
	return bodyReply(http.StatusInternalServerError, ctJSON, []byte(`{"status":"ERROR","request_id":"00000000000000000000000000000500","error":"Internal Server Error"}`))
}

func (pg *polygonVenue) polygonError(status int, statusWord, key, msg string) reply {
	b := []byte(`{"status":`)
	b = appendStr(b, statusWord)
	b = append(b, `,"request_id":`...)
	b = appendStr(b, pg.requestID())
	b = append(b, ',')
	b = appendStr(b, key)
	b = append(b, ':')
	b = appendStr(b, msg)
	return bodyReply(status, ctJSON, append(b, '}'))
}

func (pg *polygonVenue) route(r *http.Request, rest string) reply {
	key := r.URL.Query().Get("apiKey")
	if key == "" {
		key = bearer(r)
	}
	if ok, revoked := credential(key); !ok {
		if revoked {
			return pg.polygonError(http.StatusUnauthorized, "ERROR", "error", "Unknown API Key")
		}
		return pg.polygonError(http.StatusUnauthorized, "ERROR", "error", "API Key was not provided")
	}
	if r.Method != http.MethodGet {
		return pg.polygonError(http.StatusNotFound, "NOT_FOUND", "message", "Route not found.")
	}
	p := strings.Split(strings.Trim(rest, "/"), "/")
	switch {
	case len(p) == 9 && p[0] == "v2" && p[1] == "aggs" && p[2] == "ticker" && p[4] == "range":
		return pg.polygonRange(r, p[3], p[5], p[6], p[7], p[8])
	case len(p) == 5 && p[0] == "v2" && p[1] == "aggs" && p[2] == "ticker" && p[4] == "prev":
		return pg.polygonPrev(p[3])
	case len(p) == 4 && p[0] == "v2" && p[1] == "last" && p[2] == "trade":
		return pg.polygonLastTrade(p[3])
	case len(p) == 5 && p[0] == "v1" && p[1] == "last" && p[2] == "crypto":
		return pg.polygonLastCrypto(p[3], p[4])
	case len(p) == 5 && p[0] == "v1" && p[1] == "last_quote" && p[2] == "currencies":
		return pg.polygonLastForex(p[3], p[4])
	case len(p) == 4 && p[0] == "v2" && p[1] == "last" && p[2] == "nbbo":
		return pg.polygonNBBO(p[3])
	case len(p) == 4 && p[0] == "v1" && p[1] == "open-close":
		return pg.polygonOpenClose(p[2], p[3])
	}
	return pg.polygonError(http.StatusNotFound, "NOT_FOUND", "message", "Route not found.")
}

// polygonSymbol maps a Polygon ticker to a sandbox symbol: stock tickers
// bare, crypto with X:, forex with C:.
func polygonSymbol(ticker string) (string, bool) {
	sym, class, err := providers.NormalizeSymbol(ticker)
	if err != nil {
		return "", false
	}
	switch class {
	case providers.Equity:
		return sym, !strings.Contains(ticker, ":")
	case providers.Crypto:
		return sym, strings.HasPrefix(ticker, "X:")
	case providers.Forex:
		return sym, strings.HasPrefix(ticker, "C:")
	}
	return "", false
}

// polygonStamp is a bar's Polygon timestamp: 00:00 New York for stocks,
// 00:00 UTC for crypto and forex.
func polygonStamp(s *series, i int) time.Time { return time.Unix(s.midnight[i], 0).UTC() }

// polygonTrades is a deterministic trade count for a bar, derived from its
// volume (the source has none).
func polygonTrades(s *series, i int) int64 {
	v := s.bars[i].Volume
	switch s.class {
	case providers.Equity:
		return 1 + int64(v/7800)
	case providers.Crypto:
		return 1 + int64(v*4)
	}
	return 0
}

// appendAgg appends one aggregate result in the recorded key order; with
// ticker set it starts with "T" as /prev answers do.
func appendAgg(b []byte, s *series, i int, ticker string) []byte {
	bar := s.bars[i]
	b = append(b, '{')
	if ticker != "" {
		b = append(b, `"T":`...)
		b = appendStr(b, ticker)
		b = append(b, ',')
	}
	b = append(b, `"v":`...)
	b = appendNum(b, bar.Volume)
	b = append(b, `,"vw":`...)
	b = appendNum(b, roundTo((bar.High+bar.Low+bar.Close)/3, 4))
	b = append(b, `,"o":`...)
	b = appendNum(b, bar.Open)
	b = append(b, `,"c":`...)
	b = appendNum(b, bar.Close)
	b = append(b, `,"h":`...)
	b = appendNum(b, bar.High)
	b = append(b, `,"l":`...)
	b = appendNum(b, bar.Low)
	b = append(b, `,"t":`...)
	b = strconv.AppendInt(b, polygonStamp(s, i).UnixMilli(), 10)
	b = append(b, `,"n":`...)
	b = strconv.AppendInt(b, polygonTrades(s, i), 10)
	return append(b, '}')
}

// parsePolygonDate parses a range bound: a date (the whole day) or a Unix
// millisecond timestamp.
func parsePolygonDate(v string, end bool) (time.Time, bool) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), true
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, false
	}
	if end {
		t = t.Add(24*time.Hour - time.Nanosecond)
	}
	return t, true
}

// polygonRange serves GET /v2/aggs/ticker/{T}/range/{mult}/{span}/{from}/{to}
// with sort and limit (default 5000, at most 50000; a cut answer carries
// next_url). Only 1/day holds data; other valid spans answer no results,
// like a range without bars. An unknown ticker answers no results too.
func (pg *polygonVenue) polygonRange(r *http.Request, ticker, multS, span, fromS, toS string) reply {
	q := r.URL.Query()
	mult, err := strconv.Atoi(multS)
	if err != nil || mult < 1 || !polygonSpans[span] {
		return pg.polygonError(http.StatusBadRequest, "ERROR", "error", "Could not parse the multiplier or timespan.")
	}
	from, ok1 := parsePolygonDate(fromS, false)
	to, ok2 := parsePolygonDate(toS, true)
	if !ok1 || !ok2 {
		return pg.polygonError(http.StatusBadRequest, "ERROR", "error", "Could not parse the time parameter: 'from' or 'to'. Use YYYY-MM-DD or a Unix MS Timestamp")
	}
	limit := 5000
	if v := q.Get("limit"); v != "" {
		if l, err := strconv.Atoi(v); err == nil && l > 0 {
			limit = min(l, 50000)
		}
	}
	desc := q.Get("sort") == "desc"
	adjusted := q.Get("adjusted") != "false"
	var idx []int
	sym, known := polygonSymbol(ticker)
	s, n, ok := pg.view(sym)
	if known && ok && mult == 1 && span == "day" {
		lo, hi := polygonDays(s, n, from, to)
		for i := lo; i < hi; i++ {
			idx = append(idx, i) // a slice local to this function: its first growths stay on the stack
		}
		if desc {
			slices.Reverse(idx)
		}
	}
	var next string
	if len(idx) > limit {
		next = polygonNextURL(r, q, ticker, fromS, toS, polygonStamp(s, idx[limit]).UnixMilli(), desc)
		idx = idx[:limit]
	}
	b := make([]byte, 0, 256+len(idx)*110)
	b = append(b, `{"ticker":`...)
	b = appendStr(b, ticker)
	b = append(b, `,"queryCount":`...)
	b = strconv.AppendInt(b, int64(len(idx)), 10)
	b = append(b, `,"resultsCount":`...)
	b = strconv.AppendInt(b, int64(len(idx)), 10)
	b = append(b, `,"adjusted":`...)
	b = strconv.AppendBool(b, adjusted)
	if len(idx) > 0 {
		b = append(b, `,"results":[`...)
		for k, i := range idx {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendAgg(b, s, i, "")
		}
		b = append(b, ']')
	}
	b = append(b, `,"status":"OK","request_id":`...)
	b = appendStr(b, pg.requestID())
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(len(idx)), 10)
	if next != "" {
		b = append(b, `,"next_url":`...)
		b = appendStr(b, next)
	}
	return bodyReply(http.StatusOK, ctJSON, append(b, '}'))
}

// polygonDays returns the bars [lo, hi) of the first n of s stamped from
// from to to, inclusive.
func polygonDays(s *series, n int, from, to time.Time) (lo, hi int) {
	lo = s.search(from.Add(-24 * time.Hour))
	for lo < n && polygonStamp(s, lo).Before(from) {
		lo++
	}
	hi = lo
	for hi < n && !polygonStamp(s, hi).After(to) {
		hi++
	}
	return lo, hi
}

// polygonNextURL is the next_url of an aggregates answer to r (query q)
// cut before the bar stamped nextStamp (Unix milliseconds): the same
// request with the range starting (or, with desc, ending) there.
func polygonNextURL(r *http.Request, q url.Values, ticker, fromS, toS string, nextStamp int64, desc bool) string {
	u := url.URL{Scheme: requestScheme(r), Host: requestHost(r), Path: "/polygon/v2/aggs/ticker/" + ticker + "/range/1/day/"}
	if desc {
		u.Path += fromS + "/" + strconv.FormatInt(nextStamp, 10)
	} else {
		u.Path += strconv.FormatInt(nextStamp, 10) + "/" + toS
	}
	nq := url.Values{}
	for _, k := range []string{"adjusted", "sort", "limit"} {
		if v := q.Get(k); v != "" {
			nq.Set(k, v)
		}
	}
	u.RawQuery = nq.Encode()
	return u.String()
}

// requestScheme is the scheme a request was sent with.
func requestScheme(r *http.Request) string {
	switch {
	case r.URL.Scheme != "":
		return r.URL.Scheme
	case r.TLS != nil:
		return "https"
	}
	return "http"
}

// requestHost is the host a request was sent to, on either side of a
// connection.
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}

// polygonPrev serves GET /v2/aggs/ticker/{T}/prev: the latest complete
// daily bar. The sandbox's "now" is after the close of the current bar, so
// that bar is the previous session's.
func (pg *polygonVenue) polygonPrev(ticker string) reply {
	sym, known := polygonSymbol(ticker)
	s, i, ok := pg.quoteIndex(sym)
	b := make([]byte, 0, 320)
	b = append(b, `{"ticker":`...)
	b = appendStr(b, ticker)
	if !known || !ok {
		b = append(b, `,"queryCount":0,"resultsCount":0,"adjusted":true,"status":"OK","request_id":`...)
		b = appendStr(b, pg.requestID())
		return bodyReply(http.StatusOK, ctJSON, append(b, `,"count":0}`...))
	}
	b = append(b, `,"queryCount":1,"resultsCount":1,"adjusted":true,"results":[`...)
	b = appendAgg(b, s, i, ticker)
	b = append(b, `],"status":"OK","request_id":`...)
	b = appendStr(b, pg.requestID())
	return bodyReply(http.StatusOK, ctJSON, append(b, `,"count":1}`...))
}

// polygonTradeTime is when the sandbox's last trade of bar i happened: the
// New York close for stocks, the end of the UTC day otherwise.
func polygonTradeTime(s *series, i int) time.Time {
	if s.class == providers.Equity {
		return nyClose(s.bars[i].Time).Add(-time.Millisecond)
	}
	return endOfDay(s.bars[i].Time)
}

// polygonLastTrade serves GET /v2/last/trade/{T}: a trade at the current
// close.
func (pg *polygonVenue) polygonLastTrade(ticker string) reply {
	sym, known := polygonSymbol(ticker)
	if !known {
		return pg.polygonError(http.StatusNotFound, "NOT_FOUND", "message", "Data not found.")
	}
	s, i, ok := pg.quoteIndex(sym)
	if !ok {
		return pg.polygonError(http.StatusNotFound, "NOT_FOUND", "message", "Data not found.")
	}
	ns := polygonTradeTime(s, i).UnixNano()
	tape := map[string]int64{"AAPL": 3, "SPY": 2}[sym]
	b := make([]byte, 0, 320)
	b = append(b, `{"results":{"c":[12,37],"i":`...)
	b = appendStr(b, strconv.FormatUint(mix(uint64(ns))%1000000, 10))
	b = append(b, `,"p":`...)
	b = appendNum(b, s.bars[i].Close)
	b = append(b, `,"s":100,"x":4,"r":202,"z":`...)
	b = strconv.AppendInt(b, tape, 10)
	b = append(b, `,"T":`...)
	b = appendStr(b, ticker)
	for _, k := range []string{`,"t":`, `,"y":`, `,"f":`} {
		b = append(b, k...)
		b = strconv.AppendInt(b, ns, 10)
	}
	b = append(b, `,"q":`...)
	b = strconv.AppendInt(b, int64(i)+1, 10)
	b = append(b, `},"status":"OK","request_id":`...)
	b = appendStr(b, pg.requestID())
	return bodyReply(http.StatusOK, ctJSON, append(b, '}'))
}

// polygonLastCrypto serves GET /v1/last/crypto/{from}/{to}.
func (pg *polygonVenue) polygonLastCrypto(from, to string) reply {
	sym := strings.ToUpper(from) + "-" + strings.ToUpper(to)
	s, i, ok := pg.quoteIndex(sym)
	if !ok || s.class != providers.Crypto {
		return pg.polygonError(http.StatusNotFound, "NOT_FOUND", "message", "Data not found.")
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"last":{"conditions":[2],"exchange":1,"price":`...)
	b = appendNum(b, s.bars[i].Close)
	b = append(b, `,"size":0.01,"timestamp":`...)
	b = strconv.AppendInt(b, endOfDay(s.bars[i].Time).UnixMilli(), 10)
	b = append(b, `},"request_id":`...)
	b = appendStr(b, pg.requestID())
	b = append(b, `,"status":"success","symbol":`...)
	b = appendStr(b, sym)
	return bodyReply(http.StatusOK, ctJSON, append(b, '}'))
}

// polygonLastForex serves GET /v1/last_quote/currencies/{from}/{to}: the
// current closing bid and ask.
func (pg *polygonVenue) polygonLastForex(from, to string) reply {
	sym := strings.ToUpper(from) + "_" + strings.ToUpper(to)
	s, i, ok := pg.quoteIndex(sym)
	if !ok || s.class != providers.Forex {
		return pg.polygonError(http.StatusNotFound, "NOT_FOUND", "message", "Data not found.")
	}
	bid, ask := quoteSides(s, i)
	b := make([]byte, 0, 256)
	b = append(b, `{"last":{"ask":`...)
	b = appendNum(b, ask)
	b = append(b, `,"bid":`...)
	b = appendNum(b, bid)
	b = append(b, `,"exchange":48,"timestamp":`...)
	b = strconv.AppendInt(b, endOfDay(s.bars[i].Time).UnixMilli(), 10)
	b = append(b, `},"request_id":`...)
	b = appendStr(b, pg.requestID())
	b = append(b, `,"status":"success","symbol":`...)
	b = appendStr(b, strings.ToUpper(from)+"/"+strings.ToUpper(to))
	return bodyReply(http.StatusOK, ctJSON, append(b, '}'))
}

// polygonNBBO serves GET /v2/last/nbbo/{T} for stocks: a cent either side
// of the current close.
func (pg *polygonVenue) polygonNBBO(ticker string) reply {
	sym, known := polygonSymbol(ticker)
	s, i, ok := pg.quoteIndex(sym)
	if !known || !ok || s.class != providers.Equity {
		return pg.polygonError(http.StatusNotFound, "NOT_FOUND", "message", "Data not found.")
	}
	bid, ask := quoteSides(s, i)
	ns := polygonTradeTime(s, i).UnixNano()
	b := make([]byte, 0, 256)
	b = append(b, `{"results":{"p":`...)
	b = appendNum(b, bid)
	b = append(b, `,"s":1,"x":19,"P":`...)
	b = appendNum(b, ask)
	b = append(b, `,"S":1,"X":11,"z":`...)
	b = strconv.AppendInt(b, map[string]int64{"AAPL": 3, "SPY": 2}[sym], 10)
	b = append(b, `,"T":`...)
	b = appendStr(b, ticker)
	for _, k := range []string{`,"t":`, `,"y":`} {
		b = append(b, k...)
		b = strconv.AppendInt(b, ns, 10)
	}
	b = append(b, `,"q":`...)
	b = strconv.AppendInt(b, int64(i)+1, 10)
	b = append(b, `},"status":"OK","request_id":`...)
	b = appendStr(b, pg.requestID())
	return bodyReply(http.StatusOK, ctJSON, append(b, '}'))
}

// polygonOpenClose serves GET /v1/open-close/{T}/{date} for stocks. The
// source has no extended-hours prices: preMarket is the open and
// afterHours the close.
func (pg *polygonVenue) polygonOpenClose(ticker, date string) reply {
	sym, known := polygonSymbol(ticker)
	s, n, ok := pg.view(sym)
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return pg.polygonError(http.StatusBadRequest, "ERROR", "error", "Could not parse the date.")
	}
	if !known || !ok || s.class != providers.Equity {
		return pg.polygonError(http.StatusNotFound, "NOT_FOUND", "message", "Data not found.")
	}
	i := s.search(d)
	if i >= n || !s.bars[i].Time.Equal(d) {
		return pg.polygonError(http.StatusNotFound, "NOT_FOUND", "message", "Data not found.")
	}
	bar := s.bars[i]
	b := make([]byte, 0, 256)
	b = append(b, `{"status":"OK","from":`...)
	b = appendStr(b, date)
	b = append(b, `,"symbol":`...)
	b = appendStr(b, ticker)
	for _, f := range []struct {
		k string
		v float64
	}{{"open", bar.Open}, {"high", bar.High}, {"low", bar.Low}, {"close", bar.Close}, {"volume", bar.Volume}, {"afterHours", bar.Close}, {"preMarket", bar.Open}} {
		b = append(b, ',')
		b = appendStr(b, f.k)
		b = append(b, ':')
		b = appendNum(b, f.v)
	}
	return bodyReply(http.StatusOK, ctJSON, append(b, '}'))
}
