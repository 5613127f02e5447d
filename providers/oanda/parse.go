package oanda

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/leakgate/leakgate/providers"
)

// parsers holds reusable fastjson parsers for the candle decoders.
var parsers fastjson.ParserPool

// ParseCandles decodes GET /v3/instruments/{instrument}/candles:
// {"instrument","granularity","candles":[{"complete","volume","time",
// "mid"|"bid"|"ask":{"o","h","l","c"}}]}, prices as decimal strings.
//
// A bar takes the mid prices when present, else the average of bid and
// ask, else whichever of the two is present. Volume is OANDA's tick volume
// (the number of price updates in the candle), not traded volume. Candles
// with "complete": false are skipped unless includeIncomplete is set. Bars
// are returned oldest first, in UTC, without repeated times; an empty
// candle list gives an empty slice and no error.
func ParseCandles(body []byte, includeIncomplete bool) ([]providers.Bar, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(body)
	if err != nil {
		return nil, decodeErr("candles", "%s", truncate(err.Error()))
	}
	if v.Type() != fastjson.TypeObject {
		return nil, decodeErr("candles", "want a JSON object, got %s", v.Type())
	}
	arr := v.Get("candles")
	if arr == nil {
		return nil, decodeErr("candles", "field missing")
	}
	return candles(arr, "candles", includeIncomplete)
}

// LatestCandles is one entry of GET /v3/accounts/{accountID}/candles/latest.
type LatestCandles struct {
	// Symbol is the instrument, normalised ("USD_JPY").
	Symbol string
	// Granularity is OANDA's, e.g. "M1", "H1", "D".
	Granularity string
	Bars        []providers.Bar
}

// ParseLatestCandles decodes GET /v3/accounts/{accountID}/candles/latest:
// {"latestCandles":[{"instrument","granularity","candles":[…]}]}, each
// candle list as ParseCandles reads it.
func ParseLatestCandles(body []byte, includeIncomplete bool) ([]LatestCandles, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(body)
	if err != nil {
		return nil, decodeErr("latestCandles", "%s", truncate(err.Error()))
	}
	if v.Type() != fastjson.TypeObject {
		return nil, decodeErr("latestCandles", "want a JSON object, got %s", v.Type())
	}
	lc := v.Get("latestCandles")
	if lc == nil {
		return nil, decodeErr("latestCandles", "field missing")
	}
	items, err := lc.Array()
	if err != nil {
		return nil, decodeErr("latestCandles", "want an array, got %s", lc.Type())
	}
	out := make([]LatestCandles, 0, len(items))
	for i, it := range items {
		field := fmt.Sprintf("latestCandles[%d]", i)
		if it.Type() != fastjson.TypeObject {
			return nil, decodeErr(field, "want an object, got %s", it.Type())
		}
		inst := string(it.GetStringBytes("instrument"))
		if inst == "" {
			return nil, decodeErr(field+".instrument", "empty")
		}
		arr := it.Get("candles")
		if arr == nil {
			return nil, decodeErr(field+".candles", "field missing")
		}
		bars, err := candles(arr, field+".candles", includeIncomplete)
		if err != nil {
			return nil, err
		}
		out = append(out, LatestCandles{Symbol: instrumentSymbol(inst), Granularity: string(it.GetStringBytes("granularity")), Bars: bars})
	}
	return out, nil
}

// ohlc is one price component of a candle; places is the most decimal
// places among its literals (-1 if one had an exponent).
type ohlc struct {
	o, h, l, c float64
	places     int
}

// candles reads an array of v20 candlesticks.
func candles(arr *fastjson.Value, field string, includeIncomplete bool) ([]providers.Bar, error) {
	items, err := arr.Array()
	if err != nil {
		return nil, decodeErr(field, "want an array, got %s", arr.Type())
	}
	bars := make([]providers.Bar, 0, len(items))
	var scratch [40]byte
	for i, it := range items {
		if it.Type() != fastjson.TypeObject {
			return nil, decodeErr(fmt.Sprintf("%s[%d]", field, i), "want an object, got %s", it.Type())
		}
		if c := it.Get("complete"); c != nil {
			complete, err := c.Bool()
			if err != nil {
				return nil, decodeErr(fmt.Sprintf("%s[%d].complete", field, i), "want true or false, got %s", c.Type())
			}
			if !complete && !includeIncomplete {
				continue
			}
		}
		tv := it.Get("time")
		if tv == nil {
			return nil, decodeErr(fmt.Sprintf("%s[%d].time", field, i), "field missing")
		}
		t, err := timeValue(tv)
		if err != nil {
			return nil, decodeErr(fmt.Sprintf("%s[%d].time", field, i), "%v", err)
		}
		var vol float64
		if vv := it.Get("volume"); vv != nil {
			if vol, _, err = numberValue(vv, scratch[:0]); err != nil || vol < 0 {
				return nil, decodeErr(fmt.Sprintf("%s[%d].volume", field, i), "want a count of ticks, got %s", truncate(vv.String()))
			}
		}
		var px ohlc
		midV, bid, ask := it.Get("mid"), it.Get("bid"), it.Get("ask")
		switch {
		case midV != nil:
			px, err = readOHLC(midV, scratch[:0])
		case bid != nil && ask != nil:
			var b, a ohlc
			if b, err = readOHLC(bid, scratch[:0]); err == nil {
				if a, err = readOHLC(ask, scratch[:0]); err == nil {
					d := max(b.places, a.places)
					px = ohlc{o: mid(b.o, a.o, d), h: mid(b.h, a.h, d), l: mid(b.l, a.l, d), c: mid(b.c, a.c, d)}
				}
			}
		case bid != nil:
			px, err = readOHLC(bid, scratch[:0])
		case ask != nil:
			px, err = readOHLC(ask, scratch[:0])
		default:
			return nil, decodeErr(fmt.Sprintf("%s[%d]", field, i), "no mid, bid or ask prices")
		}
		if err != nil {
			return nil, decodeErr(fmt.Sprintf("%s[%d]", field, i), "%v", err)
		}
		bars = append(bars, providers.Bar{Time: t, Open: px.o, High: px.h, Low: px.l, Close: px.c, Volume: vol})
	}
	return ascending(bars), nil
}

// readOHLC reads {"o","h","l","c"} (decimal strings, or numbers).
func readOHLC(v *fastjson.Value, scratch []byte) (ohlc, error) {
	if v.Type() != fastjson.TypeObject {
		return ohlc{}, fmt.Errorf("prices: want an object, got %s", v.Type())
	}
	var out ohlc
	for _, k := range [...]struct {
		key string
		dst *float64
	}{{"o", &out.o}, {"h", &out.h}, {"l", &out.l}, {"c", &out.c}} {
		x := v.Get(k.key)
		if x == nil {
			return ohlc{}, fmt.Errorf("price %q missing", k.key)
		}
		f, places, err := numberValue(x, scratch)
		if err != nil {
			return ohlc{}, fmt.Errorf("price %q: %w", k.key, err)
		}
		*k.dst = f
		if places < 0 || out.places < 0 {
			out.places = -1
		} else {
			out.places = max(out.places, places)
		}
	}
	return out, nil
}

// numberValue reads a decimal string or a JSON number exactly, and says how
// many decimal places it had.
func numberValue(v *fastjson.Value, scratch []byte) (float64, int, error) {
	var lit []byte
	switch v.Type() {
	case fastjson.TypeString:
		lit, _ = v.StringBytes()
	case fastjson.TypeNumber:
		lit = v.MarshalTo(scratch)
	default:
		return 0, 0, fmt.Errorf("want a decimal, got %s", v.Type())
	}
	f, err := parseFloat(lit)
	if err != nil {
		return 0, 0, fmt.Errorf("%q is %w", truncate(string(lit)), err)
	}
	return f, decimals(lit), nil
}

// timeValue reads a v20 DateTime: RFC 3339 with up to nanoseconds, or Unix
// seconds with a fraction ("1539216000.000000000") as OANDA sends when
// asked for Accept-Datetime-Format: UNIX.
func timeValue(v *fastjson.Value) (time.Time, error) {
	b, err := v.StringBytes()
	if err != nil {
		return time.Time{}, fmt.Errorf("want a time string, got %s", v.Type())
	}
	return parseTime(b)
}

// maxUnix bounds times to years 0001..9999.
const maxUnix = 253402300799

func parseTime(b []byte) (time.Time, error) {
	if len(b) == 0 {
		return time.Time{}, errors.New("empty time")
	}
	if b[0] >= '0' && b[0] <= '9' && bytes.IndexByte(b, '-') < 0 {
		sec, frac, _ := bytes.Cut(b, []byte{'.'})
		s, err := strconv.ParseInt(string(sec), 10, 64)
		if err != nil || s > maxUnix || len(frac) > 9 {
			return time.Time{}, fmt.Errorf("%q is not a Unix time", truncate(string(b)))
		}
		var ns int64
		for i := range 9 {
			ns *= 10
			if i < len(frac) {
				if frac[i] < '0' || frac[i] > '9' {
					return time.Time{}, fmt.Errorf("%q is not a Unix time", truncate(string(b)))
				}
				ns += int64(frac[i] - '0')
			}
		}
		return time.Unix(s, ns).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, unsafe.String(unsafe.SliceData(b), len(b)))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", truncate(string(b)))
	}
	return t.UTC(), nil
}

// ascending sorts bars oldest first and drops repeated times (keeping the
// first seen); OANDA sends them oldest first already.
func ascending(bars []providers.Bar) []providers.Bar {
	for i := 1; i < len(bars); i++ {
		if !bars[i].Time.After(bars[i-1].Time) {
			slices.SortStableFunc(bars, func(a, b providers.Bar) int { return a.Time.Compare(b.Time) })
			return slices.CompactFunc(bars, func(a, b providers.Bar) bool { return a.Time.Equal(b.Time) })
		}
	}
	return bars
}

// ParsePricing decodes GET /v3/accounts/{accountID}/pricing:
// {"time","prices":[{"instrument","time","bids":[{"price","liquidity"}],
// "asks":[…],"closeoutBid","closeoutAsk","tradeable",…}]}. Each quote has
// the best bid and ask (closeoutBid and closeoutAsk when the book is empty)
// and their mid as Price.
func ParsePricing(body []byte) ([]providers.Quote, error) {
	if err := wantObject(body, "pricing"); err != nil {
		return nil, err
	}
	type level struct {
		Price string `json:"price"`
	}
	var r struct {
		Prices *[]struct {
			Instrument  string  `json:"instrument"`
			Time        string  `json:"time"`
			Bids        []level `json:"bids"`
			Asks        []level `json:"asks"`
			CloseoutBid string  `json:"closeoutBid"`
			CloseoutAsk string  `json:"closeoutAsk"`
		} `json:"prices"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, jsonErr("pricing", err)
	}
	if r.Prices == nil {
		return nil, decodeErr("prices", "field missing")
	}
	out := make([]providers.Quote, 0, len(*r.Prices))
	for i, p := range *r.Prices {
		field := fmt.Sprintf("prices[%d]", i)
		if p.Instrument == "" {
			return nil, decodeErr(field+".instrument", "empty")
		}
		bidS, askS := p.CloseoutBid, p.CloseoutAsk
		if len(p.Bids) > 0 {
			bidS = p.Bids[0].Price
		}
		if len(p.Asks) > 0 {
			askS = p.Asks[0].Price
		}
		q := providers.Quote{Symbol: instrumentSymbol(p.Instrument), Class: providers.Forex, Provider: ProviderName}
		var err error
		if q.Bid, err = decimal(field+".bids[0].price", bidS, false); err != nil {
			return nil, err
		}
		if q.Ask, err = decimal(field+".asks[0].price", askS, false); err != nil {
			return nil, err
		}
		switch {
		case bidS != "" && askS != "":
			q.Price = mid(q.Bid, q.Ask, max(decimals([]byte(bidS)), decimals([]byte(askS))))
		case bidS != "":
			q.Price = q.Bid
		case askS != "":
			q.Price = q.Ask
		default:
			return nil, decodeErr(field, "no bid or ask price")
		}
		if q.Time, err = timestamp(field+".time", p.Time, false); err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// ParseAccountSummary decodes GET /v3/accounts/{accountID}/summary:
// {"account":{id, currency, balance, NAV, unrealizedPL, marginUsed,
// marginAvailable, …},"lastTransactionID"}. Balances holds one entry, the
// account currency: Total is the balance, Available the margin available,
// Hold the margin used.
func ParseAccountSummary(body []byte) (providers.Account, error) {
	if err := wantObject(body, "account"); err != nil {
		return providers.Account{}, err
	}
	var r struct {
		Account *struct {
			ID              string `json:"id"`
			Currency        string `json:"currency"`
			Balance         string `json:"balance"`
			NAV             string `json:"NAV"`
			UnrealizedPL    string `json:"unrealizedPL"`
			MarginUsed      string `json:"marginUsed"`
			MarginAvailable string `json:"marginAvailable"`
		} `json:"account"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return providers.Account{}, jsonErr("account", err)
	}
	a := r.Account
	if a == nil {
		return providers.Account{}, decodeErr("account", "field missing")
	}
	if a.ID == "" {
		return providers.Account{}, decodeErr("account.id", "empty")
	}
	if a.Currency == "" {
		return providers.Account{}, decodeErr("account.currency", "empty")
	}
	acct := providers.Account{ID: a.ID, Currency: a.Currency, Provider: ProviderName}
	for _, f := range []struct {
		name     string
		s        string
		dst      *float64
		required bool
	}{
		{"account.balance", a.Balance, &acct.Balance, true},
		{"account.NAV", a.NAV, &acct.NAV, true},
		{"account.unrealizedPL", a.UnrealizedPL, &acct.UnrealizedPL, false},
		{"account.marginUsed", a.MarginUsed, &acct.MarginUsed, false},
		{"account.marginAvailable", a.MarginAvailable, &acct.MarginAvailable, false},
	} {
		x, err := decimal(f.name, f.s, f.required)
		if err != nil {
			return providers.Account{}, err
		}
		*f.dst = x
	}
	acct.Balances = []providers.Balance{{Currency: a.Currency, Total: acct.Balance, Available: acct.MarginAvailable, Hold: acct.MarginUsed}}
	return acct, nil
}

// transaction holds the fields of the order transactions PlaceOrder reads.
type transaction struct {
	Type             string `json:"type"`
	ID               string `json:"id"`
	OrderID          string `json:"orderID"`
	Instrument       string `json:"instrument"`
	Units            string `json:"units"`
	Price            string `json:"price"`
	Time             string `json:"time"`
	Reason           string `json:"reason"`
	RejectReason     string `json:"rejectReason"`
	Commission       string `json:"commission"`
	GuaranteedFee    string `json:"guaranteedExecutionFee"`
	ClientExtensions *struct {
		ID string `json:"id"`
	} `json:"clientExtensions"`
}

// ParseOrderCreate decodes the 201 answer of POST /v3/accounts/{accountID}/orders:
// {"orderCreateTransaction", "orderFillTransaction"? |
// "orderCancelTransaction"?, "relatedTransactionIDs", "lastTransactionID"}.
//
// The order's ID is the id of the transaction that created it. With a fill
// the order is FILLED (FilledQuantity and AvgPrice from the fill, Fees its
// commission plus guaranteed execution fee); with a cancel it is CANCELLED
// and Reason is the cancel's reason (e.g. MARKET_HALTED); with neither (a
// resting limit order) it is PENDING. A reject transaction makes it REJECTED.
func ParseOrderCreate(body []byte) (providers.Order, error) {
	if err := wantObject(body, "order"); err != nil {
		return providers.Order{}, err
	}
	var r struct {
		Create *transaction `json:"orderCreateTransaction"`
		Fill   *transaction `json:"orderFillTransaction"`
		Cancel *transaction `json:"orderCancelTransaction"`
		Reject *transaction `json:"orderRejectTransaction"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return providers.Order{}, jsonErr("order", err)
	}
	tx, field := r.Create, "orderCreateTransaction"
	if tx == nil {
		tx, field = r.Reject, "orderRejectTransaction"
	}
	if tx == nil {
		return providers.Order{}, decodeErr("orderCreateTransaction", "field missing")
	}
	o := providers.Order{
		ID:       tx.ID,
		Symbol:   instrumentSymbol(tx.Instrument),
		Type:     providers.OrderType(strings.TrimSuffix(strings.TrimSuffix(tx.Type, "_REJECT"), "_ORDER")),
		Status:   providers.OrderPending,
		Provider: ProviderName,
	}
	if tx.ClientExtensions != nil {
		o.ClientOrderID = tx.ClientExtensions.ID
	}
	units, err := decimal(field+".units", tx.Units, true)
	if err != nil {
		return providers.Order{}, err
	}
	o.Side, o.Quantity = providers.Buy, math.Abs(units)
	if units < 0 {
		o.Side = providers.Sell
	}
	if o.Created, err = timestamp(field+".time", tx.Time, false); err != nil {
		return providers.Order{}, err
	}
	switch {
	case r.Reject != nil:
		o.Status, o.Reason = providers.OrderRejected, r.Reject.RejectReason
	case r.Fill != nil:
		f := r.Fill
		o.Status = providers.OrderFilled
		o.ID = cmp.Or(o.ID, f.OrderID)
		filled, err := decimal("orderFillTransaction.units", f.Units, true)
		if err != nil {
			return providers.Order{}, err
		}
		o.FilledQuantity = math.Abs(filled)
		if o.AvgPrice, err = decimal("orderFillTransaction.price", f.Price, true); err != nil {
			return providers.Order{}, err
		}
		commission, err := decimal("orderFillTransaction.commission", f.Commission, false)
		if err != nil {
			return providers.Order{}, err
		}
		fee, err := decimal("orderFillTransaction.guaranteedExecutionFee", f.GuaranteedFee, false)
		if err != nil {
			return providers.Order{}, err
		}
		o.Fees = commission + fee
	case r.Cancel != nil:
		o.Status, o.Reason = providers.OrderCancelled, r.Cancel.Reason
		o.ID = cmp.Or(o.ID, r.Cancel.OrderID)
	}
	if o.ID == "" {
		return providers.Order{}, decodeErr(field+".id", "empty")
	}
	return o, nil
}

// decimal parses a decimal string field. An empty string is zero unless the
// field is required.
func decimal(field, s string, required bool) (float64, error) {
	if s == "" {
		if required {
			return 0, decodeErr(field, "empty")
		}
		return 0, nil
	}
	f, err := parseFloat([]byte(s))
	if err != nil {
		return 0, decodeErr(field, "%q is not a finite decimal", truncate(s))
	}
	return f, nil
}

// timestamp parses a DateTime string field into UTC. An empty string is the
// zero time unless the field is required.
func timestamp(field, s string, required bool) (time.Time, error) {
	if s == "" {
		if required {
			return time.Time{}, decodeErr(field, "empty")
		}
		return time.Time{}, nil
	}
	t, err := parseTime([]byte(s))
	if err != nil {
		return time.Time{}, decodeErr(field, "%v", err)
	}
	return t, nil
}

// wantObject rejects bodies that are not a JSON object before decoding.
func wantObject(body []byte, field string) error {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return decodeErr(field, "empty body")
	}
	if b[0] != '{' {
		return decodeErr(field, "want a JSON object, got %q", providers.Excerpt(b))
	}
	return nil
}

func jsonErr(field string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return decodeErr(te.Field, "want %s, got JSON %s", te.Type, te.Value)
	}
	return decodeErr(field, "%v", err)
}

func decodeErr(field, format string, args ...any) error {
	return providers.Decodef(ProviderName, field, format, args...)
}

// truncate bounds s to 80 bytes without splitting a UTF-8 sequence.
func truncate(s string) string {
	n := 80
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
