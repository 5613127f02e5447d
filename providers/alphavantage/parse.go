package alphavantage

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/leakgate/leakgate/providers"
)

// Top-level keys of the series answers.
const (
	keyDailySeries  = "Time Series (Daily)"
	keyFXSeries     = "Time Series FX (Daily)"
	keyDigitalDaily = "Time Series (Digital Currency Daily)"
	keyGlobalQuote  = "Global Quote"
	keyExchangeRate = "Realtime Currency Exchange Rate"
	keyMetaData     = "Meta Data"
)

// parsers is a pool of JSON parsers: a parser keeps the memory of the
// largest body it parsed, so reusing one makes decoding nearly
// allocation-free.
var parsers fastjson.ParserPool

// AdjustedBar is one bar of TIME_SERIES_DAILY_ADJUSTED: the raw OHLCV bar
// and the adjustment data Alpha Vantage carries with it.
type AdjustedBar struct {
	providers.Bar
	// AdjustedClose is the close adjusted for splits and dividends.
	AdjustedClose float64 `json:"adjusted_close"`
	// Dividend is the dividend paid per share on this day (0 on most days).
	Dividend float64 `json:"dividend"`
	// SplitCoefficient is the split ratio effective this day (1 when none).
	SplitCoefficient float64 `json:"split_coefficient"`
}

// GlobalQuote is the answer of GLOBAL_QUOTE.
type GlobalQuote struct {
	Symbol    string
	Open      float64
	High      float64
	Low       float64
	Price     float64
	Volume    float64
	PrevClose float64
	Change    float64
	// ChangePercent is in percent: "-0.5852%" is -0.5852.
	ChangePercent float64
	// LatestTradingDay is the date of the quote, at 00:00 UTC.
	LatestTradingDay time.Time
}

// Quote converts q to the shared quote type.
func (q GlobalQuote) Quote() providers.Quote {
	return providers.Quote{
		Symbol: q.Symbol, Class: providers.Equity, Price: q.Price,
		Open: q.Open, High: q.High, Low: q.Low, PrevClose: q.PrevClose, Volume: q.Volume,
		Time: q.LatestTradingDay, Provider: Name,
	}
}

// ExchangeRate is the answer of CURRENCY_EXCHANGE_RATE. Bid and Ask are zero
// when the answer does not carry them (before 2019) or carries "-".
type ExchangeRate struct {
	From, To string
	Rate     float64
	Bid, Ask float64
	// Time is the "Last Refreshed" instant, in UTC.
	Time time.Time
}

// ParseDailySeries decodes a TIME_SERIES_DAILY answer (or the OHLCV part of
// TIME_SERIES_DAILY_ADJUSTED) into bars sorted by ascending date. Each bar's
// Time is its date at 00:00 UTC.
func ParseDailySeries(body []byte) ([]providers.Bar, error) {
	return parseBars(body, keyDailySeries, true)
}

// ParseFXDaily decodes an FX_DAILY answer. Forex bars carry no volume.
func ParseFXDaily(body []byte) ([]providers.Bar, error) {
	return parseBars(body, keyFXSeries, false)
}

// ParseDigitalCurrencyDaily decodes a DIGITAL_CURRENCY_DAILY answer in the
// current shape ("1. open") or the legacy one ("1a. open (CNY)", whose
// market-currency fields are used; the "b" USD fields are ignored).
func ParseDigitalCurrencyDaily(body []byte) ([]providers.Bar, error) {
	return parseBars(body, keyDigitalDaily, true)
}

// ParseDailyAdjusted decodes a TIME_SERIES_DAILY_ADJUSTED answer.
func ParseDailyAdjusted(body []byte) ([]AdjustedBar, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	series, err := seriesObject(p, body, keyDailySeries)
	if err != nil {
		return nil, err
	}
	bars := make([]AdjustedBar, 0, series.Len())
	series.Visit(func(key []byte, v *fastjson.Value) {
		if err != nil {
			return
		}
		var b AdjustedBar
		b.Time, err = parseDate(key)
		if err != nil {
			err = providers.Decodef(Name, keyDailySeries, "date %q: %v", key, err)
			return
		}
		var f barFields
		if f, err = decodeBarObject(v, key); err != nil {
			return
		}
		if err = f.require(key, true); err != nil {
			return
		}
		if f.seen&(1<<fAdjClose) == 0 {
			err = providers.Decodef(Name, string(key), "missing %q", "adjusted close")
			return
		}
		b.Open, b.High, b.Low, b.Close, b.Volume = f.v[fOpen], f.v[fHigh], f.v[fLow], f.v[fClose], f.v[fVolume]
		b.AdjustedClose, b.Dividend, b.SplitCoefficient = f.v[fAdjClose], f.v[fDividend], f.v[fSplit]
		if f.seen&(1<<fSplit) == 0 {
			b.SplitCoefficient = 1
		}
		bars = append(bars, b)
	})
	if err != nil {
		return nil, err
	}
	if len(bars) == 0 {
		return nil, fmt.Errorf("%s: %w: %q is empty", Name, providers.ErrNoData, keyDailySeries)
	}
	return sortAdjusted(bars), nil
}

// parseBars decodes the date-keyed series under seriesKey.
func parseBars(body []byte, seriesKey string, needVolume bool) ([]providers.Bar, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	series, err := seriesObject(p, body, seriesKey)
	if err != nil {
		return nil, err
	}
	bars := make([]providers.Bar, 0, series.Len())
	series.Visit(func(key []byte, v *fastjson.Value) {
		if err != nil {
			return
		}
		var b providers.Bar
		b.Time, err = parseDate(key)
		if err != nil {
			err = providers.Decodef(Name, seriesKey, "date %q: %v", key, err)
			return
		}
		var f barFields
		if f, err = decodeBarObject(v, key); err != nil {
			return
		}
		if err = f.require(key, needVolume); err != nil {
			return
		}
		b.Open, b.High, b.Low, b.Close, b.Volume = f.v[fOpen], f.v[fHigh], f.v[fLow], f.v[fClose], f.v[fVolume]
		bars = append(bars, b)
	})
	if err != nil {
		return nil, err
	}
	if len(bars) == 0 {
		return nil, fmt.Errorf("%s: %w: %q is empty", Name, providers.ErrNoData, seriesKey)
	}
	return sortBars(bars), nil
}

// seriesObject parses body and returns the object under seriesKey.
func seriesObject(p *fastjson.Parser, body []byte, seriesKey string) (*fastjson.Object, error) {
	root, err := parseRoot(p, body)
	if err != nil {
		return nil, err
	}
	sv := root.Get(seriesKey)
	if sv == nil {
		return nil, missingKey(root, seriesKey)
	}
	series, err := sv.Object()
	if err != nil {
		return nil, providers.Decodef(Name, seriesKey, "%v", err)
	}
	return series, nil
}

// parseRoot parses body, which must be a JSON object.
func parseRoot(p *fastjson.Parser, body []byte) (*fastjson.Object, error) {
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '<' {
		return nil, providers.Decodef(Name, "", "got an HTML page, not JSON: %s", providers.Excerpt(body))
	}
	v, err := p.ParseBytes(body)
	if err != nil {
		return nil, providers.Decodef(Name, "", "%v", err)
	}
	root, err := v.Object()
	if err != nil {
		return nil, providers.Decodef(Name, "", "%v", err)
	}
	return root, nil
}

// missingKey explains a missing data key, quoting the upstream's message
// when the body is one of its error answers.
func missingKey(root *fastjson.Object, key string) error {
	for _, k := range errorKeys {
		if v := root.Get(k); v != nil {
			return providers.Decodef(Name, key, "missing; the answer is an error: %s: %s", k, providers.Excerpt(v.GetStringBytes()))
		}
	}
	return providers.Decodef(Name, key, "missing")
}

// Field indexes of a bar object.
const (
	fOpen = iota
	fHigh
	fLow
	fClose
	fVolume
	fAdjClose
	fDividend
	fSplit
	nFields
)

// barFields are the decoded numbers of one bar object; seen has bit i set
// when field i was present.
type barFields struct {
	v    [nFields]float64
	seen uint16
}

func (f *barFields) require(date []byte, needVolume bool) error {
	want := uint16(1<<fOpen | 1<<fHigh | 1<<fLow | 1<<fClose)
	if needVolume {
		want |= 1 << fVolume
	}
	if f.seen&want == want {
		return nil
	}
	for i, name := range fieldNames[:fVolume+1] {
		if want&(1<<i) != 0 && f.seen&(1<<i) == 0 {
			return providers.Decodef(Name, string(date), "missing %q", name)
		}
	}
	return nil
}

var fieldNames = [nFields]string{"open", "high", "low", "close", "volume", "adjusted close", "dividend amount", "split coefficient"}

// decodeBarObject reads the fields of one bar. Keys are "N. name", or in
// the legacy crypto shape "Na. name (CUR)" (taken) and "Nb. name (USD)"
// (ignored). Unknown keys are ignored.
func decodeBarObject(v *fastjson.Value, date []byte) (barFields, error) {
	var f barFields
	obj, err := v.Object()
	if err != nil {
		return f, providers.Decodef(Name, string(date), "%v", err)
	}
	obj.Visit(func(key []byte, fv *fastjson.Value) {
		if err != nil {
			return
		}
		i := fieldIndex(key)
		if i < 0 {
			return
		}
		s, serr := fv.StringBytes()
		if serr != nil {
			err = providers.Decodef(Name, string(date)+"."+string(key), "%v", serr)
			return
		}
		x, perr := parseNumber(s)
		if perr != nil {
			err = providers.Decodef(Name, string(date)+"."+string(key), "%v", perr)
			return
		}
		f.v[i] = x
		f.seen |= 1 << i
	})
	return f, err
}

// fieldIndex maps a bar key to its field index, or -1 for a key to ignore.
func fieldIndex(key []byte) int {
	i := 0
	for i < len(key) && key[i] >= '0' && key[i] <= '9' {
		i++
	}
	if i == 0 || i == len(key) {
		return -1
	}
	switch key[i] {
	case 'a': // legacy market-currency field
		i++
	case 'b': // legacy USD duplicate
		return -1
	}
	if !bytes.HasPrefix(key[i:], []byte(". ")) {
		return -1
	}
	name := key[i+2:]
	if j := bytes.IndexByte(name, '('); j > 0 {
		name = bytes.TrimRight(name[:j], " ")
	}
	switch string(name) {
	case "open":
		return fOpen
	case "high":
		return fHigh
	case "low":
		return fLow
	case "close":
		return fClose
	case "volume":
		return fVolume
	case "adjusted close":
		return fAdjClose
	case "dividend amount":
		return fDividend
	case "split coefficient":
		return fSplit
	}
	return -1
}

var errNotFinite = errors.New("not a finite number")

// parseNumber parses a decimal number carried as a JSON string.
func parseNumber(s []byte) (float64, error) {
	x, err := strconv.ParseFloat(string(s), 64)
	if err != nil {
		return 0, err
	}
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return 0, fmt.Errorf("%q: %w", s, errNotFinite)
	}
	return x, nil
}

// parseDate parses "YYYY-MM-DD" as 00:00 UTC of that date without
// allocating.
func parseDate(s []byte) (time.Time, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, errors.New("want YYYY-MM-DD")
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(time.Month(m), y) {
		return time.Time{}, errors.New("want YYYY-MM-DD")
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), nil
}

func digits(s []byte) (int, bool) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// sortBars orders bars by ascending time and drops repeated dates, keeping
// the first. Alpha Vantage sends newest first; a reversed slice is turned
// around in place.
func sortBars(bars []providers.Bar) []providers.Bar {
	cmp := func(a, b providers.Bar) int { return a.Time.Compare(b.Time) }
	if slices.IsSortedFunc(bars, func(a, b providers.Bar) int { return -cmp(a, b) }) {
		slices.Reverse(bars)
	}
	if !slices.IsSortedFunc(bars, cmp) {
		slices.SortStableFunc(bars, cmp)
	}
	return slices.CompactFunc(bars, func(a, b providers.Bar) bool { return a.Time.Equal(b.Time) })
}

func sortAdjusted(bars []AdjustedBar) []AdjustedBar {
	cmp := func(a, b AdjustedBar) int { return a.Time.Compare(b.Time) }
	if slices.IsSortedFunc(bars, func(a, b AdjustedBar) int { return -cmp(a, b) }) {
		slices.Reverse(bars)
	}
	if !slices.IsSortedFunc(bars, cmp) {
		slices.SortStableFunc(bars, cmp)
	}
	return slices.CompactFunc(bars, func(a, b AdjustedBar) bool { return a.Time.Equal(b.Time) })
}

// ParseGlobalQuote decodes a GLOBAL_QUOTE answer. An empty "Global Quote"
// object, Alpha Vantage's answer for an unknown symbol, matches
// providers.ErrNotFound.
func ParseGlobalQuote(body []byte) (GlobalQuote, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	root, err := parseRoot(p, body)
	if err != nil {
		return GlobalQuote{}, err
	}
	qv := root.Get(keyGlobalQuote)
	if qv == nil {
		return GlobalQuote{}, missingKey(root, keyGlobalQuote)
	}
	obj, err := qv.Object()
	if err != nil {
		return GlobalQuote{}, providers.Decodef(Name, keyGlobalQuote, "%v", err)
	}
	if obj.Len() == 0 {
		return GlobalQuote{}, fmt.Errorf("%s: %w: empty %q", Name, providers.ErrNotFound, keyGlobalQuote)
	}
	r := fieldReader{obj: obj, parent: keyGlobalQuote}
	q := GlobalQuote{
		Open:          r.number("02. open"),
		High:          r.number("03. high"),
		Low:           r.number("04. low"),
		Price:         r.number("05. price"),
		Volume:        r.number("06. volume"),
		PrevClose:     r.number("08. previous close"),
		Change:        r.optNumber("09. change"),
		ChangePercent: r.percent("10. change percent"),
	}
	sym := r.str("01. symbol")
	day := r.str("07. latest trading day")
	if r.err != nil {
		return GlobalQuote{}, r.err
	}
	if q.Symbol, err = normalize(sym); err != nil {
		return GlobalQuote{}, providers.Decodef(Name, "01. symbol", "%v", err)
	}
	if q.LatestTradingDay, err = parseDate([]byte(day)); err != nil {
		return GlobalQuote{}, providers.Decodef(Name, "07. latest trading day", "%q: %v", day, err)
	}
	return q, nil
}

// ParseExchangeRate decodes a CURRENCY_EXCHANGE_RATE answer, in the current
// nine-field shape or the seven-field one of 2017–2018.
func ParseExchangeRate(body []byte) (ExchangeRate, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	root, err := parseRoot(p, body)
	if err != nil {
		return ExchangeRate{}, err
	}
	rv := root.Get(keyExchangeRate)
	if rv == nil {
		return ExchangeRate{}, missingKey(root, keyExchangeRate)
	}
	obj, err := rv.Object()
	if err != nil {
		return ExchangeRate{}, providers.Decodef(Name, keyExchangeRate, "%v", err)
	}
	r := fieldReader{obj: obj, parent: keyExchangeRate}
	x := ExchangeRate{
		From: strings.ToUpper(r.str("1. From_Currency Code")),
		To:   strings.ToUpper(r.str("3. To_Currency Code")),
		Rate: r.number("5. Exchange Rate"),
		Bid:  r.optNumber("8. Bid Price"),
		Ask:  r.optNumber("9. Ask Price"),
	}
	refreshed := r.str("6. Last Refreshed")
	zone := r.optStr("7. Time Zone")
	if r.err != nil {
		return ExchangeRate{}, r.err
	}
	if x.From == "" || x.To == "" {
		return ExchangeRate{}, providers.Decodef(Name, keyExchangeRate, "empty currency code")
	}
	if x.Time, err = parseRefreshed(refreshed, zone); err != nil {
		return ExchangeRate{}, providers.Decodef(Name, "6. Last Refreshed", "%v", err)
	}
	return x, nil
}

// parseRefreshed parses "2006-01-02 15:04:05" in the named zone (UTC when
// the zone is empty or unknown to this system) and returns it in UTC.
func parseRefreshed(s, zone string) (time.Time, error) {
	loc := time.UTC
	if zone != "" && zone != "UTC" {
		if l, err := time.LoadLocation(zone); err == nil {
			loc = l
		}
	}
	for _, layout := range []string{time.DateTime, time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want YYYY-MM-DD hh:mm:ss", s)
}

// fieldReader reads string fields of one object and keeps the first error.
type fieldReader struct {
	obj    *fastjson.Object
	parent string
	err    error
}

func (r *fieldReader) raw(key string, required bool) ([]byte, bool) {
	if r.err != nil {
		return nil, false
	}
	v := r.obj.Get(key)
	if v == nil {
		if required {
			r.err = providers.Decodef(Name, r.parent+"."+key, "missing")
		}
		return nil, false
	}
	s, err := v.StringBytes()
	if err != nil {
		r.err = providers.Decodef(Name, r.parent+"."+key, "%v", err)
		return nil, false
	}
	return s, true
}

func (r *fieldReader) str(key string) string {
	s, _ := r.raw(key, true)
	return string(s)
}

func (r *fieldReader) optStr(key string) string {
	s, _ := r.raw(key, false)
	return string(s)
}

func (r *fieldReader) number(key string) float64 {
	s, ok := r.raw(key, true)
	if !ok {
		return 0
	}
	x, err := parseNumber(s)
	if err != nil {
		r.err = providers.Decodef(Name, r.parent+"."+key, "%v", err)
	}
	return x
}

// optNumber reads a number that may be absent or "-" (zero then).
func (r *fieldReader) optNumber(key string) float64 {
	s, ok := r.raw(key, false)
	if !ok || string(bytes.TrimSpace(s)) == "-" || len(s) == 0 {
		return 0
	}
	x, err := parseNumber(s)
	if err != nil {
		r.err = providers.Decodef(Name, r.parent+"."+key, "%v", err)
	}
	return x
}

// percent reads "-0.5852%" as -0.5852; an absent field is zero.
func (r *fieldReader) percent(key string) float64 {
	s, ok := r.raw(key, false)
	if !ok {
		return 0
	}
	s = bytes.TrimSuffix(bytes.TrimSpace(s), []byte("%"))
	x, err := parseNumber(s)
	if err != nil {
		r.err = providers.Decodef(Name, r.parent+"."+key, "%v", err)
	}
	return x
}

// normalize returns the canonical spelling of a symbol Alpha Vantage
// returned (exchange suffixes such as "TSCO.LON" are kept).
func normalize(sym string) (string, error) {
	s, _, err := providers.NormalizeSymbol(sym)
	return s, err
}
