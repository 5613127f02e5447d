package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/leakgate/leakgate/engine/paper"
	"github.com/leakgate/leakgate/engine/store"
	"github.com/leakgate/leakgate/engine/strategy"
	"github.com/leakgate/leakgate/providers"
)

// Execution is the result of Execute.
type Execution struct {
	// Decision is the executed decision; Order the platform's answer.
	Decision store.Decision `json:"decision"`
	Order    store.Order    `json:"order"`
	// Position is the position after the order (zero quantity when flat).
	Position store.Position `json:"position"`
	// Closed lists the trades the order closed; they fed the weights.
	Closed []store.Memory `json:"closed,omitempty"`
	// Weights are the ensemble weights after the update, when trades
	// closed.
	Weights map[string]float64 `json:"weights,omitempty"`
}

// lookupDecision loads a decision by the id a user typed.
func (e *Engine) lookupDecision(ctx context.Context, id string) (store.Decision, error) {
	if !store.ValidID(id) {
		return store.Decision{}, Usagef("%q is not a decision id: ids are 12 letters and digits as printed by analyze; list them with ffe history", id)
	}
	d, err := e.st.Decision(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return d, Usagef("unknown decision id %q: list decisions with ffe history", id)
	}
	return d, err
}

// startOfDay is 00:00 UTC of t's day.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// checkRisk refuses an order that would put more than max_position_share
// of equity into one position, or that adds risk after the day's realised
// losses reached max_daily_loss of equity.
func (e *Engine) checkRisk(ctx context.Context, d store.Decision, side providers.Side, pos store.Position, price, equity float64) error {
	if !(equity > 0) {
		return fmt.Errorf("%w: account equity is %.2f; nothing can be bought", ErrRiskLimit, equity)
	}
	signed := d.Quantity
	if side == providers.Sell {
		signed = -signed
	}
	after := pos.Quantity + signed
	if math.Abs(after) < quantityEps || math.Abs(after) <= math.Abs(pos.Quantity)+quantityEps && math.Signbit(after) == math.Signbit(pos.Quantity) {
		return nil // reduces or closes: always allowed
	}
	r := e.cfg.Risk
	if share := math.Abs(after) * price / equity; share > r.MaxPositionShare+1e-9 {
		return fmt.Errorf("%w: %s %.6g %s would make the position %.1f%% of equity (%.2f), above risk.max_position_share %.1f%%; "+
			"lower the size or raise the limit", ErrRiskLimit, side, d.Quantity, d.Symbol, 100*share, equity, 100*r.MaxPositionShare)
	}
	pnl, err := e.st.RealizedPnL(ctx, e.platform(), startOfDay(e.now()))
	if err != nil {
		return err
	}
	if limit := r.MaxDailyLoss * equity; -pnl >= limit {
		return fmt.Errorf("%w: realised losses today are %.2f, at or above risk.max_daily_loss %.1f%% of equity (%.2f); "+
			"no new risk until tomorrow (UTC)", ErrRiskLimit, -pnl, 100*r.MaxDailyLoss, limit)
	}
	return nil
}

const quantityEps = 1e-9

// Execute places the order of decision id on the platform: paper fills at
// the quote with fees and slippage, real platforms get a market order. It
// refuses a decision executed before (ErrAlreadyExecuted), a HOLD, and an
// order that breaks a risk limit (ErrRiskLimit). A trade the order closes
// is added to the memory and updates the ensemble weights.
func (e *Engine) Execute(ctx context.Context, id string) (*Execution, error) {
	e.execMu.Lock()
	defer e.execMu.Unlock()
	d, side, err := e.executable(ctx, id)
	if err != nil {
		return nil, err
	}
	before, err := e.checkOrder(ctx, d, side)
	if err != nil {
		return nil, err
	}
	o, err := e.placeOrder(ctx, d, side)
	if err != nil {
		return nil, err
	}
	return e.recordExecution(ctx, d, side, before, o)
}

// executable loads decision id and returns it with the side of its order,
// or an error when it was executed before or has no order to place.
func (e *Engine) executable(ctx context.Context, id string) (store.Decision, providers.Side, error) {
	d, err := e.lookupDecision(ctx, id)
	if err != nil {
		return d, "", err
	}
	if d.Executed {
		o, oerr := e.st.OrderForDecision(ctx, d.ID)
		if oerr == nil {
			return d, "", fmt.Errorf("decision %s: %w as order %s (%s); analyze again for a new decision", d.ID, ErrAlreadyExecuted, o.ID, o.Status)
		}
		return d, "", fmt.Errorf("decision %s: %w; analyze again for a new decision", d.ID, ErrAlreadyExecuted)
	}
	side, ok := strategy.Action(d.Action).Side()
	if !ok || !(d.Quantity > 0) {
		return d, "", fmt.Errorf("decision %s is %s with quantity %.6g: there is no order to place", d.ID, d.Action, d.Quantity)
	}
	return d, side, nil
}

// checkOrder prices the order of d against the account and the risk
// limits (see checkRisk). It returns the position held before the order.
func (e *Engine) checkOrder(ctx context.Context, d store.Decision, side providers.Side) (store.Position, error) {
	q, err := e.quote(ctx, d.Symbol, d.Class)
	if err != nil {
		return store.Position{}, err
	}
	acct, err := e.broker.Account(ctx)
	if err != nil {
		return store.Position{}, fmt.Errorf("account of %s: %w", e.platform(), err)
	}
	equity, err := e.equity(ctx, acct)
	if err != nil {
		return store.Position{}, err
	}
	before, _, err := e.st.Position(ctx, e.platform(), d.Symbol)
	if err != nil {
		return store.Position{}, err
	}
	if err := e.checkRisk(ctx, d, side, before, q.Price, equity); err != nil {
		return store.Position{}, err
	}
	return before, nil
}

// placeOrder claims decision d and places its market order. When the
// order fails for sure the claim is released, so d may be executed again.
func (e *Engine) placeOrder(ctx context.Context, d store.Decision, side providers.Side) (providers.Order, error) {
	if err := e.st.ClaimDecision(ctx, d.ID); err != nil {
		if errors.Is(err, store.ErrAlreadyExecuted) {
			return providers.Order{}, fmt.Errorf("decision %s: %w", d.ID, ErrAlreadyExecuted)
		}
		return providers.Order{}, err
	}
	req := providers.OrderRequest{Symbol: d.Symbol, Side: side, Type: providers.Market, Quantity: d.Quantity, ClientOrderID: d.ID}
	var o providers.Order
	var err error
	pb, isPaper := e.broker.(*paper.Broker)
	if isPaper {
		o, err = pb.PlaceOrderWithMeta(ctx, req, paper.Meta{DecisionID: d.ID, StopLoss: d.StopLoss, TakeProfit: d.TakeProfit})
	} else {
		o, err = e.broker.PlaceOrder(ctx, req)
	}
	if err == nil && o.Status == providers.OrderRejected {
		err = fmt.Errorf("%w by %s: %s", ErrRejected, e.platform(), o.Reason)
	}
	if err != nil {
		// A paper order failed atomically, and a real one that got an answer
		// was not placed: the decision may be executed again. Without an
		// answer (canceled, timed out) a real order may exist, so the
		// decision stays claimed.
		if isPaper || ctx.Err() == nil {
			err = errors.Join(err, e.st.ReleaseDecision(context.WithoutCancel(ctx), d.ID))
		}
		return providers.Order{}, fmt.Errorf("execute %s: %w", d.ID, err)
	}
	return o, nil
}

// recordExecution stores order o of decision d, its fill, the position
// change (the paper broker records its own) and the trade it closed with
// the ensemble weights that trade updated; before is the position the
// order started from. It returns what Execute reports.
func (e *Engine) recordExecution(ctx context.Context, d store.Decision, side providers.Side, before store.Position, o providers.Order) (*Execution, error) {
	_, isPaper := e.broker.(*paper.Broker)
	ex := &Execution{Decision: d}
	ex.Decision.Executed = true
	filled := o.FilledQuantity
	rec := store.Execution{Order: store.Order{
		ID: o.ID, DecisionID: d.ID, Platform: e.platform(), Symbol: d.Symbol, Side: string(side), Type: string(providers.Market),
		Status: string(o.Status), Quantity: o.Quantity, FilledQuantity: filled, AvgPrice: o.AvgPrice, Fees: o.Fees,
		Reason: o.Reason, CreatedAt: e.now().UTC(),
	}}
	if filled > 0 && o.AvgPrice > 0 {
		rec.Fills = []store.Fill{{Symbol: d.Symbol, Side: string(side), Quantity: filled, Price: o.AvgPrice, Fee: o.Fees}}
		if !isPaper {
			rec.Position = &store.PositionChange{Platform: e.platform(), Symbol: d.Symbol, Class: d.Class, Side: side,
				Quantity: filled, Price: o.AvgPrice, DecisionID: d.ID, StopLoss: d.StopLoss, TakeProfit: d.TakeProfit,
				Time: e.now().UTC()}
		}
		if m, ok, err := e.closedTrade(ctx, d, before, side, filled, o); err != nil {
			return nil, err
		} else if ok {
			rec.Closed = []store.Memory{m}
			w, err := e.learn(ctx, rec.Closed)
			if err != nil {
				return nil, err
			}
			rec.Weights, ex.Weights = w, w
		}
	}
	if err := e.st.RecordExecution(context.WithoutCancel(ctx), rec); err != nil {
		return nil, err
	}
	ex.Order, ex.Closed = rec.Order, rec.Closed
	after, _, err := e.st.Position(context.WithoutCancel(ctx), e.platform(), d.Symbol)
	if err != nil {
		return nil, err
	}
	ex.Position = after
	return ex, nil
}

// closedTrade returns the memory entry of the part of pos that a fill of
// qty on side closes, if any.
func (e *Engine) closedTrade(ctx context.Context, d store.Decision, pos store.Position, side providers.Side, qty float64, o providers.Order) (store.Memory, bool, error) {
	long := pos.Quantity > quantityEps
	short := pos.Quantity < -quantityEps
	if !(long && side == providers.Sell || short && side == providers.Buy) {
		return store.Memory{}, false, nil
	}
	closed := math.Min(qty, math.Abs(pos.Quantity))
	dir, direction := 1.0, "LONG"
	if short {
		dir, direction = -1, "SHORT"
	}
	fees := o.Fees * closed / qty
	m := store.Memory{
		Platform: e.platform(), Symbol: d.Symbol, Direction: direction, Quantity: closed,
		EntryPrice: pos.AvgPrice, ExitPrice: o.AvgPrice, Fees: fees,
		PnL:             dir*(o.AvgPrice-pos.AvgPrice)*closed - fees,
		EntryDecisionID: pos.DecisionID, ExitDecisionID: d.ID, OpenedAt: pos.OpenedAt, ClosedAt: e.now().UTC(),
	}
	if notional := pos.AvgPrice * closed; notional > 0 {
		m.Return = m.PnL / notional
	}
	if pos.DecisionID != "" {
		entry, err := e.st.Decision(ctx, pos.DecisionID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return m, false, err
		}
		m.Votes = entry.Votes
	}
	return m, true, nil
}

// learn returns the ensemble weights updated with closed trades: each
// strategy that voted when the trade was opened is rewarded by how its
// vote matched the price move.
func (e *Engine) learn(ctx context.Context, closed []store.Memory) (map[string]float64, error) {
	w, err := e.st.Weights(ctx)
	if err != nil {
		return nil, err
	}
	var outs []strategy.Outcome
	for _, m := range closed {
		if !(m.EntryPrice > 0) {
			continue
		}
		move := m.ExitPrice/m.EntryPrice - 1
		for _, v := range m.Votes {
			if v.Abstain {
				continue
			}
			outs = append(outs, strategy.Outcome{Strategy: v.Strategy, Signal: v.Signal, Move: move})
		}
	}
	for _, s := range strategy.DefaultStrategies() {
		if _, ok := w[s.Name()]; !ok {
			w[s.Name()] = strategy.DefaultWeight
		}
	}
	return strategy.UpdateWeights(w, outs, strategy.DefaultLearnParams())
}

// equity returns the account value positions are sized against: the
// platform's NAV, or when it reports none (Coinbase), its balances valued
// at current quotes in the account currency. Balances that cannot be
// valued are left out, with a warning.
func (e *Engine) equity(ctx context.Context, a providers.Account) (float64, error) {
	if a.NAV > 0 {
		return a.NAV, nil
	}
	ccy := a.Currency
	if ccy == "" {
		ccy = e.cfg.Platform.Currency
	}
	var total float64
	for _, b := range a.Balances {
		if b.Total == 0 {
			continue
		}
		if b.Currency == ccy {
			total += b.Total
			continue
		}
		sym, _, err := providers.NormalizeSymbol(b.Currency + "-" + ccy)
		if err == nil {
			var q providers.Quote
			if q, err = e.md.Quote(ctx, sym); err == nil {
				err = checkQuote(q)
			}
			if err == nil {
				total += b.Total * q.Price
				continue
			}
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		e.log.Warn("balance left out of equity: no price", "currency", b.Currency, "err", err)
	}
	if !(total > 0) {
		return 0, fmt.Errorf("the %s account holds nothing of value (NAV %.2f %s): fund it, or use platform.name: paper", e.platform(), total, ccy)
	}
	return total, nil
}

// Balance is the state of the trading account.
type Balance struct {
	// Platform names the platform; Account is its own report.
	Platform string            `json:"platform"`
	Account  providers.Account `json:"account"`
	// Positions are the open positions the engine tracks, valued at current
	// quotes.
	Positions []paper.Holding `json:"positions"`
	// RealizedToday is the PnL of trades closed today (UTC).
	RealizedToday float64 `json:"realized_today"`
}

// Balance returns balances and positions of the trading platform.
func (e *Engine) Balance(ctx context.Context) (*Balance, error) {
	acct, err := e.broker.Account(ctx)
	if err != nil {
		return nil, fmt.Errorf("account of %s: %w", e.platform(), err)
	}
	b := &Balance{Platform: e.platform(), Account: acct, Positions: []paper.Holding{}}
	if acct.NAV == 0 {
		if nav, err := e.equity(ctx, acct); err == nil {
			b.Account.NAV = nav
		} else if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if pb, ok := e.broker.(*paper.Broker); ok {
		if b.Positions, err = pb.Holdings(ctx); err != nil {
			return nil, err
		}
	} else {
		ps, err := e.st.Positions(ctx, e.platform())
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			h := paper.Holding{Position: p, Price: p.AvgPrice}
			if q, err := e.md.Quote(ctx, p.Symbol); err == nil && checkQuote(q) == nil {
				h.Price = q.Price
			} else if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			h.MarketValue, h.UnrealizedPL = p.Quantity*h.Price, p.Quantity*(h.Price-p.AvgPrice)
			b.Positions = append(b.Positions, h)
		}
	}
	if b.RealizedToday, err = e.st.RealizedPnL(ctx, e.platform(), startOfDay(e.now())); err != nil {
		return nil, err
	}
	return b, nil
}
