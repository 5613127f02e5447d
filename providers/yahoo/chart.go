package yahoo

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fastjson"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/wire"
)

// Chart is one decoded v8 chart answer.
type Chart struct {
	// Symbol is the normalised symbol ("AAPL", "BTC-USD", "EUR_USD"), or
	// empty when Yahoo's spelling has no normalised form.
	Symbol string
	Meta   Meta
	// Bars are in ascending time order, one per timestamp. A timestamp whose
	// open, high, low or close is null is skipped: Yahoo reports such holes
	// for halted sessions and for the in-progress bar of some markets. A null
	// volume is read as zero.
	//
	// Daily and longer bars are stamped at 00:00 UTC of the exchange's
	// trading date (Yahoo stamps them at the session open, e.g. 14:30 UTC
	// for New York), so they line up with other providers' daily bars.
	// Intraday bars keep Yahoo's timestamp.
	Bars []providers.Bar
	// AdjClose holds the split- and dividend-adjusted close of each bar,
	// index for index with Bars. It is nil when the answer has no adjclose
	// series (intraday charts); an element Yahoo reported as null is zero.
	AdjClose []float64
	// Splits and Dividends are the chart's corporate events, in ascending
	// time order, stamped like the bars.
	Splits    []Split
	Dividends []Dividend
}

// Meta is the chart's "meta" object: what Yahoo knows of the instrument and
// its latest trade. Fields Yahoo omitted are zero.
type Meta struct {
	// Symbol is Yahoo's spelling ("AAPL", "BTC-USD", "EURUSD=X").
	Symbol           string
	Currency         string
	ExchangeName     string
	FullExchangeName string
	// InstrumentType is e.g. "EQUITY", "ETF", "CRYPTOCURRENCY", "CURRENCY".
	InstrumentType string
	// Class is the asset class InstrumentType maps to; empty if unknown.
	Class                providers.AssetClass
	FirstTradeDate       time.Time
	RegularMarketTime    time.Time
	RegularMarketPrice   float64
	RegularMarketDayHigh float64
	RegularMarketDayLow  float64
	RegularMarketVolume  float64
	// ChartPreviousClose is the close before the first bar of the chart.
	ChartPreviousClose float64
	// PreviousClose is the previous session's close; Yahoo sends it only
	// for some ranges.
	PreviousClose float64
	// GMTOffset is the exchange's current offset from UTC, in seconds.
	GMTOffset            int
	Timezone             string
	ExchangeTimezoneName string
	// DataGranularity is the bar interval in Yahoo's spelling ("1d", "1m").
	DataGranularity string
}

// Split is a stock split: Numerator new shares for Denominator old ones.
type Split struct {
	Time        time.Time
	Numerator   float64
	Denominator float64
	// Ratio is Yahoo's text, e.g. "4:1".
	Ratio string
}

// Dividend is a cash dividend per share, in the chart's currency.
type Dividend struct {
	Time   time.Time
	Amount float64
}

// decoder holds what a decode reuses: the fastjson parser with its value
// cache and a scratch buffer for number text. Pooled, a warm decode
// allocates only its results.
type decoder struct {
	p       fastjson.Parser
	scratch []byte
}

var decoders = sync.Pool{New: func() any { return &decoder{scratch: make([]byte, 0, 64)} }}

func getDecoder() *decoder  { return decoders.Get().(*decoder) }
func putDecoder(d *decoder) { decoders.Put(d) }

// ParseChart decodes the body of GET /v8/finance/chart/{symbol}.
//
// An answer whose chart.error is set yields a *providers.StatusError
// (Status 0: the parser does not know the HTTP status) matching
// ErrNotFound for "Not Found", ErrRateLimited for "Too Many Requests",
// ErrUnauthorized for "Unauthorized" and ErrUpstream otherwise. An answer
// without bars (an empty range, a weekend of minute bars) returns the Chart
// with its Meta and an error matching providers.ErrNoData. Anything that is
// not the documented shape is a *providers.DecodeError naming the field.
func ParseChart(body []byte) (Chart, error) {
	d := getDecoder()
	defer putDecoder(d)
	root, err := d.p.ParseBytes(body)
	if err != nil {
		return Chart{}, decodeErr("", "%s", shortErr(err))
	}
	chart := root.Get("chart")
	if chart == nil || chart.Type() != fastjson.TypeObject {
		if se := envelopeError(root, 0); se != nil {
			return Chart{}, se
		}
		return Chart{}, decodeErr("chart", "missing or not an object")
	}
	if se := envelopeError(root, 0); se != nil {
		return Chart{}, se
	}
	res := chart.Get("result")
	if res == nil || res.Type() == fastjson.TypeNull {
		return Chart{}, fmt.Errorf("%s: chart has no result: %w", name, providers.ErrNoData)
	}
	results, err := res.Array()
	if err != nil {
		return Chart{}, decodeErr("chart.result", "not an array")
	}
	if len(results) == 0 {
		return Chart{}, fmt.Errorf("%s: chart has no result: %w", name, providers.ErrNoData)
	}
	r := results[0]
	if r.Type() != fastjson.TypeObject {
		return Chart{}, decodeErr("chart.result[0]", "not an object")
	}
	var c Chart
	if err := d.parseMeta(r.Get("meta"), &c.Meta); err != nil {
		return Chart{}, err
	}
	c.Symbol = normalise(c.Meta.Symbol, c.Meta.Class)
	daily := isDaily(c.Meta.DataGranularity)
	stamp := func(sec int64) time.Time { return stampTime(sec, c.Meta.GMTOffset, daily) }
	if err := d.parseEvents(r.Get("events"), stamp, &c); err != nil {
		return Chart{}, err
	}
	if err := d.parseBars(r, stamp, &c); err != nil {
		return Chart{}, err
	}
	if len(c.Bars) == 0 {
		return c, fmt.Errorf("%s: chart of %s has no bars: %w", name, c.Meta.Symbol, providers.ErrNoData)
	}
	return c, nil
}

// parseBars fills c.Bars and c.AdjClose from the timestamp array and the
// parallel indicator arrays of result r.
func (d *decoder) parseBars(r *fastjson.Value, stamp func(int64) time.Time, c *Chart) error {
	tsv := r.Get("timestamp")
	if tsv == nil || tsv.Type() == fastjson.TypeNull {
		return nil
	}
	ts, err := tsv.Array()
	if err != nil {
		return decodeErr("timestamp", "not an array")
	}
	if len(ts) == 0 {
		return nil
	}
	quotes, err := arrayAt(r, "indicators.quote", "indicators", "quote")
	if err != nil {
		return err
	}
	if len(quotes) == 0 || quotes[0].Type() != fastjson.TypeObject {
		return decodeErr("indicators.quote", "no quote object for %d timestamps", len(ts))
	}
	q := quotes[0]
	var cols [5][]*fastjson.Value
	for i, k := range [...]string{"open", "high", "low", "close", "volume"} {
		v := q.Get(k)
		if v == nil && k == "volume" {
			continue // volume is optional: zero for every bar
		}
		if cols[i], err = parallel(v, "indicators.quote[0]."+k, len(ts)); err != nil {
			return err
		}
	}
	var adj []*fastjson.Value
	if adjs := r.Get("indicators", "adjclose"); adjs != nil && adjs.Type() != fastjson.TypeNull {
		arr, err := adjs.Array()
		if err != nil {
			return decodeErr("indicators.adjclose", "not an array")
		}
		if len(arr) > 0 && arr[0].Type() != fastjson.TypeNull {
			if adj, err = parallel(arr[0].Get("adjclose"), "indicators.adjclose[0].adjclose", len(ts)); err != nil {
				return err
			}
		}
	}

	bars := make([]providers.Bar, 0, len(ts))
	var adjOut []float64
	if adj != nil {
		adjOut = make([]float64, 0, len(ts))
	}
	sorted := true
	for i, tv := range ts {
		if tv.Type() == fastjson.TypeNull {
			continue
		}
		sec, err := tv.Int64()
		if err != nil {
			return decodeErr("timestamp", "element %d: %s", i, shortErr(err))
		}
		var ohlc [4]float64
		hole := false
		for j := range ohlc {
			v := cols[j][i]
			if v.Type() == fastjson.TypeNull {
				hole = true
				break
			}
			if ohlc[j], err = d.finite(v); err != nil {
				return decodeErr(colField[j], "element %d: %s", i, shortErr(err))
			}
		}
		if hole {
			continue
		}
		var vol float64
		if cols[4] != nil {
			if v := cols[4][i]; v.Type() != fastjson.TypeNull {
				if vol, err = d.finite(v); err != nil {
					return decodeErr(colField[4], "element %d: %s", i, shortErr(err))
				}
			}
		}
		t := stamp(sec)
		if n := len(bars); n > 0 && !bars[n-1].Time.Before(t) {
			sorted = false
		}
		bars = append(bars, providers.Bar{Time: t, Open: ohlc[0], High: ohlc[1], Low: ohlc[2], Close: ohlc[3], Volume: vol})
		if adj != nil {
			var a float64
			if v := adj[i]; v.Type() != fastjson.TypeNull {
				if a, err = d.finite(v); err != nil {
					return decodeErr("indicators.adjclose[0].adjclose", "element %d: %s", i, shortErr(err))
				}
			}
			adjOut = append(adjOut, a)
		}
	}
	if !sorted {
		bars, adjOut = sortDedup(bars, adjOut)
	}
	c.Bars, c.AdjClose = bars, adjOut
	return nil
}

var colField = [...]string{
	"indicators.quote[0].open", "indicators.quote[0].high", "indicators.quote[0].low",
	"indicators.quote[0].close", "indicators.quote[0].volume",
}

// sortDedup orders bars by time and keeps the last of bars sharing a time
// (Yahoo repeats the live bar at the end of some intraday charts).
func sortDedup(bars []providers.Bar, adj []float64) ([]providers.Bar, []float64) {
	idx := make([]int, len(bars))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return bars[a].Time.Compare(bars[b].Time) })
	outB := make([]providers.Bar, 0, len(bars))
	var outA []float64
	if adj != nil {
		outA = make([]float64, 0, len(adj))
	}
	for _, i := range idx {
		if n := len(outB); n > 0 && outB[n-1].Time.Equal(bars[i].Time) {
			outB[n-1] = bars[i]
			if adj != nil {
				outA[n-1] = adj[i]
			}
			continue
		}
		outB = append(outB, bars[i])
		if adj != nil {
			outA = append(outA, adj[i])
		}
	}
	return outB, outA
}

// parallel checks that v is an array of n elements.
func parallel(v *fastjson.Value, field string, n int) ([]*fastjson.Value, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil, decodeErr(field, "missing for %d timestamps", n)
	}
	arr, err := v.Array()
	if err != nil {
		return nil, decodeErr(field, "not an array")
	}
	if len(arr) != n {
		return nil, decodeErr(field, "%d values for %d timestamps", len(arr), n)
	}
	return arr, nil
}

func arrayAt(v *fastjson.Value, field string, keys ...string) ([]*fastjson.Value, error) {
	a := v.Get(keys...)
	if a == nil || a.Type() == fastjson.TypeNull {
		return nil, decodeErr(field, "missing")
	}
	arr, err := a.Array()
	if err != nil {
		return nil, decodeErr(field, "not an array")
	}
	return arr, nil
}

func (d *decoder) parseMeta(m *fastjson.Value, meta *Meta) error {
	if m == nil || m.Type() == fastjson.TypeNull {
		return nil
	}
	if m.Type() != fastjson.TypeObject {
		return decodeErr("meta", "not an object")
	}
	var err error
	str := func(k string, dst *string) {
		if err == nil {
			*dst, err = optString(m, "meta."+k, k)
		}
	}
	num := func(k string, dst *float64) {
		if err == nil {
			*dst, err = d.optNumber(m, "meta."+k, k)
		}
	}
	unix := func(k string, dst *time.Time) {
		var f float64
		num(k, &f)
		if err == nil && f != 0 {
			*dst = time.Unix(int64(f), 0).UTC()
		}
	}
	str("symbol", &meta.Symbol)
	str("currency", &meta.Currency)
	str("exchangeName", &meta.ExchangeName)
	str("fullExchangeName", &meta.FullExchangeName)
	str("instrumentType", &meta.InstrumentType)
	str("timezone", &meta.Timezone)
	str("exchangeTimezoneName", &meta.ExchangeTimezoneName)
	str("dataGranularity", &meta.DataGranularity)
	unix("firstTradeDate", &meta.FirstTradeDate)
	unix("regularMarketTime", &meta.RegularMarketTime)
	num("regularMarketPrice", &meta.RegularMarketPrice)
	num("regularMarketDayHigh", &meta.RegularMarketDayHigh)
	num("regularMarketDayLow", &meta.RegularMarketDayLow)
	num("regularMarketVolume", &meta.RegularMarketVolume)
	num("chartPreviousClose", &meta.ChartPreviousClose)
	num("previousClose", &meta.PreviousClose)
	var off float64
	num("gmtoffset", &off)
	if err != nil {
		return err
	}
	if math.Abs(off) > 18*3600 {
		return decodeErr("meta.gmtoffset", "%v seconds is not a time zone offset", off)
	}
	meta.GMTOffset = int(off)
	meta.Class = classOf(meta.InstrumentType)
	return nil
}

func (d *decoder) parseEvents(ev *fastjson.Value, stamp func(int64) time.Time, c *Chart) error {
	if ev == nil || ev.Type() == fastjson.TypeNull {
		return nil
	}
	if ev.Type() != fastjson.TypeObject {
		return decodeErr("events", "not an object")
	}
	var err error
	if divs := ev.Get("dividends"); divs != nil && divs.Type() != fastjson.TypeNull {
		o, oerr := divs.Object()
		if oerr != nil {
			return decodeErr("events.dividends", "not an object")
		}
		o.Visit(func(key []byte, v *fastjson.Value) {
			if err != nil {
				return
			}
			var div Dividend
			var sec int64
			if sec, err = d.eventDate(v, "events.dividends", key); err != nil {
				return
			}
			div.Time = stamp(sec)
			if div.Amount, err = d.optNumber(v, "events.dividends.amount", "amount"); err != nil {
				return
			}
			c.Dividends = append(c.Dividends, div)
		})
	}
	if err != nil {
		return err
	}
	if splits := ev.Get("splits"); splits != nil && splits.Type() != fastjson.TypeNull {
		o, oerr := splits.Object()
		if oerr != nil {
			return decodeErr("events.splits", "not an object")
		}
		o.Visit(func(key []byte, v *fastjson.Value) {
			if err != nil {
				return
			}
			var s Split
			var sec int64
			if sec, err = d.eventDate(v, "events.splits", key); err != nil {
				return
			}
			s.Time = stamp(sec)
			if s.Numerator, err = d.optNumber(v, "events.splits.numerator", "numerator"); err != nil {
				return
			}
			if s.Denominator, err = d.optNumber(v, "events.splits.denominator", "denominator"); err != nil {
				return
			}
			s.Ratio, err = optString(v, "events.splits.splitRatio", "splitRatio")
			if err == nil && s.Ratio == "" && s.Numerator > 0 && s.Denominator > 0 {
				s.Ratio = fmt.Sprintf("%g:%g", s.Numerator, s.Denominator)
			}
			c.Splits = append(c.Splits, s)
		})
	}
	if err != nil {
		return err
	}
	slices.SortStableFunc(c.Dividends, func(a, b Dividend) int { return a.Time.Compare(b.Time) })
	slices.SortStableFunc(c.Splits, func(a, b Split) int { return a.Time.Compare(b.Time) })
	return nil
}

// eventDate reads an event's "date", falling back to the map key, which
// Yahoo sets to the same Unix time.
func (d *decoder) eventDate(v *fastjson.Value, field string, key []byte) (int64, error) {
	if v.Type() != fastjson.TypeObject {
		return 0, decodeErr(field, "event %q is not an object", key)
	}
	if dv := v.Get("date"); dv != nil && dv.Type() != fastjson.TypeNull {
		f, err := d.finite(dv)
		if err != nil {
			return 0, decodeErr(field+".date", "%s", shortErr(err))
		}
		return int64(f), nil
	}
	var sec int64
	if _, err := fmt.Sscan(string(key), &sec); err != nil {
		return 0, decodeErr(field, "event %q has no date", key)
	}
	return sec, nil
}

// envelopeError returns the upstream error carried in {"chart":{"error":…}}
// or {"finance":{"error":…}}, or nil when there is none.
func envelopeError(root *fastjson.Value, status int) *providers.StatusError {
	for _, k := range [...]string{"chart", "finance"} {
		e := root.Get(k, "error")
		if e == nil || e.Type() != fastjson.TypeObject {
			continue
		}
		code := string(e.GetStringBytes("code"))
		desc := string(e.GetStringBytes("description"))
		msg := code
		if desc != "" {
			msg = code + ": " + desc
		}
		return &providers.StatusError{Provider: name, Status: status, Kind: kindForCode(code, status), Message: truncate(msg, 200)}
	}
	return nil
}

// kindForCode maps Yahoo's error code to a sentinel.
func kindForCode(code string, status int) error {
	switch strings.ToLower(code) {
	case "not found":
		return providers.ErrNotFound
	case "unauthorized", "forbidden":
		return providers.ErrUnauthorized
	case "too many requests":
		return providers.ErrRateLimited
	}
	if status >= 400 {
		return providers.KindForStatus(status)
	}
	return providers.ErrUpstream
}

func optString(v *fastjson.Value, field, key string) (string, error) {
	s := v.Get(key)
	if s == nil || s.Type() == fastjson.TypeNull {
		return "", nil
	}
	b, err := s.StringBytes()
	if err != nil {
		return "", decodeErr(field, "not a string")
	}
	return string(b), nil
}

func (d *decoder) optNumber(v *fastjson.Value, field, key string) (float64, error) {
	n := v.Get(key)
	if n == nil || n.Type() == fastjson.TypeNull {
		return 0, nil
	}
	f, err := d.finite(n)
	if err != nil {
		return 0, decodeErr(field, "%s", shortErr(err))
	}
	return f, nil
}

// finite reads a JSON number, refusing the spellings fastjson tolerates and
// JSON does not (NaN, Inf, "+1", "01", ".5").
func (d *decoder) finite(v *fastjson.Value) (float64, error) {
	if v.Type() != fastjson.TypeNumber {
		return 0, fmt.Errorf("%s is not a number", v.Type())
	}
	d.scratch = v.MarshalTo(d.scratch[:0]) // a number marshals as its raw text
	f, err := wire.ParseFloat(d.scratch)
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, wire.ErrSyntax):
		return 0, fmt.Errorf("bad number %q", truncate(string(d.scratch), 40))
	}
	return 0, err
}

// isDaily reports whether a Yahoo granularity is a day or longer.
func isDaily(g string) bool {
	return strings.HasSuffix(g, "d") || strings.HasSuffix(g, "wk") || strings.HasSuffix(g, "mo")
}

// stampTime converts a Yahoo timestamp. Daily and longer bars become
// 00:00 UTC of the exchange-local date.
func stampTime(sec int64, gmtoffset int, daily bool) time.Time {
	if !daily {
		return time.Unix(sec, 0).UTC()
	}
	local := sec + int64(gmtoffset)
	day := local - mod(local, 86400)
	return time.Unix(day, 0).UTC()
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

func classOf(instrumentType string) providers.AssetClass {
	switch strings.ToUpper(instrumentType) {
	case "EQUITY", "ETF", "MUTUALFUND", "INDEX":
		return providers.Equity
	case "CRYPTOCURRENCY":
		return providers.Crypto
	case "CURRENCY":
		return providers.Forex
	}
	return ""
}

func decodeErr(field, format string, args ...any) error {
	return providers.Decodef(name, field, format, args...)
}

// shortErr keeps a parse error's message short: fastjson quotes the
// unparsed tail of the body, which may be long.
func shortErr(err error) string { return truncate(err.Error(), 160) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// isHTML reports whether a body is an HTML page rather than JSON.
func isHTML(body []byte) bool {
	b := bytes.TrimSpace(body)
	return len(b) > 0 && b[0] == '<'
}
