package oanda

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/wire"
)

// Account returns the account's balance, NAV, unrealised P/L and margin from
// GET /v3/accounts/{accountID}/summary.
func (c *Client) Account(ctx context.Context) (providers.Account, error) {
	path, err := c.accountPath("account", "/summary")
	if err != nil {
		return providers.Account{}, err
	}
	body, err := c.do(ctx, providers.Request{Path: path, Op: "account"})
	if err != nil {
		return providers.Account{}, err
	}
	return ParseAccountSummary(body)
}

// orderRequest is the body of POST /v3/accounts/{accountID}/orders.
type orderRequest struct {
	Order orderSpec `json:"order"`
}

type orderSpec struct {
	Type             string           `json:"type"`
	Instrument       string           `json:"instrument"`
	Units            string           `json:"units"`
	Price            string           `json:"price,omitempty"`
	TimeInForce      string           `json:"timeInForce"`
	PositionFill     string           `json:"positionFill"`
	ClientExtensions clientExtensions `json:"clientExtensions"`
}

type clientExtensions struct {
	ID string `json:"id"`
}

// orderBody validates req and builds the order body for instrument inst.
func orderBody(inst, clientOrderID string, req providers.OrderRequest) ([]byte, error) {
	if req.Side != providers.Buy && req.Side != providers.Sell {
		return nil, fmt.Errorf("oanda: place order: side %q: want BUY or SELL: %w", req.Side, ErrInvalidOrder)
	}
	if !(req.Quantity > 0) || math.IsInf(req.Quantity, 0) {
		return nil, fmt.Errorf("oanda: place order: quantity %v: want a positive number of units: %w", req.Quantity, ErrInvalidOrder)
	}
	units := req.Quantity
	if req.Side == providers.Sell {
		units = -units
	}
	spec := orderSpec{
		Instrument:       inst,
		Units:            strconv.FormatFloat(units, 'f', -1, 64),
		PositionFill:     "DEFAULT",
		ClientExtensions: clientExtensions{ID: clientOrderID},
	}
	switch req.Type {
	case providers.Market, "":
		spec.Type, spec.TimeInForce = "MARKET", "FOK"
	case providers.Limit:
		if !(req.LimitPrice > 0) || math.IsInf(req.LimitPrice, 0) {
			return nil, fmt.Errorf("oanda: place order: limit price %v: want a positive price: %w", req.LimitPrice, ErrInvalidOrder)
		}
		spec.Type, spec.TimeInForce = "LIMIT", "GTC"
		spec.Price = strconv.FormatFloat(req.LimitPrice, 'f', -1, 64)
	default:
		return nil, fmt.Errorf("oanda: place order: type %q: want MARKET or LIMIT: %w", req.Type, ErrInvalidOrder)
	}
	return json.Marshal(orderRequest{Order: spec})
}

// PlaceOrder places a market order (fill or kill) or a good-till-cancelled
// limit order for req.Quantity units (negative units for a sell) with
// POST /v3/accounts/{accountID}/orders. req.ClientOrderID is sent as the
// order's client extension id (OANDA refuses a repeated one); when empty a
// random UUID is used.
//
// The answer decides the result: a fill gives a FILLED order, a cancel (for
// example MARKET_HALTED) a CANCELLED order with the reason and no error, a
// resting limit order a PENDING one. A refused order (HTTP 400 with an
// orderRejectTransaction) gives an order with status REJECTED and its
// reject reason, and an *APIError.
func (c *Client) PlaceOrder(ctx context.Context, req providers.OrderRequest) (providers.Order, error) {
	inst, err := instrument(req.Symbol)
	if err != nil {
		return providers.Order{}, err
	}
	path, err := c.accountPath("place order", "/orders")
	if err != nil {
		return providers.Order{}, err
	}
	coid := req.ClientOrderID
	if coid == "" {
		coid = wire.NewClientOrderID()
	}
	body, err := orderBody(inst, coid, req)
	if err != nil {
		return providers.Order{}, err
	}
	op := fmt.Sprintf("place order %s %s %s", req.Side, strconv.FormatFloat(req.Quantity, 'f', -1, 64), inst)
	body, err = c.do(ctx, providers.Request{Method: http.MethodPost, Path: path, Body: body, Op: op})
	asked := providers.Order{
		ClientOrderID: coid, Symbol: instrumentSymbol(inst), Side: req.Side, Type: cmp.Or(req.Type, providers.Market),
		Quantity: req.Quantity, Provider: ProviderName,
	}
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.RejectReason != "" {
			asked.Status, asked.Reason = providers.OrderRejected, ae.RejectReason
			return asked, err
		}
		return providers.Order{}, err
	}
	o, err := ParseOrderCreate(body)
	if err != nil {
		return providers.Order{}, err
	}
	o.ClientOrderID = cmp.Or(o.ClientOrderID, coid)
	o.Symbol = cmp.Or(o.Symbol, asked.Symbol)
	if o.Status == providers.OrderRejected {
		return o, fmt.Errorf("oanda: %s: order rejected: %s: %w", op, o.Reason, providers.ErrUpstream)
	}
	return o, nil
}
