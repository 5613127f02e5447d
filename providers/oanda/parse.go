package oanda

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/wire"
)

// ParseCandles decodes GET /v3/instruments/{instrument}/candles:
// {"instrument","granularity","candles":[{"complete","volume","time",
// "mid"|"bid"|"ask":{"o","h","l","c"}}]}, prices as decimal strings.
//
// A bar takes the mid prices when present, else the midpoint of bid and ask,
// else whichever of the two is present. Volume is OANDA's tick volume (the
// number of price updates in the candle), not traded volume. Candles with
// "complete": false are skipped unless includeIncomplete is set. Bars are
// returned oldest first, in UTC, without repeated times; an empty candle
// list gives an empty slice and no error.
//
// The answer is read in one pass without building a JSON tree (unknown
// fields are skipped but validated); prices are parsed exactly (as
// strconv.ParseFloat would). The only allocation is the result.
func ParseCandles(body []byte, includeIncomplete bool) ([]providers.Bar, error) {
	s := scanner{wire.NewScanner(body)}
	if !s.Consume('{') {
		return nil, decodeErr("candles", "want a JSON object, got %s", s.Near())
	}
	var bars []providers.Bar
	found := false
	for more := !s.Consume('}'); more; {
		k, err := s.Key()
		if err != nil {
			return nil, decodeErr("candles", "%v", err)
		}
		if string(k) == "candles" {
			if bars, err = s.candles("candles", includeIncomplete, candleCount(body)); err != nil {
				return nil, err
			}
			found = true
		} else if err := s.Skip(); err != nil {
			return nil, decodeErr(string(k), "%v", err)
		}
		if more, err = s.NextMember(); err != nil {
			return nil, decodeErr("candles", "%v", err)
		}
	}
	if err := s.End(); err != nil {
		return nil, decodeErr("candles", "%v", err)
	}
	if !found {
		return nil, decodeErr("candles", "field missing")
	}
	return bars, nil
}

// scanner is the JSON scanner with the candle decoders of this package.
type scanner struct{ wire.Scanner }

// candleCount estimates the number of candles in body, for the capacity of
// the result: a candle and its prices open two objects (three with bid and
// ask). Counting one byte is much cheaper than counting a key.
func candleCount(body []byte) int { return max(bytes.Count(body, []byte{'{'})-1, 0) / 2 }

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
	s := scanner{wire.NewScanner(body)}
	if !s.Consume('{') {
		return nil, decodeErr("latestCandles", "want a JSON object, got %s", s.Near())
	}
	var out []LatestCandles
	found := false
	for more := !s.Consume('}'); more; {
		k, err := s.Key()
		if err != nil {
			return nil, decodeErr("latestCandles", "%v", err)
		}
		if string(k) == "latestCandles" {
			if out, err = s.latest(includeIncomplete); err != nil {
				return nil, err
			}
			found = true
		} else if err := s.Skip(); err != nil {
			return nil, decodeErr(string(k), "%v", err)
		}
		if more, err = s.NextMember(); err != nil {
			return nil, decodeErr("latestCandles", "%v", err)
		}
	}
	if err := s.End(); err != nil {
		return nil, decodeErr("latestCandles", "%v", err)
	}
	if !found {
		return nil, decodeErr("latestCandles", "field missing")
	}
	return out, nil
}

func (s *scanner) latest(includeIncomplete bool) ([]LatestCandles, error) {
	if !s.Consume('[') {
		return nil, decodeErr("latestCandles", "want an array, got %s", s.Near())
	}
	out := []LatestCandles{}
	for i, more := 0, !s.Consume(']'); more; i++ {
		field := fmt.Sprintf("latestCandles[%d]", i)
		if !s.Consume('{') {
			return nil, decodeErr(field, "want an object, got %s", s.Near())
		}
		var lc LatestCandles
		found := false
		for m := !s.Consume('}'); m; {
			k, err := s.Key()
			if err != nil {
				return nil, decodeErr(field, "%v", err)
			}
			switch string(k) {
			case "instrument", "granularity":
				v, err := s.Unquote()
				if err != nil {
					return nil, decodeErr(field+"."+string(k), "%v", err)
				}
				if k[0] == 'i' {
					lc.Symbol = instrumentSymbol(string(v))
				} else {
					lc.Granularity = string(v)
				}
			case "candles":
				if lc.Bars, err = s.candles(field+".candles", includeIncomplete, 2); err != nil {
					return nil, err
				}
				found = true
			default:
				if err := s.Skip(); err != nil {
					return nil, decodeErr(field+"."+string(k), "%v", err)
				}
			}
			if m, err = s.NextMember(); err != nil {
				return nil, decodeErr(field, "%v", err)
			}
		}
		if lc.Symbol == "" {
			return nil, decodeErr(field+".instrument", "empty")
		}
		if !found {
			return nil, decodeErr(field+".candles", "field missing")
		}
		out = append(out, lc)
		var err error
		if more, err = s.NextElement(); err != nil {
			return nil, decodeErr("latestCandles", "%v", err)
		}
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
func (s *scanner) candles(field string, includeIncomplete bool, capHint int) ([]providers.Bar, error) {
	if !s.Consume('[') {
		return nil, decodeErr(field, "want an array, got %s", s.Near())
	}
	bars := make([]providers.Bar, 0, capHint)
	for i, more := 0, !s.Consume(']'); more; i++ {
		bar, complete, sub, err := s.candle()
		if err != nil {
			return nil, decodeErr(fmt.Sprintf("%s[%d]%s", field, i, sub), "%v", err)
		}
		if complete || includeIncomplete {
			bars = append(bars, bar)
		}
		if more, err = s.NextElement(); err != nil {
			return nil, decodeErr(field, "%v", err)
		}
	}
	return wire.Ascending(bars), nil
}

// candle reads one candlestick object. On error sub names the member at
// fault (".time").
func (s *scanner) candle() (bar providers.Bar, complete bool, sub string, err error) {
	if !s.Consume('{') {
		return bar, false, "", fmt.Errorf("want an object, got %s", s.Near())
	}
	complete = true
	var mid, bid, ask ohlc
	var haveTime, haveMid, haveBid, haveAsk bool
	for more := !s.Consume('}'); more; {
		k, err := s.Key()
		if err != nil {
			return bar, false, "", err
		}
		switch string(k) {
		case "complete":
			complete, err = s.Bool()
		case "volume":
			var lit []byte
			if lit, err = s.Number(); err == nil {
				if bar.Volume, err = wire.ParseFloat(lit); err != nil || bar.Volume < 0 {
					err = fmt.Errorf("want a count of ticks, got %s", wire.Truncate(string(lit)))
				}
			}
		case "time":
			var v []byte
			if v, err = s.Unquote(); err == nil {
				bar.Time, err = parseTime(v)
				haveTime = true
			}
		case "mid":
			mid, err = s.prices()
			haveMid = true
		case "bid":
			bid, err = s.prices()
			haveBid = true
		case "ask":
			ask, err = s.prices()
			haveAsk = true
		default:
			err = s.Skip()
		}
		if err != nil {
			return bar, false, "." + wire.Truncate(string(k)), err
		}
		if more, err = s.NextMember(); err != nil {
			return bar, false, "", err
		}
	}
	if !haveTime {
		return bar, false, ".time", errors.New("field missing")
	}
	var px ohlc
	switch {
	case haveMid:
		px = mid
	case haveBid && haveAsk:
		d := max(bid.places, ask.places)
		if bid.places < 0 || ask.places < 0 {
			d = -1
		}
		px = ohlc{o: midpoint(bid.o, ask.o, d), h: midpoint(bid.h, ask.h, d), l: midpoint(bid.l, ask.l, d), c: midpoint(bid.c, ask.c, d)}
	case haveBid:
		px = bid
	case haveAsk:
		px = ask
	default:
		return bar, false, "", errors.New("no mid, bid or ask prices")
	}
	bar.Open, bar.High, bar.Low, bar.Close = px.o, px.h, px.l, px.c
	return bar, complete, "", nil
}

// prices reads {"o","h","l","c"} (decimal strings, or numbers).
func (s *scanner) prices() (ohlc, error) {
	if !s.Consume('{') {
		return ohlc{}, fmt.Errorf("want an object of o, h, l, c, got %s", s.Near())
	}
	var out ohlc
	var seen [4]bool
	for more := !s.Consume('}'); more; {
		k, err := s.Key()
		if err != nil {
			return ohlc{}, err
		}
		var dst *float64
		idx := -1
		if len(k) == 1 {
			switch k[0] {
			case 'o':
				dst, idx = &out.o, 0
			case 'h':
				dst, idx = &out.h, 1
			case 'l':
				dst, idx = &out.l, 2
			case 'c':
				dst, idx = &out.c, 3
			}
		}
		if dst == nil {
			if err := s.Skip(); err != nil {
				return ohlc{}, err
			}
		} else {
			var lit []byte
			if s.Peek() == '"' {
				lit, err = s.Unquote()
			} else {
				lit, err = s.Number()
			}
			if err != nil {
				return ohlc{}, fmt.Errorf("price %q: %w", k, err)
			}
			if *dst, err = wire.ParseFloat(lit); err != nil {
				return ohlc{}, fmt.Errorf("price %q: %q is %w", k, wire.Truncate(string(lit)), err)
			}
			if p := decimals(lit); p < 0 || out.places < 0 {
				out.places = -1
			} else {
				out.places = max(out.places, p)
			}
			seen[idx] = true
		}
		if more, err = s.NextMember(); err != nil {
			return ohlc{}, err
		}
	}
	for i, ok := range seen {
		if !ok {
			return ohlc{}, fmt.Errorf("price %q missing", "ohlc"[i:i+1])
		}
	}
	return out, nil
}

// maxUnix bounds times to years 0001..9999.
const maxUnix = 253402300799

func parseTime(b []byte) (time.Time, error) {
	if len(b) == 0 {
		return time.Time{}, errors.New("empty time")
	}
	if len(b) < 5 || b[4] != '-' { // not 2006-…: Unix seconds
		sec, frac, _ := bytes.Cut(b, []byte{'.'})
		s, err := strconv.ParseInt(string(sec), 10, 64)
		if err != nil || s > maxUnix || len(frac) > 9 {
			return time.Time{}, fmt.Errorf("%q is not a Unix time", wire.Truncate(string(b)))
		}
		var ns int64
		for i := range 9 {
			ns *= 10
			if i < len(frac) {
				if frac[i] < '0' || frac[i] > '9' {
					return time.Time{}, fmt.Errorf("%q is not a Unix time", wire.Truncate(string(b)))
				}
				ns += int64(frac[i] - '0')
			}
		}
		return time.Unix(s, ns).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, unsafe.String(unsafe.SliceData(b), len(b)))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", wire.Truncate(string(b)))
	}
	return t.UTC(), nil
}

// ParsePricing decodes GET /v3/accounts/{accountID}/pricing:
// {"time","prices":[{"instrument","time","bids":[{"price","liquidity"}],
// "asks":[…],"closeoutBid","closeoutAsk","tradeable",…}]}. Each quote has
// the best bid and ask (closeoutBid and closeoutAsk when the book is empty)
// and their mid as Price.
func ParsePricing(body []byte) ([]providers.Quote, error) {
	if err := wire.WantObject(ProviderName, body, "pricing"); err != nil {
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
		return nil, wire.JSONError(ProviderName, "pricing", err)
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
			q.Price = midpoint(q.Bid, q.Ask, max(decimals([]byte(bidS)), decimals([]byte(askS))))
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
	if err := wire.WantObject(ProviderName, body, "account"); err != nil {
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
		return providers.Account{}, wire.JSONError(ProviderName, "account", err)
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
	if err := wire.WantObject(ProviderName, body, "order"); err != nil {
		return providers.Order{}, err
	}
	var r struct {
		Create *transaction `json:"orderCreateTransaction"`
		Fill   *transaction `json:"orderFillTransaction"`
		Cancel *transaction `json:"orderCancelTransaction"`
		Reject *transaction `json:"orderRejectTransaction"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return providers.Order{}, wire.JSONError(ProviderName, "order", err)
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
	f, err := wire.ParseFloat([]byte(s))
	if err != nil {
		return 0, decodeErr(field, "%q is not a finite decimal", wire.Truncate(s))
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

func decodeErr(field, format string, args ...any) error {
	return providers.Decodef(ProviderName, field, format, args...)
}
