package sandbox

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leakgate/leakgate/providers"
)

// Yahoo Finance v8 chart: AAPL, SPY, BTC-USD and EURUSD=X, daily bars.

// yahooInfo is the per-symbol part of a chart's meta.
type yahooInfo struct {
	symbol, exchange, fullExchange, instrument, longName, shortName string
	priceHint                                                       int
}

var yahooSymbols = map[string]yahooInfo{
	"AAPL":     {"AAPL", "NMS", "NasdaqGS", "EQUITY", "Apple Inc.", "Apple Inc.", 2},
	"SPY":      {"SPY", "PCX", "NYSEArca", "ETF", "SPDR S&P 500 ETF Trust", "SPDR S&P 500", 2},
	"BTC-USD":  {"BTC-USD", "CCC", "CCC", "CRYPTOCURRENCY", "Bitcoin USD", "Bitcoin USD", 2},
	"EURUSD=X": {"EURUSD=X", "CCY", "CCY", "CURRENCY", "EUR/USD", "EUR/USD", 4},
}

// yahooSplits are the real stock splits inside the embedded AAPL history
// (whose prices are already split-adjusted).
var yahooSplits = map[string][]struct {
	date     string
	num, den int
}{
	"AAPL": {{"2005-02-28", 2, 1}, {"2014-06-09", 7, 1}},
}

// yahooQuoteSpan is the longest period1–period2 window that counts as a
// quote request when it reaches past the latest bar.
const yahooQuoteSpan = 14 * 24 * 3600

var yahooIntervals = []string{"1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h", "1d", "5d", "1wk", "1mo", "3mo"}

var yahooRanges = map[string]func(time.Time) time.Time{
	"1d":  func(t time.Time) time.Time { return t.AddDate(0, 0, -1) },
	"5d":  func(t time.Time) time.Time { return t.AddDate(0, 0, -7) },
	"1mo": func(t time.Time) time.Time { return t.AddDate(0, -1, 0) },
	"3mo": func(t time.Time) time.Time { return t.AddDate(0, -3, 0) },
	"6mo": func(t time.Time) time.Time { return t.AddDate(0, -6, 0) },
	"1y":  func(t time.Time) time.Time { return t.AddDate(-1, 0, 0) },
	"2y":  func(t time.Time) time.Time { return t.AddDate(-2, 0, 0) },
	"5y":  func(t time.Time) time.Time { return t.AddDate(-5, 0, 0) },
	"10y": func(t time.Time) time.Time { return t.AddDate(-10, 0, 0) },
	"ytd": func(t time.Time) time.Time { return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC) },
	"max": func(time.Time) time.Time { return time.Unix(0, 0).UTC() },
}

func yahooError(status int, code, desc string) reply {
	b := []byte(`{"chart":{"result":null,"error":{"code":`)
	b = appendStr(b, code)
	b = append(b, `,"description":`...)
	b = appendStr(b, desc)
	return bodyReply(status, ctYahoo, append(b, "}}}"...))
}

// yahooVenue serves the Yahoo Finance chart API under PrefixYahoo.
type yahooVenue struct{ *core }

func (*yahooVenue) tooManyRequests() reply {
	return bodyReply(http.StatusTooManyRequests, ctText, []byte("Too Many Requests\r\n"))
}

func (*yahooVenue) internalError() reply {
	return bodyReply(http.StatusInternalServerError, ctYahoo, []byte(`{"chart":{"result":null,"error":{"code":"Internal Server Error","description":"Internal Server Error"}}}`))
}

func (yh *yahooVenue) route(r *http.Request, rest string) reply {
	symbol, ok := strings.CutPrefix(rest, "/v8/finance/chart/")
	if !ok || symbol == "" || strings.Contains(symbol, "/") {
		return yahooError(http.StatusNotFound, "Not Found", "HTTP 404 Not Found")
	}
	info, known := yahooSymbols[strings.ToUpper(symbol)]
	norm, _, err := providers.NormalizeSymbol(symbol)
	if !known || err != nil {
		return bodyReply(http.StatusNotFound, ctYahoo, fixture("yahoo/v8_chart_error_404_no_data_found.json"))
	}
	q := r.URL.Query()
	interval := q.Get("interval")
	if interval == "" {
		interval = "1d"
	}
	valid := false
	for _, v := range yahooIntervals {
		valid = valid || v == interval
	}
	if !valid {
		return yahooError(http.StatusBadRequest, "Bad Request",
			"Invalid input - interval="+interval+" is not supported. Valid intervals: ["+strings.Join(yahooIntervals, ", ")+"]")
	}
	s, n, _ := yh.view(norm)
	var p1, p2 int64
	rangeName := ""
	if q.Get("period1") == "" {
		rangeName = q.Get("range")
		if rangeName == "" {
			rangeName = "1mo"
		}
		if yahooRanges[rangeName] == nil {
			return yahooError(http.StatusBadRequest, "Bad Request", "Invalid input - range="+rangeName+" is not supported.")
		}
		p1, p2, n = yh.rangeWindow(s, norm, rangeName)
	} else {
		var fail *reply
		if p1, p2, n, fail = yh.periodWindow(s, norm, n, q.Get("period1"), q.Get("period2")); fail != nil {
			return *fail
		}
	}
	lo, hi := 0, 0
	if interval == "1d" {
		lo, hi = yahooBars(s, n, p1, p2)
	}
	return bodyReply(http.StatusOK, ctYahoo, yahooChart(nil, s, info, n, lo, hi, interval, rangeName, q.Get("events")))
}

// rangeWindow serves a chart asked by range (a key of yahooRanges): the
// Unix seconds [p1, p2) it covers, ending after the quoted bar, and the
// bars visible. Asking by range is how Yahoo clients quote, so it moves a
// StepPerQuote clock.
func (yh *yahooVenue) rangeWindow(s *series, norm, rangeName string) (p1, p2 int64, n int) {
	_, i, _ := yh.quoteIndex(norm)
	n = i + 1
	nowStamp := yahooStamp(s, n-1)
	p1 = yahooRanges[rangeName](time.Unix(nowStamp, 0).UTC()).Unix()
	if days := map[string]int{"1d": 1, "5d": 5}[rangeName]; days > 0 {
		p1 = yahooStamp(s, max(0, n-days)) // trading days, not calendar days
	}
	return p1, nowStamp + 1, n
}

// periodWindow serves a chart asked by period1 and period2 (Unix seconds;
// period2 defaults to after the latest of the n visible bars): the window
// [p1, p2) and the bars visible, or Yahoo's answer to a window that is
// invalid or ends before the first bar. A short window reaching past the
// latest bar is how Yahoo clients quote, so it moves a StepPerQuote clock.
func (yh *yahooVenue) periodWindow(s *series, norm string, n int, p1S, p2S string) (p1, p2 int64, bars int, fail *reply) {
	nowStamp := yahooStamp(s, n-1)
	var err1, err2 error
	p1, err1 = strconv.ParseInt(p1S, 10, 64)
	p2 = nowStamp + 1
	if p2S != "" {
		p2, err2 = strconv.ParseInt(p2S, 10, 64)
	}
	if err1 != nil || err2 != nil || p1 > p2 {
		rep := yahooError(http.StatusBadRequest, "Bad Request", "Invalid input - start date cannot be after end date. startDate = "+p1S+", endDate = "+p2S)
		return 0, 0, 0, &rep
	}
	if p2 <= yahooStamp(s, 0) {
		b := bytes.Replace(fixture("yahoo/v8_chart_error_400_data_doesnt_exist.json"),
			[]byte("startDate = 1577836800, endDate = 1578009600"),
			[]byte("startDate = "+strconv.FormatInt(p1, 10)+", endDate = "+strconv.FormatInt(p2, 10)), 1)
		rep := bodyReply(http.StatusBadRequest, ctYahoo, b)
		return 0, 0, 0, &rep
	}
	if p2 > nowStamp && p2-p1 <= yahooQuoteSpan {
		_, i, _ := yh.quoteIndex(norm)
		n = i + 1
	}
	return p1, p2, n, nil
}

// yahooBars returns the daily bars [lo, hi) of the first n of s stamped in
// [p1, p2) (Unix seconds).
func yahooBars(s *series, n int, p1, p2 int64) (lo, hi int) {
	lo = s.search(time.Unix(p1, 0).UTC().Add(-24 * time.Hour))
	for lo < n && yahooStamp(s, lo) < p1 {
		lo++
	}
	hi = lo
	for hi < n && yahooStamp(s, hi) < p2 {
		hi++
	}
	return lo, hi
}

// yahooStamp is a bar's Yahoo timestamp: the New York open (09:30) for
// stocks, 00:00 UTC for crypto and currencies.
func yahooStamp(s *series, i int) int64 { return s.open[i] }

// yahooZone returns the exchange zone's abbreviation and offset on date.
func yahooZone(s *series, date time.Time) (string, int) {
	switch s.class {
	case providers.Equity:
		off := nyOffset(date, 12)
		if off == -4*3600 {
			return "EDT", off
		}
		return "EST", off
	case providers.Forex:
		return "GMT", 0
	}
	return "UTC", 0
}

func appendKV(b []byte, key string) []byte {
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// yahooChart renders a chart answer for bars [lo, hi) of s with n bars
// visible.
func yahooChart(b []byte, s *series, info yahooInfo, n, lo, hi int, interval, rangeName, events string) []byte {
	if b == nil {
		b = make([]byte, 0, 1600+(hi-lo)*120)
	}
	b = append(b, `{"chart":{"result":[{"meta":{`...)
	b = appendYahooMeta(b, s, info, n, lo, interval, rangeName)
	b = append(b, `"validRanges":["1d","5d","1mo","3mo","6mo","1y","2y","5y","10y","ytd","max"]}`...)
	if lo >= hi {
		return append(b, `,"indicators":{"quote":[{}]}}],"error":null}}`...)
	}
	b = appendYahooBars(b, s, lo, hi, events)
	return append(b, `}}],"error":null}}`...)
}

// appendYahooMeta appends the members of a chart's meta object, each followed by
// a comma: the instrument, its latest bar (the nth) and its trading
// periods, and the close before bar lo.
func appendYahooMeta(b []byte, s *series, info yahooInfo, n, lo int, interval, rangeName string) []byte {
	cur := s.bars[n-1]
	tz, off := yahooZone(s, cur.Time)
	zoneName := map[providers.AssetClass]string{providers.Equity: "America/New_York", providers.Forex: "Europe/London", providers.Crypto: "UTC"}[s.class]
	hi52, lo52 := cur.High, cur.Low
	for i := max(0, n-252); i < n; i++ {
		hi52, lo52 = max(hi52, s.bars[i].High), min(lo52, s.bars[i].Low)
	}
	prevClose := s.bars[0].Open
	if lo > 0 {
		prevClose = s.bars[lo-1].Close
	}
	var marketTime int64
	if s.class == providers.Equity {
		marketTime = nyClose(cur.Time).Unix()
	} else {
		marketTime = endOfDay(cur.Time).Truncate(time.Second).Unix()
	}
	b = appendYahooStr(b, "currency", "USD")
	b = appendYahooStr(b, "symbol", info.symbol)
	b = appendYahooStr(b, "exchangeName", info.exchange)
	b = appendYahooStr(b, "fullExchangeName", info.fullExchange)
	b = appendYahooStr(b, "instrumentType", info.instrument)
	b = appendYahooInt(b, "firstTradeDate", yahooStamp(s, 0))
	b = appendYahooInt(b, "regularMarketTime", marketTime)
	b = append(b, `"hasPrePostMarketData":`...)
	b = strconv.AppendBool(b, s.class == providers.Equity)
	b = append(b, ',')
	b = appendYahooInt(b, "gmtoffset", int64(off))
	b = appendYahooStr(b, "timezone", tz)
	b = appendYahooStr(b, "exchangeTimezoneName", zoneName)
	b = appendYahooNum(b, "regularMarketPrice", cur.Close)
	b = appendYahooNum(b, "fiftyTwoWeekHigh", hi52)
	b = appendYahooNum(b, "fiftyTwoWeekLow", lo52)
	b = appendYahooNum(b, "regularMarketDayHigh", cur.High)
	b = appendYahooNum(b, "regularMarketDayLow", cur.Low)
	b = appendYahooNum(b, "regularMarketVolume", cur.Volume)
	b = appendYahooStr(b, "longName", info.longName)
	b = appendYahooStr(b, "shortName", info.shortName)
	b = appendYahooNum(b, "chartPreviousClose", prevClose)
	b = appendYahooInt(b, "priceHint", int64(info.priceHint))
	b = appendYahooPeriods(b, s.class, cur.Time, tz, off)
	b = appendYahooStr(b, "dataGranularity", interval)
	return appendYahooStr(b, "range", rangeName)
}

// appendYahooPeriods appends the currentTradingPeriod member, and a comma,
// for the trading day day of an asset class in zone tz, offset off seconds.
func appendYahooPeriods(b []byte, class providers.AssetClass, day time.Time, tz string, off int) []byte {
	b = append(b, `"currentTradingPeriod":{`...)
	start := day.Unix()
	periods := [3][2]int64{{start, start}, {start, start + 86340}, {start + 86340, start + 86340}}
	if class == providers.Equity {
		periods = [3][2]int64{
			{nyTime(day, 4, 0).Unix(), nyOpen(day).Unix()},
			{nyOpen(day).Unix(), nyClose(day).Unix()},
			{nyClose(day).Unix(), nyTime(day, 20, 0).Unix()},
		}
	}
	for k, name := range []string{"pre", "regular", "post"} {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendKV(b, name)
		b = append(b, '{')
		b = appendYahooStr(b, "timezone", tz)
		b = appendYahooInt(b, "start", periods[k][0])
		b = appendYahooInt(b, "end", periods[k][1])
		b = appendKV(b, "gmtoffset")
		b = strconv.AppendInt(b, int64(off), 10)
		b = append(b, '}')
	}
	return append(b, "},"...)
}

// appendYahooStr, appendYahooNum and appendYahooInt append a meta member
// and a comma.
func appendYahooStr(b []byte, k, v string) []byte {
	b = appendStr(appendKV(b, k), v)
	return append(b, ',')
}

func appendYahooNum(b []byte, k string, v float64) []byte {
	b = appendNum(appendKV(b, k), v)
	return append(b, ',')
}

func appendYahooInt(b []byte, k string, v int64) []byte {
	b = strconv.AppendInt(appendKV(b, k), v, 10)
	return append(b, ',')
}

// appendYahooBars appends the timestamp, events and indicators members of
// a chart for bars [lo, hi) of s, up to the close of the adjclose array.
func appendYahooBars(b []byte, s *series, lo, hi int, events string) []byte {
	b = append(b, `,"timestamp":[`...)
	for i := lo; i < hi; i++ {
		if i > lo {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, yahooStamp(s, i), 10)
	}
	b = append(b, ']')
	b = appendYahooEvents(b, s, lo, hi, events)
	b = append(b, `,"indicators":{"quote":[{`...)
	column := func(key string, f func(providers.Bar) float64, last bool) {
		b = appendKV(b, key)
		b = append(b, '[')
		for i := lo; i < hi; i++ {
			if i > lo {
				b = append(b, ',')
			}
			b = appendNum(b, f(s.bars[i]))
		}
		b = append(b, ']')
		if !last {
			b = append(b, ',')
		}
	}
	column("open", func(x providers.Bar) float64 { return x.Open }, false)
	column("high", func(x providers.Bar) float64 { return x.High }, false)
	column("low", func(x providers.Bar) float64 { return x.Low }, false)
	column("close", func(x providers.Bar) float64 { return x.Close }, false)
	column("volume", func(x providers.Bar) float64 { return x.Volume }, true)
	b = append(b, `}],"adjclose":[{"adjclose":[`...)
	for i := lo; i < hi; i++ {
		if i > lo {
			b = append(b, ',')
		}
		b = appendNum(b, s.adj[i])
	}
	return append(b, `]}]`...)
}

// appendYahooEvents appends the "events" member when events asks for splits
// and some fall within bars [lo, hi). Dividends are not recorded.
func appendYahooEvents(b []byte, s *series, lo, hi int, events string) []byte {
	if !strings.Contains(events, "split") {
		return b
	}
	first := true
	for _, sp := range yahooSplits[s.symbol] {
		d, _ := time.Parse(time.DateOnly, sp.date)
		i := s.search(d)
		if i < lo || i >= hi || !s.bars[i].Time.Equal(d) {
			continue
		}
		if first {
			b = append(b, `,"events":{"splits":{`...)
			first = false
		} else {
			b = append(b, ',')
		}
		ts := strconv.FormatInt(yahooStamp(s, i), 10)
		b = appendStr(b, ts)
		b = append(b, `:{"date":`...)
		b = append(b, ts...)
		b = append(b, `,"numerator":`...)
		b = strconv.AppendInt(b, int64(sp.num), 10)
		b = append(b, `,"denominator":`...)
		b = strconv.AppendInt(b, int64(sp.den), 10)
		b = append(b, `,"splitRatio":`...)
		b = appendStr(b, strconv.Itoa(sp.num)+":"+strconv.Itoa(sp.den))
		b = append(b, '}')
	}
	if !first {
		b = append(b, "}}"...)
	}
	return b
}
