package providers

import (
	"fmt"
	"strings"
	"time"
)

// AssetClass is the kind of instrument a symbol names. Routing in the
// unified provider and risk rules in the engine are per asset class.
type AssetClass string

// The asset classes every provider maps its instruments to.
const (
	Equity AssetClass = "equity"
	Crypto AssetClass = "crypto"
	Forex  AssetClass = "forex"
)

// Valid reports whether c is one of the known asset classes.
func (c AssetClass) Valid() bool {
	switch c {
	case Equity, Crypto, Forex:
		return true
	}
	return false
}

// Interval is the width of one bar.
type Interval string

// Supported bar intervals.
const (
	Minute Interval = "1m"
	Hour   Interval = "1h"
	Day    Interval = "1d"
	Week   Interval = "1w"
)

// Duration is the nominal length of one bar of this interval.
func (i Interval) Duration() time.Duration {
	switch i {
	case Minute:
		return time.Minute
	case Hour:
		return time.Hour
	case Day:
		return 24 * time.Hour
	case Week:
		return 7 * 24 * time.Hour
	}
	return 0
}

// ParseInterval parses "1m", "1h", "1d" or "1w" (also "daily", "hourly",
// "weekly", "minute").
func ParseInterval(s string) (Interval, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1m", "minute":
		return Minute, nil
	case "1h", "60m", "hourly":
		return Hour, nil
	case "", "1d", "d", "day", "daily":
		return Day, nil
	case "1w", "w", "week", "weekly":
		return Week, nil
	}
	return "", fmt.Errorf("unknown interval %q: use 1m, 1h, 1d or 1w", s)
}

// Bar is one OHLCV candle. Time is the start of the bar, in UTC.
// Volume is zero where the market has none (forex).
type Bar struct {
	Time   time.Time `json:"time"`
	Open   float64   `json:"open"`
	High   float64   `json:"high"`
	Low    float64   `json:"low"`
	Close  float64   `json:"close"`
	Volume float64   `json:"volume"`
}

// BarQuery asks for bars of one symbol. A zero From or To leaves that end
// open; the provider then returns what its default range holds.
type BarQuery struct {
	Symbol   string
	Interval Interval
	From, To time.Time
}

// Quote is the latest price of a symbol. Bid and Ask are zero when the
// provider does not report them.
type Quote struct {
	Symbol    string     `json:"symbol"`
	Class     AssetClass `json:"class"`
	Price     float64    `json:"price"`
	Bid       float64    `json:"bid,omitempty"`
	Ask       float64    `json:"ask,omitempty"`
	Open      float64    `json:"open,omitempty"`
	High      float64    `json:"high,omitempty"`
	Low       float64    `json:"low,omitempty"`
	PrevClose float64    `json:"prev_close,omitempty"`
	Volume    float64    `json:"volume,omitempty"`
	Time      time.Time  `json:"time"`
	Provider  string     `json:"provider"`
}

// Balance is the holding of one currency or asset in an account.
type Balance struct {
	Currency  string  `json:"currency"`
	Total     float64 `json:"total"`
	Available float64 `json:"available"`
	Hold      float64 `json:"hold,omitempty"`
}

// Account is the state of a trading account.
type Account struct {
	ID              string    `json:"id"`
	Currency        string    `json:"currency"`
	Balance         float64   `json:"balance"`
	NAV             float64   `json:"nav"`
	UnrealizedPL    float64   `json:"unrealized_pl"`
	MarginUsed      float64   `json:"margin_used,omitempty"`
	MarginAvailable float64   `json:"margin_available,omitempty"`
	Balances        []Balance `json:"balances,omitempty"`
	Provider        string    `json:"provider"`
}

// Side is the direction of an order.
type Side string

// Order sides.
const (
	Buy  Side = "BUY"
	Sell Side = "SELL"
)

// OrderType is how an order is priced.
type OrderType string

// Order types.
const (
	Market OrderType = "MARKET"
	Limit  OrderType = "LIMIT"
)

// OrderStatus is the lifecycle state of an order.
type OrderStatus string

// Order states. Rejected orders were refused by the venue; cancelled orders
// were accepted and then cancelled (for example because the market halted).
const (
	OrderPending   OrderStatus = "PENDING"
	OrderFilled    OrderStatus = "FILLED"
	OrderCancelled OrderStatus = "CANCELLED"
	OrderRejected  OrderStatus = "REJECTED"
)

// OrderRequest is an order to place. Quantity is in units of the base asset
// (shares, coins, currency units); it is always positive, Side gives the
// direction.
type OrderRequest struct {
	Symbol        string    `json:"symbol"`
	Side          Side      `json:"side"`
	Type          OrderType `json:"type"`
	Quantity      float64   `json:"quantity"`
	LimitPrice    float64   `json:"limit_price,omitempty"`
	ClientOrderID string    `json:"client_order_id,omitempty"`
}

// Order is an order as the venue reports it.
type Order struct {
	ID             string      `json:"id"`
	ClientOrderID  string      `json:"client_order_id,omitempty"`
	Symbol         string      `json:"symbol"`
	Side           Side        `json:"side"`
	Type           OrderType   `json:"type"`
	Status         OrderStatus `json:"status"`
	Quantity       float64     `json:"quantity"`
	FilledQuantity float64     `json:"filled_quantity"`
	AvgPrice       float64     `json:"avg_price"`
	Fees           float64     `json:"fees"`
	Reason         string      `json:"reason,omitempty"`
	Created        time.Time   `json:"created"`
	Provider       string      `json:"provider"`
}

// Post is one social-media post, as read by the sentiment scanner.
type Post struct {
	ID          string    `json:"id"`
	Subreddit   string    `json:"subreddit"`
	Title       string    `json:"title"`
	Body        string    `json:"body,omitempty"`
	Author      string    `json:"author"`
	URL         string    `json:"url,omitempty"`
	Score       int       `json:"score"`
	NumComments int       `json:"num_comments"`
	Created     time.Time `json:"created"`
}
