package sandbox

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// OANDA v20: candles, account summary, pricing and orders. Answers are
// built from the recorded responses in data/upstream/oanda, whose key order
// and untouched values they keep.

const (
	oandaUserID     = 1234567
	oandaStartFunds = 100000.0
)

var oandaGranularities = map[string]bool{
	"S5": true, "S10": true, "S15": true, "S30": true, "M1": true, "M2": true, "M4": true, "M5": true,
	"M10": true, "M15": true, "M30": true, "H1": true, "H2": true, "H3": true, "H4": true, "H6": true,
	"H8": true, "H12": true, "D": true, "W": true, "M": true,
}

// oandaVenue serves the OANDA v20 API under PrefixOANDA, with its practice
// account: a cash balance and one net position per instrument.
type oandaVenue struct {
	*core

	mu        sync.Mutex
	lastTxn   int
	balance   float64
	positions map[string]*oandaPosition
}

type oandaPosition struct {
	units   float64 // signed
	avg     float64 // average open price
	tradeID string
}

func newOandaVenue(c *core) *oandaVenue {
	return &oandaVenue{
		core:      c,
		lastTxn:   1, // the recorded summary's lastTransactionID
		balance:   oandaStartFunds,
		positions: map[string]*oandaPosition{},
	}
}

func oandaJSON(status int, v any) reply { return jsonValue(status, ctJSON, v) }

func oandaError(status int, msg string) reply {
	return oandaJSON(status, struct {
		ErrorMessage string `json:"errorMessage"`
	}{msg})
}

// oandaTimeFormat spells times as v20 does by default (RFC 3339 with
// nanoseconds), or as "seconds.nanoseconds" when the request asked for
// Accept-Datetime-Format: UNIX.
type oandaTimeFormat bool

func timeFormat(r *http.Request) oandaTimeFormat {
	return oandaTimeFormat(strings.EqualFold(r.Header.Get("Accept-Datetime-Format"), "UNIX"))
}

func (f oandaTimeFormat) format(t time.Time) string { return string(f.append(nil, t)) }

func (f oandaTimeFormat) append(b []byte, t time.Time) []byte {
	if f {
		b = strconv.AppendInt(b, t.Unix(), 10)
		b = append(b, '.')
		start := len(b)
		b = strconv.AppendInt(b, 1e9+int64(t.Nanosecond()), 10) // nine digits after a leading 1
		copy(b[start:], b[start+1:])
		return b[:len(b)-1]
	}
	return t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000000Z")
}

func (*oandaVenue) tooManyRequests() reply {
	return bodyReply(http.StatusTooManyRequests, ctJSON, []byte(`{"errorMessage":"Rate limit exceeded"}`))
}

func (*oandaVenue) internalError() reply {
	return bodyReply(http.StatusInternalServerError, ctJSON, []byte(`{"errorMessage":"Internal server error"}`))
}

func (oa *oandaVenue) route(r *http.Request, rest string) reply {
	if ok, _ := credential(bearer(r)); !ok {
		return oandaError(http.StatusUnauthorized, "Insufficient authorization to perform request.")
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	switch {
	case len(parts) == 4 && parts[0] == "v3" && parts[1] == "instruments" && parts[3] == "candles" && r.Method == http.MethodGet:
		return oa.oandaCandles(r, parts[2])
	case len(parts) == 4 && parts[0] == "v3" && parts[1] == "accounts" && parts[2] != "":
		switch {
		case parts[3] == "summary" && r.Method == http.MethodGet:
			return oa.oandaSummary(parts[2])
		case parts[3] == "pricing" && r.Method == http.MethodGet:
			return oa.oandaPricing(r, parts[2])
		case parts[3] == "orders" && r.Method == http.MethodPost:
			return oa.oandaOrder(r, parts[2])
		}
	case len(parts) == 5 && parts[0] == "v3" && parts[1] == "accounts" && parts[3] == "candles" && parts[4] == "latest" && r.Method == http.MethodGet:
		return oa.oandaLatest(r)
	}
	return oandaError(http.StatusNotFound, "The requested resource was not found.")
}

// oandaCandles serves GET /v3/instruments/{instrument}/candles. Only daily
// candles (granularity=D) hold data; other valid granularities answer an
// empty candle list. Candles are aligned to 00:00 UTC (the recorded daily
// series' day boundary) and carry a volume of zero: the source has none.
func (oa *oandaVenue) oandaCandles(r *http.Request, inst string) reply {
	s, n, ok := oa.view(inst)
	if !ok || s.bid == nil {
		return oandaError(http.StatusBadRequest, "Invalid value specified for 'instrument'")
	}
	q := r.URL.Query()
	price := q.Get("price")
	if price == "" {
		price = "M"
	}
	if strings.Trim(price, "MBA") != "" {
		return oandaError(http.StatusBadRequest, "Invalid value specified for 'price'")
	}
	gran := q.Get("granularity")
	if gran == "" {
		gran = "S5"
	}
	if !oandaGranularities[gran] {
		return oandaError(http.StatusBadRequest, "Invalid value specified for 'granularity'")
	}
	lo, hi, msg := oandaCandleRange(q, s, n)
	if msg != "" {
		return oandaError(http.StatusBadRequest, msg)
	}
	if gran != "D" {
		lo, hi = 0, 0
	}
	b := make([]byte, 0, 128+(hi-lo)*(100+70*len(price)))
	b = append(b, `{"instrument":`...)
	b = appendStr(b, inst)
	b = append(b, `,"granularity":`...)
	b = appendStr(b, gran)
	b = append(b, `,"candles":`...)
	b = appendCandles(b, s, lo, hi, price, timeFormat(r))
	return bodyReply(http.StatusOK, ctJSON, append(b, '}'))
}

// oandaCandleRange returns the bars [lo, hi) of the first n of s that the
// candle query q asks for: count (default 500, at most 5000) from the end,
// or from and to inclusive, or count from either of them. msg is the error
// message of an invalid query.
func oandaCandleRange(q url.Values, s *series, n int) (lo, hi int, msg string) {
	count := 500
	if v := q.Get("count"); v != "" {
		c, err := strconv.Atoi(v)
		if err != nil || c < 1 || c > 5000 {
			return 0, 0, "Invalid value specified for 'count'"
		}
		count = c
	}
	fromS, toS := q.Get("from"), q.Get("to")
	if fromS != "" && toS != "" && q.Get("count") != "" {
		return 0, 0, "Invalid value specified for 'count'. 'count' cannot be specified when 'to' and 'from' parameters are set"
	}
	if fromS == "" && toS == "" {
		return max(0, n-count), n, ""
	}
	var from, to time.Time
	var err error
	if fromS != "" {
		if from, err = parseTimeParam(fromS); err != nil {
			return 0, 0, "Invalid value specified for 'from'"
		}
	}
	if toS != "" {
		if to, err = parseTimeParam(toS); err != nil {
			return 0, 0, "Invalid value specified for 'to'"
		}
	}
	switch {
	case fromS != "" && toS != "":
		lo, hi = s.search(from), s.search(to.Add(time.Nanosecond))
	case fromS != "":
		lo = s.search(from)
		if q.Get("includeFirst") == "false" && lo < len(s.bars) && s.bars[lo].Time.Equal(from) {
			lo++
		}
		hi = lo + count
	default:
		hi = s.search(to.Add(time.Nanosecond))
		lo = max(0, hi-count)
	}
	hi = min(hi, n)
	return min(lo, hi), hi, ""
}

// appendCandles appends bars [lo, hi) of s as a v20 candle array with the
// price components price asks for (letters of "MBA").
func appendCandles(b []byte, s *series, lo, hi int, price string, tf oandaTimeFormat) []byte {
	b = append(b, '[')
	for i := lo; i < hi; i++ {
		if i > lo {
			b = append(b, ',')
		}
		b = append(b, `{"complete":true,"volume":0,"time":"`...)
		b = tf.append(b, s.bars[i].Time)
		b = append(b, '"')
		bar := s.bars[i]
		for _, c := range "MBA" {
			if !strings.ContainsRune(price, c) {
				continue
			}
			var p ohlc
			var key string
			switch c {
			case 'M':
				p, key = ohlc{bar.Open, bar.High, bar.Low, bar.Close}, `,"mid":`
			case 'B':
				p, key = s.bid[i], `,"bid":`
			case 'A':
				p, key = s.ask[i], `,"ask":`
			}
			b = append(b, key...)
			b = appendOHLC(b, p)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// oandaLatest serves GET /v3/accounts/{id}/candles/latest?candleSpecifications=
// INSTRUMENT:GRANULARITY:PRICE,…: the last two candles of each
// specification (none for granularities other than D).
func (oa *oandaVenue) oandaLatest(r *http.Request) reply {
	specs := strings.Split(r.URL.Query().Get("candleSpecifications"), ",")
	tf := timeFormat(r)
	b := []byte(`{"latestCandles":[`)
	for k, spec := range specs {
		f := strings.Split(spec, ":")
		if len(f) != 3 || !oandaGranularities[f[1]] || f[2] == "" || strings.Trim(f[2], "MBA") != "" {
			return oandaError(http.StatusBadRequest, "Invalid value specified for 'candleSpecifications'")
		}
		s, n, ok := oa.view(f[0])
		if !ok || s.bid == nil {
			return oandaError(http.StatusBadRequest, "Invalid value specified for 'candleSpecifications'")
		}
		lo, hi := max(0, n-2), n
		if f[1] != "D" {
			lo, hi = 0, 0
		}
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"instrument":`...)
		b = appendStr(b, f[0])
		b = append(b, `,"granularity":`...)
		b = appendStr(b, f[1])
		b = append(b, `,"candles":`...)
		b = appendCandles(b, s, lo, hi, f[2], tf)
		b = append(b, '}')
	}
	return bodyReply(http.StatusOK, ctJSON, append(b, "]}"...))
}

func appendOHLC(b []byte, p ohlc) []byte {
	b = append(b, `{"o":`...)
	b = appendDecStr(b, p.o, 5)
	b = append(b, `,"h":`...)
	b = appendDecStr(b, p.h, 5)
	b = append(b, `,"l":`...)
	b = appendDecStr(b, p.l, 5)
	b = append(b, `,"c":`...)
	b = appendDecStr(b, p.c, 5)
	return append(b, '}')
}

func money(v float64) string { return string(appendDec(nil, roundTo(v, 4), 4)) }

// oandaSummary serves GET /v3/accounts/{id}/summary from the recorded
// summary, with the sandbox account's balance, positions and transaction
// id.
func (oa *oandaVenue) oandaSummary(id string) reply {
	oa.mu.Lock()
	defer oa.mu.Unlock()
	var upl, posValue float64
	open := 0
	for inst, p := range oa.positions {
		if p.units == 0 {
			continue
		}
		open++
		s, n, _ := oa.view(inst)
		bid, ask := quoteSides(s, n-1)
		closeout := bid
		if p.units < 0 {
			closeout = ask
		}
		upl += p.units * (closeout - p.avg)
		posValue += math.Abs(p.units) * closeout
	}
	nav := oa.balance + upl
	acct := parseObject(fixture("oanda/v3_accounts_summary.json")).sub("account")
	acct = acct.set("id", id).
		set("lastTransactionID", strconv.Itoa(oa.lastTxn)).
		set("balance", money(oa.balance)).
		set("openTradeCount", open).
		set("openPositionCount", open).
		set("pl", money(oa.balance-oandaStartFunds)).
		set("resettablePL", money(oa.balance-oandaStartFunds)).
		set("unrealizedPL", money(upl)).
		set("NAV", money(nav)).
		set("marginUsed", money(posValue)).
		set("marginAvailable", money(nav-posValue)).
		set("positionValue", money(posValue)).
		set("marginCloseoutUnrealizedPL", money(upl)).
		set("marginCloseoutNAV", money(nav)).
		set("marginCloseoutMarginUsed", money(posValue)).
		set("marginCloseoutPositionValue", money(posValue)).
		set("withdrawalLimit", money(nav-posValue)).
		set("marginCallMarginUsed", money(posValue))
	return oandaJSON(http.StatusOK, object{}.set("account", acct).set("lastTransactionID", strconv.Itoa(oa.lastTxn)))
}

// oandaPriceBucket is a price and its liquidity, as pricing answers spell
// it (liquidity a number).
type oandaPriceBucket struct {
	Price     string `json:"price"`
	Liquidity int    `json:"liquidity"`
}

// oandaFillBucket is a price bucket as recorded in order fills (liquidity
// a string).
type oandaFillBucket struct {
	Price     string `json:"price"`
	Liquidity string `json:"liquidity"`
}

// oandaPricing serves GET /v3/accounts/{id}/pricing?instruments=… from the
// recorded price object: the closing bid and ask of the current bar.
func (oa *oandaVenue) oandaPricing(r *http.Request, _ string) reply {
	insts := strings.Split(r.URL.Query().Get("instruments"), ",")
	tmpl := parseObject(fixture("oanda/v3_accounts_pricing.json"))
	var raws []json.RawMessage
	if err := json.Unmarshal(tmpl.get("prices"), &raws); err != nil || len(raws) == 0 {
		panic("sandbox: pricing template has no price (a bug in this package)")
	}
	priceTmpl := parseObject(raws[0])
	tf := timeFormat(r)
	prices := make([]object, 0, len(insts))
	var latest time.Time
	for _, inst := range insts {
		s, ok := oa.data[inst]
		if inst == "" || !ok || s.bid == nil {
			return oandaError(http.StatusBadRequest, "Invalid value specified for 'instruments'")
		}
		_, i, _ := oa.quoteIndex(inst)
		bid, ask := quoteSides(s, i)
		at := endOfDay(s.bars[i].Time).Truncate(time.Second)
		if at.After(latest) {
			latest = at
		}
		spread := roundTo(ask-bid, 5)
		p := priceTmpl.clone().
			set("time", tf.format(at)).
			set("bids", []oandaPriceBucket{{string(appendDec(nil, bid, 5)), 10000000}}).
			set("asks", []oandaPriceBucket{{string(appendDec(nil, ask, 5)), 10000000}}).
			set("closeoutBid", string(appendDec(nil, roundTo(bid-spread/4, 5), 5))).
			set("closeoutAsk", string(appendDec(nil, roundTo(ask+spread/4, 5), 5))).
			set("status", "tradeable").
			set("tradeable", true).
			set("instrument", inst)
		prices = append(prices, p)
	}
	return oandaJSON(http.StatusOK, tmpl.clone().set("time", tf.format(latest)).set("prices", prices))
}

// oandaOrderRequest is the body of POST /orders.
type oandaOrderRequest struct {
	Order oandaOrderSpec `json:"order"`
}

type oandaTradeChange struct {
	TradeID                string `json:"tradeID"`
	Units                  string `json:"units"`
	Price                  string `json:"price"`
	RealizedPL             string `json:"realizedPL,omitempty"`
	GuaranteedExecutionFee string `json:"guaranteedExecutionFee"`
	HalfSpreadCost         string `json:"halfSpreadCost"`
	InitialMarginRequired  string `json:"initialMarginRequired,omitempty"`
}

// oandaOrder serves POST /v3/accounts/{id}/orders. A MARKET order fills at
// once at the current closing ask (buy) or bid (sell), answering 201 with
// orderCreateTransaction and orderFillTransaction in the recorded shape; a
// LIMIT order is created and stays pending. An unknown instrument or
// invalid units answer 400 with an orderRejectTransaction.
func (oa *oandaVenue) oandaOrder(r *http.Request, account string) reply {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req oandaOrderRequest
	if err != nil || json.Unmarshal(body, &req) != nil {
		return oandaError(http.StatusBadRequest, "Invalid JSON in request body")
	}
	o := req.Order
	if o.Type != "MARKET" && o.Type != "LIMIT" {
		return oandaError(http.StatusBadRequest, "Invalid value specified for 'order.type'")
	}
	if o.TimeInForce == "" {
		o.TimeInForce = map[string]string{"MARKET": "FOK", "LIMIT": "GTC"}[o.Type]
	}
	if o.PositionFill == "" {
		o.PositionFill = "DEFAULT"
	}
	filled := parseObject(fixture("oanda/v3_accounts_orders_POST_201_market_filled.json"))
	oa.mu.Lock()
	defer oa.mu.Unlock()
	s, ok := oa.data[o.Instrument]
	units, uerr := strconv.ParseFloat(o.Units, 64)
	tx := oandaTxInfo{account: account, requestID: strconv.FormatUint(mix(oa.nextID())>>8, 10)}
	if !ok || s.bid == nil || uerr != nil || units == 0 || math.IsNaN(units) || math.IsInf(units, 0) {
		tx.time = oa.oandaNow(s)
		return oa.rejectOrder(&o, tx, ok && s.bid != nil)
	}
	_, n, _ := oa.view(o.Instrument)
	tx.time = oa.oandaNow(s)
	create, createID := oa.createTx(filled.sub("orderCreateTransaction"), &o, tx)
	if o.Type == "LIMIT" {
		create = create.set("price", o.Price)
		return oandaJSON(http.StatusCreated, object{}.
			set("orderCreateTransaction", create).
			set("relatedTransactionIDs", []string{createID}).
			set("lastTransactionID", createID))
	}
	bid, ask := quoteSides(s, n-1)
	fill, fillID := oa.fillTx(filled.sub("orderFillTransaction"), &o, tx, createID, units, bid, ask)
	return oandaJSON(http.StatusCreated, object{}.
		set("orderCreateTransaction", create).
		set("orderFillTransaction", fill).
		set("relatedTransactionIDs", []string{createID, fillID}).
		set("lastTransactionID", fillID))
}

// oandaOrderSpec is the order of a POST /orders request.
type oandaOrderSpec struct {
	Type             string          `json:"type"`
	Instrument       string          `json:"instrument"`
	Units            string          `json:"units"`
	Price            string          `json:"price"`
	TimeInForce      string          `json:"timeInForce"`
	PositionFill     string          `json:"positionFill"`
	ClientExtensions json.RawMessage `json:"clientExtensions"`
}

// oandaTxInfo is what every transaction of one order request carries.
type oandaTxInfo struct {
	account   string
	requestID string
	time      string
}

// nextTxn numbers the account's next transaction. The caller holds oa.mu.
func (oa *oandaVenue) nextTxn() string {
	oa.lastTxn++
	return strconv.Itoa(oa.lastTxn)
}

// rejectOrder answers 400 with the orderRejectTransaction of o: its units
// are invalid when known says the instrument is, else the instrument is
// unknown. The caller holds oa.mu.
func (oa *oandaVenue) rejectOrder(o *oandaOrderSpec, tx oandaTxInfo, known bool) reply {
	id := oa.nextTxn()
	reason, msg := "INSTRUMENT_UNKNOWN", "The instrument specified is unknown"
	if known {
		reason, msg = "UNITS_INVALID", "The units specified is invalid"
	}
	rej := parseObject(fixture("oanda/v3_accounts_orders_POST_400_rejected.json"))
	t := rej.sub("orderRejectTransaction").
		set("type", o.Type+"_ORDER_REJECT").
		set("instrument", o.Instrument).
		set("units", o.Units).
		set("timeInForce", o.TimeInForce).
		set("positionFill", o.PositionFill).
		set("rejectReason", reason).
		set("id", id).set("accountID", tx.account).set("userID", oandaUserID).set("batchID", id).
		set("requestID", tx.requestID).
		set("time", tx.time)
	t = t.del("triggerCondition").del("partialFill")
	if o.Type == "MARKET" {
		t = t.del("price")
	} else {
		t = t.set("price", o.Price)
	}
	return oandaJSON(http.StatusBadRequest, rej.set("orderRejectTransaction", t).
		set("relatedTransactionIDs", []string{id}).
		set("lastTransactionID", id).
		set("errorMessage", msg).
		set("errorCode", reason))
}

// createTx fills the recorded orderCreateTransaction tmpl for o and
// returns it with its id. The caller holds oa.mu.
func (oa *oandaVenue) createTx(tmpl object, o *oandaOrderSpec, tx oandaTxInfo) (object, string) {
	id := oa.nextTxn()
	create := tmpl.
		set("type", o.Type+"_ORDER").
		set("instrument", o.Instrument).
		set("units", o.Units).
		set("timeInForce", o.TimeInForce).
		set("positionFill", o.PositionFill).
		set("id", id).set("userID", oandaUserID).set("accountID", tx.account).set("batchID", id).
		set("requestID", tx.requestID).set("time", tx.time)
	if len(o.ClientExtensions) > 0 {
		return create.set("clientExtensions", o.ClientExtensions), id
	}
	return create.del("clientExtensions"), id
}

// fillTx fills market order o (created as createID) for units at the
// closing ask (buy) or bid (sell): it nets the fill into the position,
// books the profit or loss, and returns the recorded orderFillTransaction
// tmpl filled in, with its id. The caller holds oa.mu.
func (oa *oandaVenue) fillTx(tmpl object, o *oandaOrderSpec, tx oandaTxInfo, createID string, units, bid, ask float64) (object, string) {
	price := ask
	if units < 0 {
		price = bid
	}
	half := roundTo(math.Abs(units)*(ask-bid)/2, 4)
	id := oa.nextTxn()
	opened, reduced, closed, pl := oa.apply(o.Instrument, units, price, id)
	oa.balance += pl
	fill := tmpl.
		set("orderID", createID).
		set("instrument", o.Instrument).
		set("units", o.Units).
		set("price", string(appendDec(nil, price, 5))).
		set("pl", money(pl)).
		set("accountBalance", money(oa.balance)).
		set("halfSpreadCost", money(half)).
		set("reason", "MARKET_ORDER").
		set("fullPrice", object{}.
			set("closeoutBid", string(appendDec(nil, bid, 5))).
			set("closeoutAsk", string(appendDec(nil, ask, 5))).
			set("timestamp", tx.time).
			set("bids", []oandaFillBucket{{string(appendDec(nil, bid, 5)), "10000000"}}).
			set("asks", []oandaFillBucket{{string(appendDec(nil, ask, 5)), "10000000"}})).
		set("id", id).set("userID", oandaUserID).set("accountID", tx.account).set("batchID", createID).
		set("requestID", tx.requestID).set("time", tx.time)
	if ext := o.ClientExtensions; len(ext) > 0 {
		var ce struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(ext, &ce)
		fill = fill.set("clientOrderID", ce.ID)
	} else {
		fill = fill.del("clientOrderID")
	}
	fill = fill.del("tradeOpened")
	if closed != nil {
		fill = fill.set("tradesClosed", []oandaTradeChange{*closed})
	}
	if reduced != nil {
		fill = fill.set("tradeReduced", reduced)
	}
	if opened != nil {
		opened.HalfSpreadCost = money(half)
		fill = fill.set("tradeOpened", opened)
	}
	return fill, id
}

// oandaNow is the time orders are stamped with: the end of the current
// bar's day.
func (oa *oandaVenue) oandaNow(s *series) string {
	if s == nil {
		s = oa.data["EUR_USD"]
	}
	_, n, _ := oa.view(s.symbol)
	return oandaTimeFormat(false).format(endOfDay(s.bars[n-1].Time).Truncate(time.Second))
}

// apply nets a fill into the instrument's position and reports the trade
// opened, reduced or closed, and the realised profit or loss. The sandbox
// keeps one trade per instrument: the position.
func (oa *oandaVenue) apply(inst string, units, price float64, fillID string) (opened, reduced, closed *oandaTradeChange, pl float64) {
	p := oa.positions[inst]
	if p == nil {
		p = &oandaPosition{}
		oa.positions[inst] = p
	}
	fmtUnits := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	if p.units != 0 && (p.units > 0) != (units > 0) {
		n := math.Min(math.Abs(units), math.Abs(p.units))
		sign := 1.0
		if p.units < 0 {
			sign = -1
		}
		pl = roundTo(n*sign*(price-p.avg), 4)
		change := &oandaTradeChange{TradeID: p.tradeID, Units: fmtUnits(-sign * n), Price: string(appendDec(nil, price, 5)),
			RealizedPL: money(pl), GuaranteedExecutionFee: "0.0000", HalfSpreadCost: "0.0000"}
		if n == math.Abs(p.units) {
			closed = change
		} else {
			reduced = change
		}
		p.units += -sign * n
		units += sign * n
		if p.units == 0 {
			p.avg, p.tradeID = 0, ""
		}
	}
	if units != 0 {
		if p.units == 0 {
			p.tradeID = fillID
			p.avg = price
		} else {
			p.avg = (p.avg*math.Abs(p.units) + price*math.Abs(units)) / (math.Abs(p.units) + math.Abs(units))
		}
		p.units += units
		opened = &oandaTradeChange{TradeID: fillID, Units: fmtUnits(units), Price: string(appendDec(nil, price, 5)),
			GuaranteedExecutionFee: "0.0000", InitialMarginRequired: money(math.Abs(units) * price)}
	}
	return opened, reduced, closed, pl
}
