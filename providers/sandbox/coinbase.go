package sandbox

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Coinbase Advanced Trade: accounts and orders.

// coinbaseVenue serves Coinbase Advanced Trade under PrefixCoinbase: one
// account whose balances market orders move, and the last cbMaxOrders
// orders and their fills.
type coinbaseVenue struct {
	*core

	mu       sync.Mutex
	balances map[string]float64
	orders   map[string]*cbOrder
	fills    map[string]*cbFill // by order id
	order    []string           // ids, oldest first; at most cbMaxOrders
}

// cbFill is a fill as GET /orders/historical/fills reports it, in the
// recorded key order.
type cbFill struct {
	EntryID            string `json:"entry_id"`
	TradeID            string `json:"trade_id"`
	OrderID            string `json:"order_id"`
	TradeTime          string `json:"trade_time"`
	TradeType          string `json:"trade_type"`
	Price              string `json:"price"`
	Size               string `json:"size"`
	Commission         string `json:"commission"`
	ProductID          string `json:"product_id"`
	SequenceTimestamp  string `json:"sequence_timestamp"`
	LiquidityIndicator string `json:"liquidity_indicator"`
	SizeInQuote        bool   `json:"size_in_quote"`
	UserID             string `json:"user_id"`
	Side               string `json:"side"`
}

// cbMaxOrders bounds the orders kept for lookup, so a long run does not
// grow the sandbox.
const cbMaxOrders = 1000

// Starting balances of the Advanced Trade account.
const (
	cbStartUSD = 100000
	cbStartBTC = 1
)

func newCoinbaseVenue(c *core) *coinbaseVenue {
	return &coinbaseVenue{
		core:     c,
		balances: map[string]float64{"USD": cbStartUSD, "BTC": cbStartBTC},
		orders:   map[string]*cbOrder{},
		fills:    map[string]*cbFill{},
	}
}

// cbOrder is an order as GET /orders/historical/{id} reports it; field
// order follows the recorded batch answer.
type cbOrder struct {
	OrderID               string          `json:"order_id"`
	ProductID             string          `json:"product_id"`
	UserID                string          `json:"user_id"`
	OrderConfiguration    json.RawMessage `json:"order_configuration"`
	Side                  string          `json:"side"`
	ClientOrderID         string          `json:"client_order_id"`
	Status                string          `json:"status"`
	TimeInForce           string          `json:"time_in_force"`
	CreatedTime           string          `json:"created_time"`
	CompletionPercentage  string          `json:"completion_percentage"`
	FilledSize            string          `json:"filled_size"`
	AverageFilledPrice    string          `json:"average_filled_price"`
	Fee                   string          `json:"fee"`
	NumberOfFills         string          `json:"number_of_fills"`
	FilledValue           string          `json:"filled_value"`
	PendingCancel         bool            `json:"pending_cancel"`
	SizeInQuote           bool            `json:"size_in_quote"`
	TotalFees             string          `json:"total_fees"`
	SizeInclusiveOfFees   bool            `json:"size_inclusive_of_fees"`
	TotalValueAfterFees   string          `json:"total_value_after_fees"`
	TriggerStatus         string          `json:"trigger_status"`
	OrderType             string          `json:"order_type"`
	RejectReason          string          `json:"reject_reason"`
	Settled               bool            `json:"settled"`
	ProductType           string          `json:"product_type"`
	RejectMessage         string          `json:"reject_message"`
	CancelMessage         string          `json:"cancel_message"`
	OrderPlacementSource  string          `json:"order_placement_source"`
	OutstandingHoldAmount string          `json:"outstanding_hold_amount"`
	IsLiquidation         bool            `json:"is_liquidation"`
	LastFillTime          *string         `json:"last_fill_time"`
	EditHistory           []struct{}      `json:"edit_history"`
	Leverage              string          `json:"leverage"`
	MarginType            string          `json:"margin_type"`
}

const cbUserID = "5a1bd0c8-0000-4000-8000-000000000001"
const cbPortfolioID = "5a1bd0c8-0000-4000-8000-000000000002"

func cbUnauthorized() reply { return textReply(http.StatusUnauthorized, "Unauthorized\n") }

func cbError(status int, code, msg string) reply {
	return jsonValue(status, ctJSONCharset, struct {
		Error        string `json:"error"`
		ErrorDetails string `json:"error_details"`
		Message      string `json:"message"`
	}{code, msg, msg})
}

func (*coinbaseVenue) tooManyRequests() reply {
	return cbJSON(http.StatusTooManyRequests, []byte(`{"error":"RATE_LIMIT_EXCEEDED","error_details":"Too many requests","message":"Too many requests"}`))
}

func (*coinbaseVenue) internalError() reply {
	return cbJSON(http.StatusInternalServerError, []byte(`{"error":"INTERNAL","error_details":"internal error","message":"internal error"}`))
}

func (cb *coinbaseVenue) route(r *http.Request, rest string) reply {
	api, ok := strings.CutPrefix(rest, "/api/v3/brokerage/")
	if !ok {
		return textReply(http.StatusNotFound, "404 page not found\n")
	}
	if err := cb.checkJWT(r, rest); err != nil {
		return cbUnauthorized()
	}
	switch {
	case api == "accounts" && r.Method == http.MethodGet:
		return cb.cbAccounts()
	case api == "orders" && r.Method == http.MethodPost:
		return cb.cbPlaceOrder(r)
	case api == "orders/historical/batch" && r.Method == http.MethodGet:
		return cb.cbListOrders(r)
	case api == "orders/historical/fills" && r.Method == http.MethodGet:
		return cb.cbListFills(r)
	case strings.HasPrefix(api, "orders/historical/") && r.Method == http.MethodGet:
		return cb.cbGetOrder(strings.TrimPrefix(api, "orders/historical/"))
	}
	return cbError(http.StatusNotFound, "NOT_FOUND", "route not found")
}

// jwtClaims are the claims a Coinbase Developer Platform key signs.
type jwtClaims struct {
	Sub string `json:"sub"`
	Iss string `json:"iss"`
	Nbf int64  `json:"nbf"`
	Exp int64  `json:"exp"`
	URI string `json:"uri"`
}

var errJWT = errors.New("invalid JWT")

// checkJWT validates the request's bearer JWT: ES256, unexpired, not
// revoked, and a uri claim "<METHOD> <host><path>" naming this request
// (the host is not checked; the path may include the sandbox prefix or
// not). With WithCoinbaseKey the signature is verified too.
func (cb *coinbaseVenue) checkJWT(r *http.Request, rest string) error {
	parts := strings.Split(bearer(r), ".")
	if len(parts) != 3 {
		return errJWT
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	var claims jwtClaims
	if decodeSegment(parts[0], &hdr) != nil || decodeSegment(parts[1], &claims) != nil {
		return errJWT
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 || hdr.Alg != "ES256" || hdr.Kid == "" || claims.Sub == "" {
		return errJWT
	}
	if hdr.Kid == RevokedKey || claims.Sub == RevokedKey {
		return errJWT
	}
	now := cb.opts.now().Unix()
	if claims.Exp <= now || claims.Nbf > now+60 {
		return errJWT
	}
	method, hostPath, ok := strings.Cut(claims.URI, " ")
	slash := strings.IndexByte(hostPath, '/')
	if !ok || method != r.Method || slash <= 0 {
		return errJWT
	}
	if path := hostPath[slash:]; path != r.URL.Path && path != rest {
		return errJWT
	}
	if pub := cb.opts.coinbaseKey; pub != nil {
		digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		rr, ss := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(pub, digest[:], rr, ss) {
			return errJWT
		}
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

type cbMoney struct {
	Value    string `json:"value"`
	Currency string `json:"currency"`
}

type cbAccount struct {
	UUID              string  `json:"uuid"`
	Name              string  `json:"name"`
	Currency          string  `json:"currency"`
	AvailableBalance  cbMoney `json:"available_balance"`
	Default           bool    `json:"default"`
	Active            bool    `json:"active"`
	CreatedAt         string  `json:"created_at"`
	UpdatedAt         string  `json:"updated_at"`
	DeletedAt         *string `json:"deleted_at"`
	Type              string  `json:"type"`
	Ready             bool    `json:"ready"`
	Hold              cbMoney `json:"hold"`
	RetailPortfolioID string  `json:"retail_portfolio_id"`
}

func cbAmount(currency string, v float64) string {
	if currency == "USD" {
		return string(appendDec(nil, roundTo(v, 2), 2))
	}
	return string(appendDec(nil, roundTo(v, 8), 1))
}

// roundTo rounds v to dec decimals.
func roundTo(v float64, dec int) float64 {
	p := math.Pow10(dec)
	return math.Round(v*p) / p
}

func (cb *coinbaseVenue) cbAccounts() reply {
	cb.mu.Lock()
	usd, btc := cb.balances["USD"], cb.balances["BTC"]
	cb.mu.Unlock()
	created := "2021-01-01T00:00:00.000Z"
	mk := func(id, name, cur, typ string, v float64) cbAccount {
		return cbAccount{
			UUID: id, Name: name, Currency: cur,
			AvailableBalance: cbMoney{cbAmount(cur, v), cur},
			Default:          true, Active: true, CreatedAt: created, UpdatedAt: created,
			Type: typ, Ready: true, Hold: cbMoney{"0", cur}, RetailPortfolioID: cbPortfolioID,
		}
	}
	accts := []cbAccount{
		mk("8bfc20d7-f7c6-4b5c-8d1e-000000000b7c", "BTC Wallet", "BTC", "ACCOUNT_TYPE_CRYPTO", btc),
		mk("8bfc20d7-f7c6-4b5c-8d1e-000000000001", "Cash (USD)", "USD", "ACCOUNT_TYPE_FIAT", usd),
	}
	return jsonValue(http.StatusOK, ctJSONCharset, struct {
		Accounts []cbAccount `json:"accounts"`
		HasNext  bool        `json:"has_next"`
		Cursor   string      `json:"cursor"`
		Size     int         `json:"size"`
	}{accts, false, "", len(accts)})
}

type cbOrderRequest struct {
	ClientOrderID      string          `json:"client_order_id"`
	ProductID          string          `json:"product_id"`
	Side               string          `json:"side"`
	OrderConfiguration json.RawMessage `json:"order_configuration"`
}

type cbConfig struct {
	BaseSize   string `json:"base_size"`
	QuoteSize  string `json:"quote_size"`
	LimitPrice string `json:"limit_price"`
}

type cbErrorResponse struct {
	Error                 string `json:"error"`
	Message               string `json:"message"`
	ErrorDetails          string `json:"error_details"`
	PreviewFailureReason  string `json:"preview_failure_reason"`
	NewOrderFailureReason string `json:"new_order_failure_reason"`
}

type cbSuccessResponse struct {
	OrderID       string `json:"order_id"`
	ProductID     string `json:"product_id"`
	Side          string `json:"side"`
	ClientOrderID string `json:"client_order_id"`
}

type cbCreateResponse struct {
	Success            bool               `json:"success"`
	SuccessResponse    *cbSuccessResponse `json:"success_response,omitempty"`
	ErrorResponse      *cbErrorResponse   `json:"error_response,omitempty"`
	OrderConfiguration json.RawMessage    `json:"order_configuration,omitempty"`
}

// cbTakerFee is the fee rate market orders pay.
const cbTakerFee = 0.006

// cbRefusal is why an order is refused: the codes of its success=false
// answer.
type cbRefusal struct{ code, msg, preview, newOrder string }

// The refusals of POST /orders, as upstream spells them.
var (
	cbBadProduct = cbRefusal{"INVALID_PRODUCT_ID", "Invalid product_id", "UNKNOWN_PREVIEW_FAILURE_REASON", "INVALID_PRODUCT_ID"}
	cbBadSide    = cbRefusal{"INVALID_SIDE", "Invalid side", "UNKNOWN_PREVIEW_FAILURE_REASON", "INVALID_SIDE"}
	cbBadConfig  = cbRefusal{"UNSUPPORTED_ORDER_CONFIGURATION", "Unsupported order configuration", "UNKNOWN_PREVIEW_FAILURE_REASON", "UNSUPPORTED_ORDER_CONFIGURATION"}
	cbBadSize    = cbRefusal{"INVALID_ARGUMENT", "Order size must be positive", "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL", "UNKNOWN_FAILURE_REASON"}
	cbNoFunds    = cbRefusal{"INSUFFICIENT_FUND", "Insufficient balance in source account", "PREVIEW_INSUFFICIENT_FUND", "INSUFFICIENT_FUND"}
)

// The order configurations the sandbox accepts, and the layout of order
// times.
const (
	cbMarketKind = "market_market_ioc"
	cbLimitKind  = "limit_limit_gtc"
	cbTimeLayout = "2006-01-02T15:04:05.000000Z"
)

// cbPlaceOrder serves POST /orders. A market order fills at once at the
// current close; a limit order rests open (the sandbox has no order book).
// Refusals are HTTP 200 with success=false, as upstream.
func (cb *coinbaseVenue) cbPlaceOrder(r *http.Request) reply {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req cbOrderRequest
	if err != nil || json.Unmarshal(body, &req) != nil {
		return cbError(http.StatusBadRequest, "INVALID_ARGUMENT", "invalid request body")
	}
	conf, market, why := req.config()
	if why != (cbRefusal{}) {
		return req.refuse(why)
	}
	s, n, _ := cb.view(cbProduct)
	bar := s.bars[n-1]
	base := conf.baseSize(market, bar.Close)
	if base <= 0 || math.IsNaN(base) || math.IsInf(base, 0) {
		return req.refuse(cbBadSize)
	}
	o := cb.newOrder(req, conf, bar.Time.Add(20*time.Hour).Format(cbTimeLayout))
	var fill *cbFill
	if market {
		if !cb.fillMarket(o, base, bar.Close) {
			return req.refuse(cbNoFunds)
		}
		fill = cb.newFill(o)
	} else {
		o.Status, o.TimeInForce, o.OrderType = "OPEN", "GOOD_UNTIL_CANCELLED", "LIMIT"
		o.CompletionPercentage, o.NumberOfFills = "0", "0"
		o.FilledSize, o.AverageFilledPrice, o.FilledValue, o.TotalFees, o.TotalValueAfterFees = "0", "0", "0", "0", "0"
	}
	cb.store(o, fill)
	return jsonValue(http.StatusOK, ctJSONCharset, cbCreateResponse{
		Success:            true,
		SuccessResponse:    &cbSuccessResponse{OrderID: o.OrderID, ProductID: req.ProductID, Side: req.Side, ClientOrderID: req.ClientOrderID},
		OrderConfiguration: req.OrderConfiguration,
	})
}

// config checks the order's product, side and configuration and returns
// the configuration and whether it is a market order, or why the order is
// refused.
func (req *cbOrderRequest) config() (conf cbConfig, market bool, why cbRefusal) {
	if req.ProductID != cbProduct {
		return conf, false, cbBadProduct
	}
	if req.Side != "BUY" && req.Side != "SELL" {
		return conf, false, cbBadSide
	}
	var confs map[string]cbConfig
	if json.Unmarshal(req.OrderConfiguration, &confs) != nil || len(confs) != 1 {
		return conf, false, cbBadConfig
	}
	var kind string
	for k, c := range confs { // exactly one
		kind, conf = k, c
	}
	if kind != cbMarketKind && kind != cbLimitKind {
		return conf, false, cbBadConfig
	}
	return conf, kind == cbMarketKind, cbRefusal{}
}

// refuse is the success=false answer to req for why.
func (req *cbOrderRequest) refuse(why cbRefusal) reply {
	return jsonValue(http.StatusOK, ctJSONCharset, cbCreateResponse{
		ErrorResponse: &cbErrorResponse{Error: why.code, Message: why.msg, PreviewFailureReason: why.preview,
			NewOrderFailureReason: why.newOrder},
		OrderConfiguration: req.OrderConfiguration,
	})
}

// baseSize is the order's size in BTC at price: a market order's
// base_size, or its quote_size converted; a limit order's base_size if it
// has a positive limit_price. It is zero when the configuration does not
// say.
func (conf cbConfig) baseSize(market bool, price float64) float64 {
	base, errBase := strconv.ParseFloat(conf.BaseSize, 64)
	quote, errQuote := strconv.ParseFloat(conf.QuoteSize, 64)
	limit, errLimit := strconv.ParseFloat(conf.LimitPrice, 64)
	switch {
	case market && errBase == nil && conf.QuoteSize == "":
		return base
	case market && errQuote == nil && conf.BaseSize == "" && quote > 0:
		return roundTo(quote/price, 8)
	case !market && errBase == nil && errLimit == nil && limit > 0:
		return base
	}
	return 0
}

// newOrder is the order req creates at created, with a fresh id and the
// fields every order shares; the caller fills it or rests it.
func (cb *coinbaseVenue) newOrder(req cbOrderRequest, conf cbConfig, created string) *cbOrder {
	return &cbOrder{
		OrderID: cb.uuid(), ProductID: req.ProductID, UserID: cbUserID, OrderConfiguration: req.OrderConfiguration,
		Side: req.Side, ClientOrderID: req.ClientOrderID, CreatedTime: created,
		Fee: "", PendingCancel: false, SizeInQuote: conf.QuoteSize != "", TriggerStatus: "INVALID_ORDER_TYPE",
		RejectReason: "REJECT_REASON_UNSPECIFIED", ProductType: "SPOT", OrderPlacementSource: "RETAIL_ADVANCED",
		OutstandingHoldAmount: "0", EditHistory: []struct{}{}, MarginType: "UNKNOWN_MARGIN_TYPE",
	}
}

// fillMarket fills market order o for base BTC at price, paying
// cbTakerFee: it moves the account's balances and marks o filled. It
// reports false, changing nothing, when the balance does not cover it.
func (cb *coinbaseVenue) fillMarket(o *cbOrder, base, price float64) bool {
	value := roundTo(base*price, 8)
	fees := roundTo(value*cbTakerFee, 8)
	after := value - fees // what a sale brings in
	if o.Side == "BUY" {
		after = value + fees // what a purchase costs
	}
	if !cb.settle(o.Side, base, value, fees) {
		return false
	}
	fill := o.CreatedTime
	o.Status, o.TimeInForce, o.OrderType, o.Settled = "FILLED", "IMMEDIATE_OR_CANCEL", "MARKET", true
	o.CompletionPercentage, o.NumberOfFills, o.LastFillTime = "100.00", "1", &fill
	o.FilledSize = string(appendDec(nil, base, 0))
	o.AverageFilledPrice = string(appendDec(nil, price, 0))
	o.FilledValue = string(appendDec(nil, value, 0))
	o.TotalFees = string(appendDec(nil, fees, 0))
	o.TotalValueAfterFees = string(appendDec(nil, roundTo(after, 8), 0))
	return true
}

// settle moves the balances for a trade of base BTC worth value USD plus
// fees on side, if the balance given up covers it.
func (cb *coinbaseVenue) settle(side string, base, value, fees float64) bool {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if side == "BUY" {
		if cb.balances["USD"] < value+fees {
			return false
		}
		cb.balances["USD"] -= value + fees
		cb.balances["BTC"] += base
		return true
	}
	if cb.balances["BTC"] < base {
		return false
	}
	cb.balances["BTC"] -= base
	cb.balances["USD"] += value - fees
	return true
}

// newFill is the one fill of filled market order o.
func (cb *coinbaseVenue) newFill(o *cbOrder) *cbFill {
	return &cbFill{
		EntryID: fmt.Sprintf("%016x%016x", mix(cb.nextID()), mix(cb.nextID())), TradeID: cb.uuid(), OrderID: o.OrderID,
		TradeTime: o.CreatedTime, TradeType: "FILL", Price: o.AverageFilledPrice, Size: o.FilledSize,
		Commission: o.TotalFees, ProductID: o.ProductID, SequenceTimestamp: o.CreatedTime,
		LiquidityIndicator: "TAKER", UserID: cbUserID, Side: o.Side,
	}
}

func (cb *coinbaseVenue) store(o *cbOrder, f *cbFill) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if len(cb.order) >= cbMaxOrders {
		delete(cb.orders, cb.order[0])
		delete(cb.fills, cb.order[0])
		cb.order = slices.Delete(cb.order, 0, 1)
	}
	cb.orders[o.OrderID] = o
	if f != nil {
		cb.fills[o.OrderID] = f
	}
	cb.order = append(cb.order, o.OrderID)
}

func (cb *coinbaseVenue) cbGetOrder(id string) reply {
	cb.mu.Lock()
	o, ok := cb.orders[id]
	cb.mu.Unlock()
	if !ok {
		return cbError(http.StatusNotFound, "NOT_FOUND", "order with this orderID was not found")
	}
	return jsonValue(http.StatusOK, ctJSONCharset, struct {
		Order *cbOrder `json:"order"`
	}{o})
}

// cbListOrders serves GET /orders/historical/batch: the kept orders,
// newest first, on one page, filtered by product_ids, order_status and
// order_ids when given.
func (cb *coinbaseVenue) cbListOrders(r *http.Request) reply {
	q := r.URL.Query()
	cb.mu.Lock()
	list := make([]*cbOrder, 0, len(cb.order))
	for i := len(cb.order) - 1; i >= 0; i-- {
		o := cb.orders[cb.order[i]]
		if cbFilter(q, "product_ids", o.ProductID) && cbFilter(q, "order_status", o.Status) && cbFilter(q, "order_ids", o.OrderID) {
			list = append(list, o)
		}
	}
	cb.mu.Unlock()
	return jsonValue(http.StatusOK, ctJSONCharset, struct {
		Orders   []*cbOrder `json:"orders"`
		Sequence string     `json:"sequence"`
		HasNext  bool       `json:"has_next"`
		Cursor   string     `json:"cursor"`
	}{list, "0", false, ""})
}

// cbListFills serves GET /orders/historical/fills: the fills of the kept
// market orders, newest first, filtered by order_ids and product_ids.
func (cb *coinbaseVenue) cbListFills(r *http.Request) reply {
	q := r.URL.Query()
	cb.mu.Lock()
	list := make([]*cbFill, 0, len(cb.fills))
	for i := len(cb.order) - 1; i >= 0; i-- {
		f := cb.fills[cb.order[i]]
		if f != nil && cbFilter(q, "order_ids", f.OrderID) && cbFilter(q, "product_ids", f.ProductID) {
			list = append(list, f)
		}
	}
	cb.mu.Unlock()
	return jsonValue(http.StatusOK, ctJSONCharset, struct {
		Fills  []*cbFill `json:"fills"`
		Cursor string    `json:"cursor"`
	}{list, ""})
}

// cbFilter reports whether v passes the list filter key of q (repeated
// parameters or comma-separated values; absent means everything passes).
func cbFilter(q url.Values, key, v string) bool {
	vals := q[key]
	if len(vals) == 0 {
		return true
	}
	for _, x := range vals {
		for _, y := range strings.Split(x, ",") {
			if y == v {
				return true
			}
		}
	}
	return false
}
