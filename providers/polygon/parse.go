package polygon

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/valyala/fastjson"

	"github.com/leakgate/leakgate/providers"
)

// parsers is a pool of JSON parsers: a parser keeps the memory of the
// largest body it parsed, so reusing one makes decoding nearly
// allocation-free.
var parsers fastjson.ParserPool

// Aggs is one page of an aggregates answer (/v2/aggs/ticker/…/range/… or
// /prev).
type Aggs struct {
	// Ticker is Polygon's ticker ("AAPL", "X:BTCUSD"); empty when absent.
	Ticker string
	// Status is "OK" or "DELAYED".
	Status string
	// Bars are ascending by time; nil when the page has no results.
	Bars []providers.Bar
	// NextURL is the next page's URL, empty on the last page.
	NextURL string
}

// Trade is the last trade of a stock or crypto pair.
type Trade struct {
	// Ticker as Polygon spells it in the answer ("AAPL", "BTC-USD"); empty
	// when absent.
	Ticker string
	Price  float64
	// Size is in shares or coins (fractional for crypto).
	Size     float64
	Exchange int
	// Time is the SIP timestamp (stocks, nanoseconds) or the exchange
	// timestamp (crypto, milliseconds), in UTC.
	Time time.Time
}

// ForexQuote is the last quote of a currency pair.
type ForexQuote struct {
	Bid, Ask float64
	Exchange int
	Time     time.Time
}

// ParseAggs decodes an aggregates answer: "results" of {"o","h","l","c",
// "v","t"} objects, t in Unix milliseconds, v possibly fractional. Missing
// "results" is an empty page, not an error. An error answer
// ({"status":"ERROR",…}) is a decode error naming its message.
func ParseAggs(body []byte) (Aggs, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	root, err := parseAnswer(p, body)
	if err != nil {
		return Aggs{}, err
	}
	a := Aggs{Status: string(root.GetStringBytes("status"))}
	a.Ticker = string(root.GetStringBytes("ticker"))
	if nv := root.Get("next_url"); nv != nil && nv.Type() != fastjson.TypeNull {
		s, err := nv.StringBytes()
		if err != nil {
			return Aggs{}, providers.Decodef(Name, "next_url", "%v", err)
		}
		a.NextURL = string(s)
	}
	rv := root.Get("results")
	if rv == nil || rv.Type() == fastjson.TypeNull {
		return a, nil
	}
	results, err := rv.Array()
	if err != nil {
		return Aggs{}, providers.Decodef(Name, "results", "%v", err)
	}
	if len(results) == 0 {
		return a, nil
	}
	a.Bars = make([]providers.Bar, len(results))
	for i, r := range results {
		if err := decodeAgg(r, &a.Bars[i]); err != nil {
			return Aggs{}, providers.Decodef(Name, fmt.Sprintf("results[%d].%s", i, err.field), "%v", err.err)
		}
	}
	a.Bars = sortBars(a.Bars)
	return a, nil
}

type fieldErr struct {
	field string
	err   error
}

// decodeAgg fills b from one result object.
func decodeAgg(v *fastjson.Value, b *providers.Bar) *fieldErr {
	obj, err := v.Object()
	if err != nil {
		return &fieldErr{"", err}
	}
	var ms int64
	var seen uint8
	var ferr *fieldErr
	obj.Visit(func(key []byte, fv *fastjson.Value) {
		if ferr != nil || len(key) != 1 {
			return
		}
		var dst *float64
		var bit uint8
		switch key[0] {
		case 'o':
			dst, bit = &b.Open, 1
		case 'h':
			dst, bit = &b.High, 2
		case 'l':
			dst, bit = &b.Low, 4
		case 'c':
			dst, bit = &b.Close, 8
		case 'v':
			dst, bit = &b.Volume, 16
		case 't':
			t, err := int64Of(fv)
			if err != nil {
				ferr = &fieldErr{"t", err}
				return
			}
			ms, seen = t, seen|32
			return
		default:
			return
		}
		x, err := number(fv)
		if err != nil {
			ferr = &fieldErr{string(key), err}
			return
		}
		*dst, seen = x, seen|bit
	})
	if ferr != nil {
		return ferr
	}
	const want = 1 | 2 | 4 | 8 | 32
	if seen&want != want {
		for i, name := range [...]string{"o", "h", "l", "c", "v", "t"} {
			if want&(1<<i) != 0 && seen&(1<<i) == 0 {
				return &fieldErr{name, fmt.Errorf("missing")}
			}
		}
	}
	if ms < minMillis || ms > maxMillis {
		return &fieldErr{"t", fmt.Errorf("%d is not a Unix time in milliseconds", ms)}
	}
	b.Time = time.UnixMilli(ms).UTC()
	return nil
}

// Plausible Unix milliseconds: 1900 to 2400.
const (
	minMillis = -2208988800000
	maxMillis = 13569465600000
)

// number reads a finite JSON number. fastjson also accepts NaN and Inf
// spellings, which no Polygon answer holds.
func number(v *fastjson.Value) (float64, error) {
	x, err := v.Float64()
	if err != nil {
		return 0, err
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("%s is not a finite number", v)
	}
	return x, nil
}

// int64Of reads an integer exactly (nanosecond timestamps exceed 2^53, so
// they must not pass through float64). An integral number in exponent
// form is accepted when it is exact.
func int64Of(v *fastjson.Value) (int64, error) {
	if n, err := v.Int64(); err == nil {
		return n, nil
	}
	x, err := number(v)
	if err != nil {
		return 0, err
	}
	if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
		return 0, fmt.Errorf("%s is not an integer", v)
	}
	return int64(x), nil
}

// sortBars orders bars by ascending time and drops repeated times.
func sortBars(bars []providers.Bar) []providers.Bar {
	cmp := func(a, b providers.Bar) int { return a.Time.Compare(b.Time) }
	if !slices.IsSortedFunc(bars, cmp) {
		slices.SortStableFunc(bars, cmp)
	}
	return slices.CompactFunc(bars, func(a, b providers.Bar) bool { return a.Time.Equal(b.Time) })
}

// ParseLastTrade decodes /v2/last/trade/{ticker}: "results" with "p"
// (price), "s" (size), "x" (exchange) and "t" (SIP time, Unix
// nanoseconds, read as int64).
func ParseLastTrade(body []byte) (Trade, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	root, err := parseAnswer(p, body)
	if err != nil {
		return Trade{}, err
	}
	r, err := member(root, "results")
	if err != nil {
		return Trade{}, err
	}
	t := Trade{
		Ticker:   r.str("T"),
		Price:    r.number("p", true),
		Size:     r.number("s", false),
		Exchange: int(r.integer("x", false)),
	}
	ns := r.integer("t", true)
	if r.err != nil {
		return Trade{}, r.err
	}
	t.Time = time.Unix(0, ns).UTC()
	return t, nil
}

// ParseLastCryptoTrade decodes /v1/last/crypto/{from}/{to}: "last" with
// "price", "size", "exchange" and "timestamp" (Unix milliseconds), and the
// pair as "symbol" ("BTC-USD").
func ParseLastCryptoTrade(body []byte) (Trade, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	root, err := parseAnswer(p, body)
	if err != nil {
		return Trade{}, err
	}
	r, err := member(root, "last")
	if err != nil {
		return Trade{}, err
	}
	t := Trade{
		Ticker:   string(root.GetStringBytes("symbol")),
		Price:    r.number("price", true),
		Size:     r.number("size", false),
		Exchange: int(r.integer("exchange", false)),
	}
	t.Time = r.millis("timestamp")
	if r.err != nil {
		return Trade{}, r.err
	}
	return t, nil
}

// ParseLastForexQuote decodes /v1/last_quote/currencies/{from}/{to}: "last"
// with "bid", "ask", "exchange" and "timestamp" (Unix milliseconds).
func ParseLastForexQuote(body []byte) (ForexQuote, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	root, err := parseAnswer(p, body)
	if err != nil {
		return ForexQuote{}, err
	}
	r, err := member(root, "last")
	if err != nil {
		return ForexQuote{}, err
	}
	q := ForexQuote{
		Bid:      r.number("bid", true),
		Ask:      r.number("ask", true),
		Exchange: int(r.integer("exchange", false)),
	}
	q.Time = r.millis("timestamp")
	if r.err != nil {
		return ForexQuote{}, r.err
	}
	return q, nil
}

// parseRoot parses body, which must be a JSON object.
func parseRoot(p *fastjson.Parser, body []byte) (*fastjson.Value, error) {
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '<' {
		return nil, providers.Decodef(Name, "", "got an HTML page, not JSON: %s", providers.Excerpt(body))
	}
	v, err := p.ParseBytes(body)
	if err != nil {
		return nil, providers.Decodef(Name, "", "%v", err)
	}
	if v.Type() != fastjson.TypeObject {
		return nil, providers.Decodef(Name, "", "want a JSON object, got %s", v.Type())
	}
	return v, nil
}

// statusErr reports an error answer ({"status":"ERROR"|"NOT_AUTHORIZED"|
// "NOT_FOUND", "error"|"message"}) met by a parser.
func statusErr(root *fastjson.Value) error {
	status, msg, isErr := errorOf(root)
	if !isErr {
		return nil
	}
	return providers.Decodef(Name, "status", "error answer %s: %s", status, msg)
}

// parseAnswer parses body, which must be a JSON object and not an error
// answer.
func parseAnswer(p *fastjson.Parser, body []byte) (*fastjson.Value, error) {
	root, err := parseRoot(p, body)
	if err != nil {
		return nil, err
	}
	return root, statusErr(root)
}

// member returns a reader of the object under key.
func member(root *fastjson.Value, key string) (reader, error) {
	v := root.Get(key)
	if v == nil || v.Type() != fastjson.TypeObject {
		return reader{}, providers.Decodef(Name, key, "missing or not an object")
	}
	return reader{v: v, parent: key}, nil
}

// errorOf returns the status and message of an error answer.
func errorOf(root *fastjson.Value) (status, message string, ok bool) {
	status = string(root.GetStringBytes("status"))
	switch status {
	case "ERROR", "NOT_AUTHORIZED", "NOT_FOUND":
	default:
		return status, "", false
	}
	for _, k := range [...]string{"error", "message"} {
		if m := root.GetStringBytes(k); len(m) > 0 {
			return status, string(m), true
		}
	}
	return status, "", true
}

// reader reads fields of one object and keeps the first error.
type reader struct {
	v      *fastjson.Value
	parent string
	err    error
}

func (r *reader) get(key string, required bool) *fastjson.Value {
	if r.err != nil {
		return nil
	}
	v := r.v.Get(key)
	if v == nil || v.Type() == fastjson.TypeNull {
		if required {
			r.err = providers.Decodef(Name, r.field(key), "missing")
		}
		return nil
	}
	return v
}

func (r *reader) field(key string) string {
	if r.parent == "" {
		return key
	}
	return r.parent + "." + key
}

func (r *reader) number(key string, required bool) float64 {
	v := r.get(key, required)
	if v == nil {
		return 0
	}
	x, err := number(v)
	if err != nil {
		r.err = providers.Decodef(Name, r.field(key), "%v", err)
	}
	return x
}

func (r *reader) integer(key string, required bool) int64 {
	v := r.get(key, required)
	if v == nil {
		return 0
	}
	n, err := int64Of(v)
	if err != nil {
		r.err = providers.Decodef(Name, r.field(key), "%v", err)
	}
	return n
}

// millis reads a required Unix time in milliseconds, in UTC.
func (r *reader) millis(key string) time.Time {
	ms := r.integer(key, true)
	if r.err != nil {
		return time.Time{}
	}
	if ms < minMillis || ms > maxMillis {
		r.err = providers.Decodef(Name, r.field(key), "%d is not a Unix time in milliseconds", ms)
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func (r *reader) str(key string) string {
	v := r.get(key, false)
	if v == nil {
		return ""
	}
	s, err := v.StringBytes()
	if err != nil {
		r.err = providers.Decodef(Name, r.field(key), "%v", err)
	}
	return string(s)
}

// NBBO is the last national best bid and offer of a stock.
type NBBO struct {
	Ticker           string
	Bid, Ask         float64
	BidSize, AskSize float64
	// Time is the SIP timestamp, in UTC.
	Time time.Time
}

// ParseLastNBBO decodes /v2/last/nbbo/{ticker}: "results" with "p"/"s"
// (bid price and size), "P"/"S" (ask price and size) and "t" (SIP time,
// Unix nanoseconds).
func ParseLastNBBO(body []byte) (NBBO, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	root, err := parseAnswer(p, body)
	if err != nil {
		return NBBO{}, err
	}
	r, err := member(root, "results")
	if err != nil {
		return NBBO{}, err
	}
	q := NBBO{
		Ticker:  r.str("T"),
		Bid:     r.number("p", true),
		BidSize: r.number("s", false),
		Ask:     r.number("P", true),
		AskSize: r.number("S", false),
	}
	ns := r.integer("t", true)
	if r.err != nil {
		return NBBO{}, r.err
	}
	q.Time = time.Unix(0, ns).UTC()
	return q, nil
}

// OpenClose is a stock's daily open, close and extended-hours prices.
type OpenClose struct {
	// Bar is the regular session; its Time is the date at 00:00 UTC.
	providers.Bar
	Symbol     string
	PreMarket  float64
	AfterHours float64
}

// ParseOpenClose decodes /v1/open-close/{ticker}/{date}: "symbol", "from"
// (the date), "open", "high", "low", "close", "volume", "preMarket",
// "afterHours".
func ParseOpenClose(body []byte) (OpenClose, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	root, err := parseAnswer(p, body)
	if err != nil {
		return OpenClose{}, err
	}
	r := reader{v: root}
	oc := OpenClose{
		Symbol:     r.str("symbol"),
		PreMarket:  r.number("preMarket", false),
		AfterHours: r.number("afterHours", false),
	}
	oc.Open = r.number("open", true)
	oc.High = r.number("high", true)
	oc.Low = r.number("low", true)
	oc.Close = r.number("close", true)
	oc.Volume = r.number("volume", false)
	date := r.str("from")
	if r.err != nil {
		return OpenClose{}, r.err
	}
	if oc.Time, err = time.Parse(time.DateOnly, date); err != nil {
		return OpenClose{}, providers.Decodef(Name, "from", "%q: want YYYY-MM-DD", date)
	}
	return oc, nil
}
