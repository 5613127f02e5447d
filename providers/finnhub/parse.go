package finnhub

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

// ParseCandles decodes a /stock/candle or /forex/candle answer: parallel
// arrays "o", "h", "l", "c", "v" and "t" (Unix seconds) with status "s".
// {"s":"no_data"} matches providers.ErrNoData. Bars are ascending; "v" may
// be absent (zero volume).
func ParseCandles(body []byte) ([]providers.Bar, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	root, err := parseRoot(p, body)
	if err != nil {
		return nil, err
	}
	switch s := string(root.GetStringBytes("s")); s {
	case "ok", "":
	case "no_data":
		return nil, fmt.Errorf("%s: %w: the range holds no candles", Name, providers.ErrNoData)
	default:
		return nil, providers.Decodef(Name, "s", "status %q", s)
	}
	t, err := array(root, "t", true)
	if err != nil {
		return nil, err
	}
	if len(t) == 0 {
		return nil, fmt.Errorf("%s: %w: no candles", Name, providers.ErrNoData)
	}
	cols := [5][]*fastjson.Value{}
	for i, k := range [...]string{"o", "h", "l", "c", "v"} {
		if cols[i], err = array(root, k, k != "v"); err != nil {
			return nil, err
		}
		if cols[i] != nil && len(cols[i]) != len(t) {
			return nil, providers.Decodef(Name, k, "%d values for %d times", len(cols[i]), len(t))
		}
	}
	bars := make([]providers.Bar, len(t))
	for i := range bars {
		b := &bars[i]
		sec, err := t[i].Int64()
		if err != nil {
			return nil, providers.Decodef(Name, fmt.Sprintf("t[%d]", i), "%v", err)
		}
		if sec < minUnix || sec > maxUnix {
			return nil, providers.Decodef(Name, fmt.Sprintf("t[%d]", i), "%d is not a Unix time in seconds", sec)
		}
		b.Time = time.Unix(sec, 0).UTC()
		for j, dst := range [...]*float64{&b.Open, &b.High, &b.Low, &b.Close, &b.Volume} {
			if cols[j] == nil {
				continue
			}
			if *dst, err = number(cols[j][i]); err != nil {
				return nil, providers.Decodef(Name, fmt.Sprintf("%s[%d]", "ohlcv"[j:j+1], i), "%v", err)
			}
		}
	}
	return sortBars(bars), nil
}

// Plausible Unix seconds: 1900 to 2400.
const (
	minUnix = -2208988800
	maxUnix = 13569465600
)

// array returns the array under key; nil without error when it is absent
// and not required.
func array(root *fastjson.Value, key string, required bool) ([]*fastjson.Value, error) {
	v := root.Get(key)
	if v == nil || v.Type() == fastjson.TypeNull {
		if required {
			return nil, providers.Decodef(Name, key, "missing")
		}
		return nil, nil
	}
	a, err := v.Array()
	if err != nil {
		return nil, providers.Decodef(Name, key, "%v", err)
	}
	return a, nil
}

// number reads a finite JSON number. fastjson also accepts NaN and Inf
// spellings, which no Finnhub answer holds.
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

// sortBars orders bars by ascending time and drops repeated times.
func sortBars(bars []providers.Bar) []providers.Bar {
	cmp := func(a, b providers.Bar) int { return a.Time.Compare(b.Time) }
	if !slices.IsSortedFunc(bars, cmp) {
		slices.SortStableFunc(bars, cmp)
	}
	return slices.CompactFunc(bars, func(a, b providers.Bar) bool { return a.Time.Equal(b.Time) })
}

// ParseQuote decodes a /quote answer: "c" (current), "h", "l", "o", "pc"
// (previous close) and, in the current shape, "d", "dp" (change, may be
// null) and "t" (Unix seconds; Time stays zero without it). An answer of
// all zeros, Finnhub's answer for an unknown symbol, matches
// providers.ErrNotFound. The quote's Symbol is left for the caller.
func ParseQuote(body []byte) (providers.Quote, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	root, err := parseRoot(p, body)
	if err != nil {
		return providers.Quote{}, err
	}
	q := providers.Quote{Class: providers.Equity, Provider: Name}
	for _, f := range [...]struct {
		key string
		dst *float64
	}{{"c", &q.Price}, {"h", &q.High}, {"l", &q.Low}, {"o", &q.Open}, {"pc", &q.PrevClose}} {
		v := root.Get(f.key)
		if v == nil || v.Type() == fastjson.TypeNull {
			return providers.Quote{}, providers.Decodef(Name, f.key, "missing")
		}
		if *f.dst, err = number(v); err != nil {
			return providers.Quote{}, providers.Decodef(Name, f.key, "%v", err)
		}
	}
	for _, k := range [...]string{"d", "dp"} {
		if v := root.Get(k); v != nil && v.Type() != fastjson.TypeNull {
			if _, err := number(v); err != nil {
				return providers.Quote{}, providers.Decodef(Name, k, "%v", err)
			}
		}
	}
	if v := root.Get("t"); v != nil && v.Type() != fastjson.TypeNull {
		sec, err := v.Int64()
		if err != nil || sec < 0 || sec > maxUnix {
			return providers.Quote{}, providers.Decodef(Name, "t", "%s is not a Unix time in seconds", v)
		}
		if sec > 0 {
			q.Time = time.Unix(sec, 0).UTC()
		}
	}
	if q.Price == 0 && q.High == 0 && q.Low == 0 && q.Open == 0 && q.PrevClose == 0 {
		return providers.Quote{}, fmt.Errorf("%s: %w: the quote is all zeros (unknown symbol)", Name, providers.ErrNotFound)
	}
	return q, nil
}

// parseRoot parses body, which must be a JSON object and not an error
// answer.
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
	if msg, ok := errorOf(v); ok {
		return nil, providers.Decodef(Name, "error", "error answer: %s", msg)
	}
	return v, nil
}

// errorOf returns the message of an error answer {"error": "…"}.
func errorOf(v *fastjson.Value) (string, bool) {
	ev := v.Get("error")
	if ev == nil {
		return "", false
	}
	if s, err := ev.StringBytes(); err == nil {
		return string(s), true
	}
	return ev.String(), true
}
