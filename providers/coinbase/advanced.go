package coinbase

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/wire"
)

// Advanced Trade paths.
const (
	accountsPath = "/api/v3/brokerage/accounts"
	ordersPath   = "/api/v3/brokerage/orders"
	orderPath    = "/api/v3/brokerage/orders/historical/"
	batchPath    = "/api/v3/brokerage/orders/historical/batch"
	fillsPath    = "/api/v3/brokerage/orders/historical/fills"
)

// Pagination bounds of Account: pages of AccountsPageSize accounts, at most
// MaxAccountPages of them.
const (
	AccountsPageSize = 250
	MaxAccountPages  = 20
)

// classifyTrade turns Advanced Trade error bodies ({"error","message",
// "error_details"}) and HTML pages into *providers.StatusError.
func classifyTrade(pc *providers.Client, r *providers.Response) error {
	if r.Status < 400 {
		if wire.IsHTML(r) {
			return pc.NewStatusError(r, providers.ErrUpstream, "HTML instead of JSON: "+providers.Excerpt(r.Body))
		}
		return nil
	}
	var e struct {
		Error        string `json:"error"`
		Message      string `json:"message"`
		ErrorDetails string `json:"error_details"`
	}
	if json.Unmarshal(r.Body, &e) != nil || e.Error == "" && e.Message == "" {
		return nil // the core maps the status and quotes the body
	}
	parts := make([]string, 0, 3)
	for _, p := range []string{e.Error, e.Message, e.ErrorDetails} {
		if p != "" && !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	return pc.NewStatusError(r, providers.KindForStatus(r.Status), strings.Join(parts, ": "))
}

func (c *Client) requireAuth(op string) error {
	if c.signer == nil {
		return fmt.Errorf("coinbase: %s: no API key configured (Config.KeyName and Config.PrivateKey): %w", op, providers.ErrUnauthorized)
	}
	return nil
}

// Account returns the balances of every Advanced Trade account (one per
// currency; accounts of the same currency are summed), reading all pages of
// GET /api/v3/brokerage/accounts (at most MaxAccountPages). ID is the retail
// portfolio id; Currency is USD and Balance the USD balance. NAV and P/L are
// zero: Coinbase does not report them.
func (c *Client) Account(ctx context.Context) (providers.Account, error) {
	if err := c.requireAuth("account"); err != nil {
		return providers.Account{}, err
	}
	acct := providers.Account{Currency: "USD", Provider: ProviderName}
	var all []providers.Balance
	seen := map[string]bool{}
	cursor := ""
	for page := 1; ; page++ {
		q := url.Values{"limit": {strconv.Itoa(AccountsPageSize)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		resp, err := c.trade.Do(ctx, providers.Request{Path: accountsPath, Query: q, Op: "accounts"})
		if err != nil {
			return providers.Account{}, err
		}
		p, err := ParseAccounts(resp.Body)
		if err != nil {
			return providers.Account{}, err
		}
		all = append(all, p.Balances...)
		acct.ID = cmp.Or(acct.ID, p.PortfolioID)
		if !p.HasNext {
			break
		}
		switch {
		case p.Cursor == "":
			return providers.Account{}, decodeErr("cursor", "has_next is true but the cursor is empty")
		case seen[p.Cursor]:
			return providers.Account{}, decodeErr("cursor", "cursor %q repeats", wire.Truncate(p.Cursor))
		case page == MaxAccountPages:
			return providers.Account{}, fmt.Errorf("coinbase: accounts: more than %d pages of %d accounts: %w",
				MaxAccountPages, AccountsPageSize, providers.ErrUpstream)
		}
		seen[p.Cursor] = true
		cursor = p.Cursor
	}
	acct.Balances = mergeBalances(all)
	for _, b := range acct.Balances {
		if b.Currency == acct.Currency {
			acct.Balance = b.Total
		}
	}
	return acct, nil
}

// mergeBalances sums balances of the same currency, keeping first-seen order.
func mergeBalances(bs []providers.Balance) []providers.Balance {
	out := make([]providers.Balance, 0, len(bs))
	idx := map[string]int{}
	for _, b := range bs {
		if i, ok := idx[b.Currency]; ok {
			out[i].Total += b.Total
			out[i].Available += b.Available
			out[i].Hold += b.Hold
			continue
		}
		idx[b.Currency] = len(out)
		out = append(out, b)
	}
	return out
}

// createOrderRequest is the body of POST /api/v3/brokerage/orders.
type createOrderRequest struct {
	ClientOrderID      string             `json:"client_order_id"`
	ProductID          string             `json:"product_id"`
	Side               string             `json:"side"`
	OrderConfiguration orderConfiguration `json:"order_configuration"`
}

type orderConfiguration struct {
	MarketIOC *marketIOC `json:"market_market_ioc,omitempty"`
	LimitGTC  *limitGTC  `json:"limit_limit_gtc,omitempty"`
}

type marketIOC struct {
	BaseSize string `json:"base_size"`
}

type limitGTC struct {
	BaseSize   string `json:"base_size"`
	LimitPrice string `json:"limit_price"`
	PostOnly   bool   `json:"post_only"`
}

// orderBody validates req and builds the create-order body for product sym.
func orderBody(sym, clientOrderID string, req providers.OrderRequest) ([]byte, error) {
	if req.Side != providers.Buy && req.Side != providers.Sell {
		return nil, fmt.Errorf("coinbase: place order: side %q: want BUY or SELL: %w", req.Side, ErrInvalidOrder)
	}
	if !(req.Quantity > 0) || math.IsInf(req.Quantity, 0) {
		return nil, fmt.Errorf("coinbase: place order: quantity %v: want a positive amount of the base asset: %w", req.Quantity, ErrInvalidOrder)
	}
	body := createOrderRequest{ClientOrderID: clientOrderID, ProductID: sym, Side: string(req.Side)}
	size := strconv.FormatFloat(req.Quantity, 'f', -1, 64)
	switch req.Type {
	case providers.Market, "":
		body.OrderConfiguration.MarketIOC = &marketIOC{BaseSize: size}
	case providers.Limit:
		if !(req.LimitPrice > 0) || math.IsInf(req.LimitPrice, 0) {
			return nil, fmt.Errorf("coinbase: place order: limit price %v: want a positive price: %w", req.LimitPrice, ErrInvalidOrder)
		}
		body.OrderConfiguration.LimitGTC = &limitGTC{BaseSize: size, LimitPrice: strconv.FormatFloat(req.LimitPrice, 'f', -1, 64)}
	default:
		return nil, fmt.Errorf("coinbase: place order: type %q: want MARKET or LIMIT: %w", req.Type, ErrInvalidOrder)
	}
	return json.Marshal(body)
}

// PlaceOrder places a market (immediate-or-cancel) or good-till-cancelled
// limit order for req.Quantity of the base asset (base_size) with
// POST /api/v3/brokerage/orders, then reads the order back with GetOrder for
// its status, fills and fees.
//
// req.ClientOrderID is sent as client_order_id, which makes the request
// idempotent at Coinbase: placing again with the same id returns the
// existing order. When it is empty a random UUID is used.
//
// A refused order returns an Order with status REJECTED and its reason, and
// an *OrderError. When the order was accepted but reading it back failed, the
// Order has its id and status PENDING and the error says so.
func (c *Client) PlaceOrder(ctx context.Context, req providers.OrderRequest) (providers.Order, error) {
	if err := c.requireAuth("place order"); err != nil {
		return providers.Order{}, err
	}
	sym, err := cryptoSymbol(req.Symbol)
	if err != nil {
		return providers.Order{}, err
	}
	coid := req.ClientOrderID
	if coid == "" {
		coid = wire.NewClientOrderID()
	}
	body, err := orderBody(sym, coid, req)
	if err != nil {
		return providers.Order{}, err
	}
	op := fmt.Sprintf("place order %s %s %s", req.Side, strconv.FormatFloat(req.Quantity, 'f', -1, 64), sym)
	resp, err := c.trade.Do(ctx, providers.Request{Method: http.MethodPost, Path: ordersPath, Body: body, Op: op})
	if err != nil {
		return providers.Order{}, err
	}
	placed, err := ParseCreateOrder(resp.Body)
	var oe *OrderError
	if err != nil && !errors.As(err, &oe) {
		return providers.Order{}, err
	}
	placed.Symbol = cmp.Or(placed.Symbol, sym)
	placed.Side = cmp.Or(placed.Side, req.Side)
	placed.Type = cmp.Or(req.Type, providers.Market)
	placed.Quantity = req.Quantity
	placed.ClientOrderID = cmp.Or(placed.ClientOrderID, coid)
	if oe != nil {
		return placed, fmt.Errorf("coinbase: %s: %w", op, err)
	}
	got, err := c.GetOrder(ctx, placed.ID)
	if err != nil {
		return placed, fmt.Errorf("coinbase: order %s was placed, but reading its status failed: %w", placed.ID, err)
	}
	return got, nil
}

// GetOrder returns one order from
// GET /api/v3/brokerage/orders/historical/{order_id}.
func (c *Client) GetOrder(ctx context.Context, orderID string) (providers.Order, error) {
	if err := c.requireAuth("get order"); err != nil {
		return providers.Order{}, err
	}
	if orderID == "" {
		return providers.Order{}, fmt.Errorf("coinbase: get order: empty order id")
	}
	resp, err := c.trade.Do(ctx, providers.Request{Path: orderPath + url.PathEscape(orderID), Op: "get order " + orderID})
	if err != nil {
		return providers.Order{}, err
	}
	return ParseOrder(resp.Body)
}

// OrdersQuery selects orders for Orders. Zero fields do not filter.
type OrdersQuery struct {
	// Symbol is a crypto pair, e.g. "BTC-USD".
	Symbol string
	// Statuses are Advanced Trade order states: OPEN, FILLED, CANCELLED,
	// EXPIRED, FAILED, …
	Statuses []string
	// Limit is the page size.
	Limit int
	// Cursor continues from a previous page.
	Cursor string
}

// Orders returns one page of orders from
// GET /api/v3/brokerage/orders/historical/batch.
func (c *Client) Orders(ctx context.Context, q OrdersQuery) (OrdersPage, error) {
	if err := c.requireAuth("orders"); err != nil {
		return OrdersPage{}, err
	}
	query := url.Values{}
	if q.Symbol != "" {
		sym, err := cryptoSymbol(q.Symbol)
		if err != nil {
			return OrdersPage{}, err
		}
		query.Set("product_ids", sym)
	}
	for _, s := range q.Statuses {
		query.Add("order_status", strings.ToUpper(s))
	}
	setPage(query, q.Limit, q.Cursor)
	resp, err := c.trade.Do(ctx, providers.Request{Path: batchPath, Query: query, Op: "orders"})
	if err != nil {
		return OrdersPage{}, err
	}
	return ParseOrders(resp.Body)
}

// FillsQuery selects fills for Fills. Zero fields do not filter.
type FillsQuery struct {
	OrderID string
	Symbol  string
	Limit   int
	Cursor  string
}

// Fills returns one page of fills from
// GET /api/v3/brokerage/orders/historical/fills.
func (c *Client) Fills(ctx context.Context, q FillsQuery) (FillsPage, error) {
	if err := c.requireAuth("fills"); err != nil {
		return FillsPage{}, err
	}
	query := url.Values{}
	if q.OrderID != "" {
		query.Set("order_ids", q.OrderID)
	}
	if q.Symbol != "" {
		sym, err := cryptoSymbol(q.Symbol)
		if err != nil {
			return FillsPage{}, err
		}
		query.Set("product_ids", sym)
	}
	setPage(query, q.Limit, q.Cursor)
	resp, err := c.trade.Do(ctx, providers.Request{Path: fillsPath, Query: query, Op: "fills"})
	if err != nil {
		return FillsPage{}, err
	}
	return ParseFills(resp.Body)
}

func setPage(q url.Values, limit int, cursor string) {
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
}
