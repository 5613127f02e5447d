// Package paper is a simulated trading platform: market orders fill at the
// current quote, moved against the trader by a slippage in basis points and
// charged a fee in basis points of the notional. Cash and positions live in
// the engine's store, so they persist between runs.
//
// A Broker owns nothing: the store and the quote source belong to the
// caller, and Close only stops further orders.
package paper

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/leakgate/leakgate/engine/store"
	"github.com/leakgate/leakgate/providers"
)

// Name is the platform's name in orders, positions and the store.
const Name = "paper"

// Quoter is where the broker reads prices.
type Quoter interface {
	Quote(ctx context.Context, symbol string) (providers.Quote, error)
}

// Options configures a Broker. Zero fields take the defaults in brackets.
type Options struct {
	// Currency is the account currency [USD]. Only instruments quoted in it
	// can be traded.
	Currency string
	// StartingCash is the balance a new account starts with [100000].
	StartingCash float64
	// FeeBps is the fee in basis points of the notional [0].
	FeeBps float64
	// SlippageBps moves the fill price against the order [0].
	SlippageBps float64
	// AllowShort lets a sell exceed the units held.
	AllowShort bool
	// Now is the clock [time.Now].
	Now func() time.Time
}

// Broker is the paper platform. It implements providers.Broker and is safe
// for concurrent use.
type Broker struct {
	st     *store.Store
	quotes Quoter
	o      Options
	closed atomic.Bool
}

var _ providers.Broker = (*Broker)(nil)

// New returns a Broker over st, pricing with quotes, and creates the
// account with its starting cash unless it exists.
func New(ctx context.Context, st *store.Store, quotes Quoter, o Options) (*Broker, error) {
	if o.Currency == "" {
		o.Currency = "USD"
	}
	if o.StartingCash == 0 {
		o.StartingCash = 100_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if !(o.StartingCash > 0) || o.FeeBps < 0 || o.SlippageBps < 0 {
		return nil, fmt.Errorf("paper: starting cash %v must be above 0, fees %v and slippage %v not negative",
			o.StartingCash, o.FeeBps, o.SlippageBps)
	}
	if err := st.EnsurePaperAccount(ctx, o.Currency, o.StartingCash); err != nil {
		return nil, fmt.Errorf("paper: %w", err)
	}
	return &Broker{st: st, quotes: quotes, o: o}, nil
}

// Name returns "paper".
func (b *Broker) Name() string { return Name }

// Currency returns the account currency.
func (b *Broker) Currency() string { return b.o.Currency }

// Close stops the broker from taking orders. It is idempotent.
func (b *Broker) Close() error {
	b.closed.Store(true)
	return nil
}

// Holding is an open paper position valued at the current quote.
type Holding struct {
	store.Position
	// Price is the quote the position is valued at.
	Price        float64 `json:"price"`
	MarketValue  float64 `json:"market_value"`
	UnrealizedPL float64 `json:"unrealized_pl"`
}

// Holdings returns the open positions valued at current quotes.
func (b *Broker) Holdings(ctx context.Context) ([]Holding, error) {
	ps, err := b.st.Positions(ctx, Name)
	if err != nil {
		return nil, fmt.Errorf("paper: %w", err)
	}
	out := make([]Holding, 0, len(ps))
	for _, p := range ps {
		q, err := b.quote(ctx, p.Symbol)
		if err != nil {
			return nil, err
		}
		out = append(out, Holding{Position: p, Price: q.Price, MarketValue: p.Quantity * q.Price,
			UnrealizedPL: p.Quantity * (q.Price - p.AvgPrice)})
	}
	return out, nil
}

// Account returns cash, holdings and net asset value (cash plus holdings at
// current quotes).
func (b *Broker) Account(ctx context.Context) (providers.Account, error) {
	if b.closed.Load() {
		return providers.Account{}, fmt.Errorf("paper: account: %w", providers.ErrClosed)
	}
	cash, err := b.st.PaperBalances(ctx)
	if err != nil {
		return providers.Account{}, fmt.Errorf("paper: %w", err)
	}
	hs, err := b.Holdings(ctx)
	if err != nil {
		return providers.Account{}, err
	}
	a := providers.Account{ID: Name, Currency: b.o.Currency, Balance: cash[b.o.Currency], Provider: Name}
	a.NAV = a.Balance
	a.Balances = append(a.Balances, providers.Balance{Currency: b.o.Currency, Total: a.Balance, Available: a.Balance})
	for _, h := range hs {
		a.NAV += h.MarketValue
		a.UnrealizedPL += h.UnrealizedPL
		base := h.Symbol
		if bs, _, ok := providers.SplitPair(h.Symbol); ok {
			base = bs
		}
		a.Balances = append(a.Balances, providers.Balance{Currency: base, Total: h.Quantity, Available: h.Quantity})
	}
	return a, nil
}

func (b *Broker) quote(ctx context.Context, symbol string) (providers.Quote, error) {
	q, err := b.quotes.Quote(ctx, symbol)
	if err != nil {
		return q, fmt.Errorf("paper: quote %s: %w", symbol, err)
	}
	if math.IsNaN(q.Price) || math.IsInf(q.Price, 0) || q.Price <= 0 {
		return q, fmt.Errorf("paper: quote %s: price %v from %s is not a positive number; refusing to trade on it",
			symbol, q.Price, q.Provider)
	}
	return q, nil
}

// Meta is what the engine records with a position opened by an order: the
// decision behind it and its exits.
type Meta struct {
	// DecisionID opened the position; StopLoss and TakeProfit are its
	// exits.
	DecisionID           string
	StopLoss, TakeProfit float64
}

// PlaceOrder fills a market order at the quote (ask for buys, bid for
// sells when the provider reports them), moved by the slippage, and
// charges the fee. A limit order fills at its limit when the quote is at
// least as good, and is rejected otherwise. Orders the account cannot pay
// for (or, without AllowShort, sells of units not held) come back
// REJECTED with the reason; only failures to price or record are errors.
func (b *Broker) PlaceOrder(ctx context.Context, req providers.OrderRequest) (providers.Order, error) {
	return b.PlaceOrderWithMeta(ctx, req, Meta{})
}

// PlaceOrderWithMeta is PlaceOrder recording m with the position.
func (b *Broker) PlaceOrderWithMeta(ctx context.Context, req providers.OrderRequest, m Meta) (providers.Order, error) {
	if b.closed.Load() {
		return providers.Order{}, fmt.Errorf("paper: place order: %w", providers.ErrClosed)
	}
	sym, class, err := providers.NormalizeSymbol(req.Symbol)
	if err != nil {
		return providers.Order{}, fmt.Errorf("paper: %w", err)
	}
	if req.Side != providers.Buy && req.Side != providers.Sell {
		return providers.Order{}, fmt.Errorf("paper: order side %q: use BUY or SELL", req.Side)
	}
	if !(req.Quantity > 0) || math.IsInf(req.Quantity, 0) {
		return providers.Order{}, fmt.Errorf("paper: order quantity %v must be a positive number", req.Quantity)
	}
	typ := req.Type
	if typ == "" {
		typ = providers.Market
	}
	now := b.o.Now().UTC()
	order := providers.Order{
		ID: "paper-" + store.NewID(), ClientOrderID: req.ClientOrderID, Symbol: sym, Side: req.Side, Type: typ,
		Quantity: req.Quantity, Created: now, Provider: Name,
	}
	reject := func(reason string) (providers.Order, error) {
		order.Status, order.Reason = providers.OrderRejected, reason
		return order, nil
	}
	if _, quoteCcy, ok := providers.SplitPair(sym); ok && quoteCcy != b.o.Currency {
		return reject(fmt.Sprintf("%s is quoted in %s; the paper account settles in %s", sym, quoteCcy, b.o.Currency))
	}
	q, err := b.quote(ctx, sym)
	if err != nil {
		return providers.Order{}, err
	}
	ref := q.Price
	if req.Side == providers.Buy && q.Ask > 0 {
		ref = q.Ask
	}
	if req.Side == providers.Sell && q.Bid > 0 {
		ref = q.Bid
	}
	slip := b.o.SlippageBps / 10_000
	price := ref * (1 + slip)
	if req.Side == providers.Sell {
		price = ref * (1 - slip)
	}
	switch typ {
	case providers.Market:
	case providers.Limit:
		if !(req.LimitPrice > 0) {
			return providers.Order{}, fmt.Errorf("paper: limit order without a positive limit price")
		}
		if req.Side == providers.Buy && price > req.LimitPrice || req.Side == providers.Sell && price < req.LimitPrice {
			return reject(fmt.Sprintf("limit %.6g is not marketable at %.6g; paper trading fills limit orders only when marketable", req.LimitPrice, price))
		}
		price = req.LimitPrice
	default:
		return providers.Order{}, fmt.Errorf("paper: order type %q: use MARKET or LIMIT", typ)
	}
	fee := req.Quantity * price * b.o.FeeBps / 10_000
	err = b.st.ApplyPaperTrade(ctx, store.PaperTrade{
		Change: store.PositionChange{Platform: Name, Symbol: sym, Class: class, Side: req.Side, Quantity: req.Quantity,
			Price: price, DecisionID: m.DecisionID, StopLoss: m.StopLoss, TakeProfit: m.TakeProfit, Time: now},
		Currency: b.o.Currency, Fee: fee, AllowShort: b.o.AllowShort,
	})
	if errors.Is(err, store.ErrInsufficient) {
		return reject(err.Error())
	}
	if err != nil {
		return providers.Order{}, fmt.Errorf("paper: %w", err)
	}
	order.Status, order.FilledQuantity, order.AvgPrice, order.Fees = providers.OrderFilled, req.Quantity, price, fee
	return order, nil
}
