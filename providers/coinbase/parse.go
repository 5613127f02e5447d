package coinbase

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/wire"
)

// maxUnix bounds candle times to years 0001..9999.
const maxUnix = 253402300799

// ParseCandles decodes an Exchange candles answer: a JSON array of
// [time, low, high, open, close, volume] rows (time in Unix seconds, the rest
// numbers), newest first. The bars are returned oldest first, in UTC, with
// duplicate times removed. An empty array gives an empty slice and no error.
//
// The answer is scanned in one pass without building a JSON tree; numbers
// are parsed exactly (as strconv.ParseFloat would). The only allocation is
// the result.
func ParseCandles(body []byte) ([]providers.Bar, error) {
	s := wire.NewScanner(body)
	if !s.Consume('[') {
		return nil, decodeErr("candles", "want an array of [time, low, high, open, close, volume], got %s", s.Near())
	}
	// Every row opens a bracket: count them for an exact capacity.
	bars := make([]providers.Bar, 0, max(bytes.Count(body, []byte{'['})-1, 0))
	if !s.Consume(']') {
		var f [6]float64
		for i := 0; ; i++ {
			if !s.Consume('[') {
				return nil, decodeErr(fmt.Sprintf("candles[%d]", i), "want [time, low, high, open, close, volume], got %s", s.Near())
			}
			for k := range f {
				if k > 0 && !s.Consume(',') {
					return nil, decodeErr(fmt.Sprintf("candles[%d]", i), "want 6 values [time, low, high, open, close, volume], got %s", s.Near())
				}
				x, err := s.Float()
				if err != nil {
					return nil, decodeErr(fmt.Sprintf("candles[%d][%d]", i, k), "%v", err)
				}
				f[k] = x
			}
			if !s.Consume(']') {
				return nil, decodeErr(fmt.Sprintf("candles[%d]", i), "want 6 values [time, low, high, open, close, volume], got %s", s.Near())
			}
			if f[0] < 0 || f[0] > maxUnix || f[0] != math.Trunc(f[0]) {
				return nil, decodeErr(fmt.Sprintf("candles[%d][0]", i), "time %v is not a Unix time in seconds", f[0])
			}
			for k := 1; k < 6; k++ {
				if f[k] < 0 {
					return nil, decodeErr(fmt.Sprintf("candles[%d][%d]", i, k), "negative value %v", f[k])
				}
			}
			bars = append(bars, providers.Bar{
				Time: time.Unix(int64(f[0]), 0).UTC(),
				Low:  f[1], High: f[2], Open: f[3], Close: f[4], Volume: f[5],
			})
			if s.Consume(',') {
				continue
			}
			if s.Consume(']') {
				break
			}
			return nil, decodeErr("candles", "want , or ] after row %d, got %s", i, s.Near())
		}
	}
	if !s.AtEnd() {
		return nil, decodeErr("candles", "unexpected data after the array: %s", s.Near())
	}
	return wire.Ascending(bars), nil
}

// ParseTicker decodes an Exchange ticker answer
// ({"ask","bid","volume","trade_id","price","size","time",…}, prices as
// strings; trade_id may be a string or a number). The quote has Price, Bid,
// Ask, Volume and Time set; the caller fills in Symbol, Class and Provider.
func ParseTicker(body []byte) (providers.Quote, error) {
	if err := wire.WantObject(ProviderName, body, "ticker"); err != nil {
		return providers.Quote{}, err
	}
	var t struct {
		Ask     string          `json:"ask"`
		Bid     string          `json:"bid"`
		Volume  string          `json:"volume"`
		Price   string          `json:"price"`
		Time    string          `json:"time"`
		TradeID json.RawMessage `json:"trade_id"`
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return providers.Quote{}, wire.JSONError(ProviderName, "ticker", err)
	}
	if len(t.TradeID) > 0 && t.TradeID[0] != '"' && t.TradeID[0] != 'n' {
		if _, err := strconv.ParseInt(string(t.TradeID), 10, 64); err != nil {
			return providers.Quote{}, decodeErr("trade_id", "%s is neither a string nor an integer", t.TradeID)
		}
	}
	var q providers.Quote
	var err error
	if q.Price, err = decimal("price", t.Price, true); err != nil {
		return providers.Quote{}, err
	}
	if q.Bid, err = decimal("bid", t.Bid, false); err != nil {
		return providers.Quote{}, err
	}
	if q.Ask, err = decimal("ask", t.Ask, false); err != nil {
		return providers.Quote{}, err
	}
	if q.Volume, err = decimal("volume", t.Volume, false); err != nil {
		return providers.Quote{}, err
	}
	if q.Time, err = timestamp("time", t.Time, false); err != nil {
		return providers.Quote{}, err
	}
	return q, nil
}

// AccountsPage is one page of Advanced Trade accounts.
type AccountsPage struct {
	// Balances has one entry per account (wallet), in the order received.
	Balances []providers.Balance
	// PortfolioID is the retail_portfolio_id the accounts belong to.
	PortfolioID string
	// HasNext and Cursor say whether and from where to read the next page.
	HasNext bool
	Cursor  string
}

type amount struct {
	Value    string `json:"value"`
	Currency string `json:"currency"`
}

// ParseAccounts decodes GET /api/v3/brokerage/accounts:
// {"accounts":[{"uuid","currency","available_balance":{"value","currency"},
// "hold":{"value","currency"},"retail_portfolio_id",…}],"has_next","cursor","size"}.
// A balance's Total is its available value plus its hold.
func ParseAccounts(body []byte) (AccountsPage, error) {
	if err := wire.WantObject(ProviderName, body, "accounts"); err != nil {
		return AccountsPage{}, err
	}
	var r struct {
		Accounts *[]struct {
			UUID              string `json:"uuid"`
			Currency          string `json:"currency"`
			AvailableBalance  amount `json:"available_balance"`
			Hold              amount `json:"hold"`
			RetailPortfolioID string `json:"retail_portfolio_id"`
		} `json:"accounts"`
		HasNext bool   `json:"has_next"`
		Cursor  string `json:"cursor"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return AccountsPage{}, wire.JSONError(ProviderName, "accounts", err)
	}
	if r.Accounts == nil {
		return AccountsPage{}, decodeErr("accounts", "field missing")
	}
	page := AccountsPage{HasNext: r.HasNext, Cursor: r.Cursor, Balances: make([]providers.Balance, 0, len(*r.Accounts))}
	for i, a := range *r.Accounts {
		field := fmt.Sprintf("accounts[%d]", i)
		if a.Currency == "" {
			return AccountsPage{}, decodeErr(field+".currency", "empty")
		}
		avail, err := decimal(field+".available_balance.value", a.AvailableBalance.Value, false)
		if err != nil {
			return AccountsPage{}, err
		}
		hold, err := decimal(field+".hold.value", a.Hold.Value, false)
		if err != nil {
			return AccountsPage{}, err
		}
		page.Balances = append(page.Balances, providers.Balance{
			Currency: strings.ToUpper(a.Currency), Total: avail + hold, Available: avail, Hold: hold,
		})
		if page.PortfolioID == "" {
			page.PortfolioID = a.RetailPortfolioID
		}
	}
	return page, nil
}

// ParseCreateOrder decodes the answer to POST /api/v3/brokerage/orders.
// On "success": true it returns the accepted order (ID, client order ID,
// symbol, side; status PENDING). On "success": false it returns an order with
// status REJECTED and the reason, and an *OrderError.
func ParseCreateOrder(body []byte) (providers.Order, error) {
	if err := wire.WantObject(ProviderName, body, "create order"); err != nil {
		return providers.Order{}, err
	}
	var r struct {
		Success         *bool  `json:"success"`
		FailureReason   string `json:"failure_reason"`
		OrderID         string `json:"order_id"`
		SuccessResponse *struct {
			OrderID       string `json:"order_id"`
			ProductID     string `json:"product_id"`
			Side          string `json:"side"`
			ClientOrderID string `json:"client_order_id"`
		} `json:"success_response"`
		ErrorResponse *struct {
			Error                 string `json:"error"`
			Message               string `json:"message"`
			ErrorDetails          string `json:"error_details"`
			PreviewFailureReason  string `json:"preview_failure_reason"`
			NewOrderFailureReason string `json:"new_order_failure_reason"`
		} `json:"error_response"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return providers.Order{}, wire.JSONError(ProviderName, "create order", err)
	}
	if r.Success == nil {
		return providers.Order{}, decodeErr("success", "field missing")
	}
	if !*r.Success {
		oe := &OrderError{FailureReason: r.FailureReason}
		if e := r.ErrorResponse; e != nil {
			oe.Reason, oe.Message, oe.Details = e.Error, e.Message, e.ErrorDetails
			oe.PreviewFailureReason, oe.NewOrderFailureReason = e.PreviewFailureReason, e.NewOrderFailureReason
		}
		return providers.Order{Status: providers.OrderRejected, Reason: oe.reason(), Provider: ProviderName}, oe
	}
	o := providers.Order{ID: r.OrderID, Status: providers.OrderPending, Provider: ProviderName}
	if s := r.SuccessResponse; s != nil {
		o.ID = cmp.Or(s.OrderID, o.ID)
		o.ClientOrderID = s.ClientOrderID
		o.Symbol = productSymbol(s.ProductID)
		o.Side = providers.Side(strings.ToUpper(s.Side))
	}
	if o.ID == "" {
		return providers.Order{}, decodeErr("success_response.order_id", "empty in a successful answer")
	}
	return o, nil
}

// orderJSON is an Advanced Trade order as the historical endpoints send it.
type orderJSON struct {
	OrderID            string `json:"order_id"`
	ProductID          string `json:"product_id"`
	OrderConfiguration map[string]struct {
		BaseSize   string `json:"base_size"`
		LimitPrice string `json:"limit_price"`
	} `json:"order_configuration"`
	Side               string `json:"side"`
	ClientOrderID      string `json:"client_order_id"`
	Status             string `json:"status"`
	CreatedTime        string `json:"created_time"`
	FilledSize         string `json:"filled_size"`
	AverageFilledPrice string `json:"average_filled_price"`
	TotalFees          string `json:"total_fees"`
	OrderType          string `json:"order_type"`
	RejectReason       string `json:"reject_reason"`
	RejectMessage      string `json:"reject_message"`
	CancelMessage      string `json:"cancel_message"`
}

func (j *orderJSON) order(field string) (providers.Order, error) {
	if j.OrderID == "" {
		return providers.Order{}, decodeErr(field+".order_id", "empty")
	}
	o := providers.Order{
		ID:            j.OrderID,
		ClientOrderID: j.ClientOrderID,
		Symbol:        productSymbol(j.ProductID),
		Side:          providers.Side(strings.ToUpper(j.Side)),
		Type:          providers.OrderType(strings.ToUpper(j.OrderType)),
		Status:        orderStatus(j.Status),
		Provider:      ProviderName,
	}
	var err error
	// order_configuration has one key naming the kind of order
	// (market_market_ioc, limit_limit_gtc, …); maps iterate randomly, so
	// pick the smallest key for a stable answer.
	keys := make([]string, 0, len(j.OrderConfiguration))
	for k := range j.OrderConfiguration {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) > 0 {
		cfg := j.OrderConfiguration[keys[0]]
		if o.Quantity, err = decimal(field+".order_configuration."+keys[0]+".base_size", cfg.BaseSize, false); err != nil {
			return providers.Order{}, err
		}
		if o.Type == "" || o.Type == "UNKNOWN_ORDER_TYPE" {
			switch {
			case strings.HasPrefix(keys[0], "market_"):
				o.Type = providers.Market
			case strings.Contains(keys[0], "limit_"):
				o.Type = providers.Limit
			}
		}
	}
	if o.FilledQuantity, err = decimal(field+".filled_size", j.FilledSize, false); err != nil {
		return providers.Order{}, err
	}
	if o.AvgPrice, err = decimal(field+".average_filled_price", j.AverageFilledPrice, false); err != nil {
		return providers.Order{}, err
	}
	if o.Fees, err = decimal(field+".total_fees", j.TotalFees, false); err != nil {
		return providers.Order{}, err
	}
	if o.Created, err = timestamp(field+".created_time", j.CreatedTime, false); err != nil {
		return providers.Order{}, err
	}
	switch o.Status {
	case providers.OrderRejected:
		o.Reason = cmp.Or(j.RejectMessage, specified(j.RejectReason))
	case providers.OrderCancelled:
		o.Reason = cmp.Or(j.CancelMessage, strings.ToUpper(j.Status))
	}
	return o, nil
}

// specified drops Coinbase's "…_UNSPECIFIED" placeholder values.
func specified(s string) string {
	if strings.HasSuffix(s, "_UNSPECIFIED") {
		return ""
	}
	return s
}

// orderStatus maps Advanced Trade order states (PENDING, OPEN, FILLED,
// CANCELLED, EXPIRED, FAILED, QUEUED, CANCEL_QUEUED, …) to OrderStatus.
// Expired orders count as cancelled; failed ones as rejected; every live
// state is pending.
func orderStatus(s string) providers.OrderStatus {
	switch strings.ToUpper(s) {
	case "FILLED":
		return providers.OrderFilled
	case "CANCELLED", "EXPIRED":
		return providers.OrderCancelled
	case "FAILED", "REJECTED":
		return providers.OrderRejected
	}
	return providers.OrderPending
}

// ParseOrder decodes GET /api/v3/brokerage/orders/historical/{order_id}:
// {"order":{…}}.
func ParseOrder(body []byte) (providers.Order, error) {
	if err := wire.WantObject(ProviderName, body, "order"); err != nil {
		return providers.Order{}, err
	}
	var r struct {
		Order *orderJSON `json:"order"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return providers.Order{}, wire.JSONError(ProviderName, "order", err)
	}
	if r.Order == nil {
		return providers.Order{}, decodeErr("order", "field missing")
	}
	return r.Order.order("order")
}

// OrdersPage is one page of GET /api/v3/brokerage/orders/historical/batch.
type OrdersPage struct {
	Orders  []providers.Order
	HasNext bool
	Cursor  string
}

// ParseOrders decodes GET /api/v3/brokerage/orders/historical/batch:
// {"orders":[…],"sequence","has_next","cursor"}.
func ParseOrders(body []byte) (OrdersPage, error) {
	if err := wire.WantObject(ProviderName, body, "orders"); err != nil {
		return OrdersPage{}, err
	}
	var r struct {
		Orders  *[]orderJSON `json:"orders"`
		HasNext bool         `json:"has_next"`
		Cursor  string       `json:"cursor"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return OrdersPage{}, wire.JSONError(ProviderName, "orders", err)
	}
	if r.Orders == nil {
		return OrdersPage{}, decodeErr("orders", "field missing")
	}
	page := OrdersPage{HasNext: r.HasNext, Cursor: r.Cursor, Orders: make([]providers.Order, 0, len(*r.Orders))}
	for i := range *r.Orders {
		o, err := (*r.Orders)[i].order(fmt.Sprintf("orders[%d]", i))
		if err != nil {
			return OrdersPage{}, err
		}
		page.Orders = append(page.Orders, o)
	}
	return page, nil
}

// Fill is one execution of an order.
type Fill struct {
	EntryID    string         `json:"entry_id"`
	TradeID    string         `json:"trade_id"`
	OrderID    string         `json:"order_id"`
	Symbol     string         `json:"symbol"`
	Side       providers.Side `json:"side"`
	Price      float64        `json:"price"`
	Size       float64        `json:"size"`
	Commission float64        `json:"commission"`
	// Liquidity is MAKER or TAKER.
	Liquidity string    `json:"liquidity"`
	Time      time.Time `json:"time"`
}

// FillsPage is one page of GET /api/v3/brokerage/orders/historical/fills.
type FillsPage struct {
	Fills  []Fill
	Cursor string
}

// ParseFills decodes GET /api/v3/brokerage/orders/historical/fills:
// {"fills":[{entry_id, trade_id, order_id, trade_time, price, size,
// commission, product_id, liquidity_indicator, side, …}],"cursor"}.
func ParseFills(body []byte) (FillsPage, error) {
	if err := wire.WantObject(ProviderName, body, "fills"); err != nil {
		return FillsPage{}, err
	}
	var r struct {
		Fills *[]struct {
			EntryID            string `json:"entry_id"`
			TradeID            string `json:"trade_id"`
			OrderID            string `json:"order_id"`
			TradeTime          string `json:"trade_time"`
			Price              string `json:"price"`
			Size               string `json:"size"`
			Commission         string `json:"commission"`
			ProductID          string `json:"product_id"`
			LiquidityIndicator string `json:"liquidity_indicator"`
			Side               string `json:"side"`
		} `json:"fills"`
		Cursor string `json:"cursor"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return FillsPage{}, wire.JSONError(ProviderName, "fills", err)
	}
	if r.Fills == nil {
		return FillsPage{}, decodeErr("fills", "field missing")
	}
	page := FillsPage{Cursor: r.Cursor, Fills: make([]Fill, 0, len(*r.Fills))}
	for i, f := range *r.Fills {
		field := fmt.Sprintf("fills[%d]", i)
		out := Fill{
			EntryID: f.EntryID, TradeID: f.TradeID, OrderID: f.OrderID,
			Symbol: productSymbol(f.ProductID), Side: providers.Side(strings.ToUpper(f.Side)),
			Liquidity: f.LiquidityIndicator,
		}
		var err error
		if out.Price, err = decimal(field+".price", f.Price, true); err != nil {
			return FillsPage{}, err
		}
		if out.Size, err = decimal(field+".size", f.Size, true); err != nil {
			return FillsPage{}, err
		}
		if out.Commission, err = decimal(field+".commission", f.Commission, false); err != nil {
			return FillsPage{}, err
		}
		if out.Time, err = timestamp(field+".trade_time", f.TradeTime, true); err != nil {
			return FillsPage{}, err
		}
		page.Fills = append(page.Fills, out)
	}
	return page, nil
}

// productSymbol returns the normalised symbol of a product id, or the id in
// upper case when it is not a pair NormalizeSymbol knows.
func productSymbol(id string) string {
	if sym, _, err := providers.NormalizeSymbol(id); err == nil {
		return sym
	}
	return strings.ToUpper(id)
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
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, decodeErr(field, "%q is not a finite decimal", wire.Truncate(s))
	}
	return f, nil
}

// timestamp parses an RFC 3339 time field into UTC. An empty string is the
// zero time unless the field is required.
func timestamp(field, s string, required bool) (time.Time, error) {
	if s == "" {
		if required {
			return time.Time{}, decodeErr(field, "empty")
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, decodeErr(field, "%q is not an RFC 3339 time", wire.Truncate(s))
	}
	return t.UTC(), nil
}

func decodeErr(field, format string, args ...any) error {
	return providers.Decodef(ProviderName, field, format, args...)
}
