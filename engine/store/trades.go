package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/leakgate/leakgate/providers"
)

// Order is an order as recorded after a platform answered.
type Order struct {
	// ID is the platform's order id.
	ID string `json:"id"`
	// DecisionID is the decision the order executes.
	DecisionID string `json:"decision_id,omitempty"`
	// Platform is where the order went (paper, coinbase, oanda).
	Platform string `json:"platform"`
	Symbol   string `json:"symbol"`
	// Side is BUY or SELL; Type MARKET or LIMIT; Status as the platform
	// reported it (FILLED, REJECTED, …).
	Side   string `json:"side"`
	Type   string `json:"type"`
	Status string `json:"status"`
	// Quantity was asked for; FilledQuantity filled at AvgPrice, paying
	// Fees.
	Quantity       float64 `json:"quantity"`
	FilledQuantity float64 `json:"filled_quantity"`
	AvgPrice       float64 `json:"avg_price"`
	Fees           float64 `json:"fees"`
	// Reason is the platform's explanation of a rejection.
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Fill is one execution of (part of) an order.
type Fill struct {
	// ID is assigned by the store.
	ID      int64  `json:"id"`
	OrderID string `json:"order_id"`
	Symbol  string `json:"symbol"`
	// Side is BUY or SELL; Quantity units filled at Price, paying Fee.
	Side      string    `json:"side"`
	Quantity  float64   `json:"quantity"`
	Price     float64   `json:"price"`
	Fee       float64   `json:"fee"`
	CreatedAt time.Time `json:"created_at"`
}

// Position is an open position on a platform. Quantity is signed:
// negative is short.
type Position struct {
	// Platform, Symbol and Class identify the position.
	Platform string               `json:"platform"`
	Symbol   string               `json:"symbol"`
	Class    providers.AssetClass `json:"asset_class"`
	// Quantity is signed units; AvgPrice the volume-weighted entry price.
	Quantity float64 `json:"quantity"`
	AvgPrice float64 `json:"avg_price"`
	// StopLoss and TakeProfit are the exits of the decision that opened
	// or last added to the position.
	StopLoss   float64 `json:"stop_loss,omitempty"`
	TakeProfit float64 `json:"take_profit,omitempty"`
	// DecisionID is the decision that opened the position.
	DecisionID string `json:"decision_id,omitempty"`
	// OpenedAt is when the position was opened (or flipped), UpdatedAt
	// when it last changed.
	OpenedAt  time.Time `json:"opened_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PositionChange is a fill applied to a position.
type PositionChange struct {
	// Platform, Symbol and Class identify the position.
	Platform string
	Symbol   string
	Class    providers.AssetClass
	// Side is the fill's direction.
	Side providers.Side
	// Quantity is positive; Side gives the direction. Price is the fill
	// price.
	Quantity float64
	Price    float64
	// DecisionID, StopLoss and TakeProfit are recorded when the change
	// opens or adds to a position.
	DecisionID           string
	StopLoss, TakeProfit float64
	// Time is when the fill happened.
	Time time.Time
}

// quantityEpsilon treats smaller leftovers of floating-point arithmetic as
// a flat position.
const quantityEpsilon = 1e-9

func (c PositionChange) signed() float64 {
	if c.Side == providers.Sell {
		return -c.Quantity
	}
	return c.Quantity
}

const positionCols = `platform, symbol, asset_class, quantity, avg_price, stop_loss, take_profit,
	coalesce(decision_id, ''), opened_at, updated_at`

func scanPosition(sc interface{ Scan(...any) error }) (Position, error) {
	var p Position
	var class string
	var opened, updated int64
	err := sc.Scan(&p.Platform, &p.Symbol, &class, &p.Quantity, &p.AvgPrice, &p.StopLoss, &p.TakeProfit,
		&p.DecisionID, &opened, &updated)
	p.Class = providers.AssetClass(class)
	p.OpenedAt, p.UpdatedAt = fromMS(opened), fromMS(updated)
	return p, err
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func position(ctx context.Context, q queryer, platform, symbol string) (Position, bool, error) {
	p, err := scanPosition(q.QueryRowContext(ctx, "SELECT "+positionCols+" FROM positions WHERE platform = ? AND symbol = ?",
		platform, symbol))
	if errors.Is(err, sql.ErrNoRows) {
		return Position{Platform: platform, Symbol: symbol}, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("store: position %s %s: %w", platform, symbol, err)
	}
	return p, true, nil
}

// Position returns the open position in symbol on platform, and false when
// there is none.
func (s *Store) Position(ctx context.Context, platform, symbol string) (Position, bool, error) {
	return position(ctx, s.db, platform, symbol)
}

// Positions returns the open positions on platform, by symbol.
func (s *Store) Positions(ctx context.Context, platform string) ([]Position, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+positionCols+" FROM positions WHERE platform = ? ORDER BY symbol", platform)
	if err != nil {
		return nil, fmt.Errorf("store: positions: %w", err)
	}
	defer rows.Close()
	var out []Position
	for rows.Next() {
		p, err := scanPosition(rows)
		if err != nil {
			return nil, fmt.Errorf("store: positions: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: positions: %w", err)
	}
	return out, nil
}

// applyPosition applies c inside tx: it adds to, reduces, closes or flips
// the position, keeping a volume-weighted entry price.
func applyPosition(ctx context.Context, tx *sql.Tx, c PositionChange) error {
	if !(c.Quantity > 0) || !(c.Price > 0) {
		return fmt.Errorf("store: position change for %s: quantity %v and price %v must be above 0", c.Symbol, c.Quantity, c.Price)
	}
	old, had, err := position(ctx, tx, c.Platform, c.Symbol)
	if err != nil {
		return err
	}
	now := ms2(c.Time)
	delta := c.signed()
	qty := old.Quantity + delta
	if math.Abs(qty) < quantityEpsilon {
		_, err := tx.ExecContext(ctx, "DELETE FROM positions WHERE platform = ? AND symbol = ?", c.Platform, c.Symbol)
		return err
	}
	p := old
	p.Quantity = qty
	switch {
	case !had || old.Quantity == 0 || math.Signbit(qty) != math.Signbit(old.Quantity):
		// New position, or flipped through flat: the rest opens at the fill.
		p.AvgPrice, p.DecisionID, p.StopLoss, p.TakeProfit, p.OpenedAt = c.Price, c.DecisionID, c.StopLoss, c.TakeProfit, c.Time
		if p.Class == "" || !had {
			p.Class = c.Class
		}
	case math.Signbit(delta) == math.Signbit(old.Quantity):
		// Adding: the entry price is the volume-weighted mean.
		p.AvgPrice = (math.Abs(old.Quantity)*old.AvgPrice + c.Quantity*c.Price) / math.Abs(qty)
		if c.StopLoss > 0 || c.TakeProfit > 0 {
			p.StopLoss, p.TakeProfit = c.StopLoss, c.TakeProfit
		}
	default:
		// Reducing: the entry price of what is left is unchanged.
	}
	class := p.Class
	if class == "" {
		class = c.Class
	}
	var decision any
	if p.DecisionID != "" {
		decision = p.DecisionID
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO positions (platform, symbol, asset_class, quantity, avg_price, stop_loss,
		take_profit, decision_id, opened_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform, symbol) DO UPDATE SET asset_class = excluded.asset_class, quantity = excluded.quantity,
		avg_price = excluded.avg_price, stop_loss = excluded.stop_loss, take_profit = excluded.take_profit,
		decision_id = excluded.decision_id, opened_at = excluded.opened_at, updated_at = excluded.updated_at`,
		c.Platform, c.Symbol, string(class), p.Quantity, p.AvgPrice, p.StopLoss, p.TakeProfit, decision,
		ms2(p.OpenedAt), now)
	return err
}

// EnsurePaperAccount creates the paper cash balance in currency with
// amount, unless it exists.
func (s *Store) EnsurePaperAccount(ctx context.Context, currency string, amount float64) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO paper_balances (currency, amount, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (currency) DO NOTHING`, currency, amount, ms2(s.now()))
	if err != nil {
		return fmt.Errorf("store: paper account: %w", err)
	}
	return nil
}

// PaperBalances returns the paper platform's cash per currency.
func (s *Store) PaperBalances(ctx context.Context) (map[string]float64, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT currency, amount FROM paper_balances ORDER BY currency")
	if err != nil {
		return nil, fmt.Errorf("store: paper balances: %w", err)
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var c string
		var a float64
		if err := rows.Scan(&c, &a); err != nil {
			return nil, fmt.Errorf("store: paper balances: %w", err)
		}
		out[c] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: paper balances: %w", err)
	}
	return out, nil
}

// PaperTrade is a paper fill: cash moves in Currency, the position in
// Change.
type PaperTrade struct {
	// Change is the fill, applied to the paper position.
	Change PositionChange
	// Currency is the cash currency; Fee is charged in it.
	Currency string
	Fee      float64
	// AllowShort lets a sell exceed the position held.
	AllowShort bool
}

// ApplyPaperTrade moves cash and the position of a paper fill in one
// transaction. A buy needs quantity·price + fee in cash; a sell needs the
// units held unless AllowShort. Otherwise it changes nothing and returns an
// error matching ErrInsufficient that says what is available.
func (s *Store) ApplyPaperTrade(ctx context.Context, t PaperTrade) error {
	c := t.Change
	return s.tx(ctx, func(tx *sql.Tx) error {
		var cash float64
		err := tx.QueryRowContext(ctx, "SELECT amount FROM paper_balances WHERE currency = ?", t.Currency).Scan(&cash)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("paper account has no %s balance: %w", t.Currency, ErrInsufficient)
		}
		if err != nil {
			return fmt.Errorf("store: paper balance: %w", err)
		}
		notional := c.Quantity * c.Price
		switch c.Side {
		case providers.Buy:
			if need := notional + t.Fee; need > cash+1e-9 {
				return fmt.Errorf("buying %.6g %s at %.6g needs %.2f %s with fees, the paper account holds %.2f: %w",
					c.Quantity, c.Symbol, c.Price, need, t.Currency, cash, ErrInsufficient)
			}
			cash -= notional + t.Fee
		case providers.Sell:
			if !t.AllowShort {
				p, _, err := position(ctx, tx, c.Platform, c.Symbol)
				if err != nil {
					return err
				}
				if c.Quantity > p.Quantity+quantityEpsilon {
					return fmt.Errorf("selling %.6g %s needs that many units, the paper account holds %.6g (paper trading does not short): %w",
						c.Quantity, c.Symbol, math.Max(p.Quantity, 0), ErrInsufficient)
				}
			}
			cash += notional - t.Fee
		default:
			return fmt.Errorf("store: paper trade: side %q: want BUY or SELL", c.Side)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE paper_balances SET amount = ?, updated_at = ? WHERE currency = ?",
			cash, ms2(c.Time), t.Currency); err != nil {
			return fmt.Errorf("store: paper balance: %w", err)
		}
		if err := applyPosition(ctx, tx, c); err != nil {
			return fmt.Errorf("store: paper position: %w", err)
		}
		return nil
	})
}

// Execution is everything recorded about an executed decision, in one
// transaction.
type Execution struct {
	// Order is the platform's answer, with the decision it executes.
	Order Order
	// Fills are the order's fills.
	Fills []Fill
	// Position, when set, is applied to the positions table (platforms
	// whose positions the engine tracks itself; the paper platform applies
	// its own in ApplyPaperTrade).
	Position *PositionChange
	// Closed holds the trades the order closed, for the memory.
	Closed []Memory
	// Weights, when not nil, replaces the learned strategy weights.
	Weights map[string]float64
}

// RecordExecution records the order of a claimed decision with its fills,
// position change, closed trades and new weights, atomically.
func (s *Store) RecordExecution(ctx context.Context, e Execution) error {
	o := e.Order
	if o.CreatedAt.IsZero() {
		o.CreatedAt = s.now().UTC()
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var decision any
		if o.DecisionID != "" {
			decision = o.DecisionID
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO orders (id, decision_id, platform, symbol, side, type, status,
			quantity, filled_quantity, avg_price, fees, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, decision, o.Platform, o.Symbol, o.Side, o.Type, o.Status, o.Quantity, o.FilledQuantity,
			o.AvgPrice, o.Fees, o.Reason, ms2(o.CreatedAt)); err != nil {
			return fmt.Errorf("order: %w", err)
		}
		for _, f := range e.Fills {
			if f.CreatedAt.IsZero() {
				f.CreatedAt = o.CreatedAt
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO fills (order_id, symbol, side, quantity, price, fee, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, o.ID, f.Symbol, f.Side, f.Quantity, f.Price, f.Fee, ms2(f.CreatedAt)); err != nil {
				return fmt.Errorf("fill: %w", err)
			}
		}
		if e.Position != nil {
			if err := applyPosition(ctx, tx, *e.Position); err != nil {
				return fmt.Errorf("position: %w", err)
			}
		}
		for _, m := range e.Closed {
			if _, err := insertMemory(ctx, tx, m); err != nil {
				return err
			}
		}
		if e.Weights != nil {
			if err := setWeights(ctx, tx, e.Weights, o.CreatedAt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record execution of %s: %w", o.DecisionID, err)
	}
	return nil
}

const orderCols = `id, coalesce(decision_id, ''), platform, symbol, side, type, status, quantity, filled_quantity,
	avg_price, fees, reason, created_at`

func scanOrder(sc interface{ Scan(...any) error }) (Order, error) {
	var o Order
	var created int64
	err := sc.Scan(&o.ID, &o.DecisionID, &o.Platform, &o.Symbol, &o.Side, &o.Type, &o.Status, &o.Quantity,
		&o.FilledQuantity, &o.AvgPrice, &o.Fees, &o.Reason, &created)
	o.CreatedAt = fromMS(created)
	return o, err
}

// OrderForDecision returns the order placed for a decision, or an error
// matching ErrNotFound.
func (s *Store) OrderForDecision(ctx context.Context, decisionID string) (Order, error) {
	o, err := scanOrder(s.db.QueryRowContext(ctx, "SELECT "+orderCols+" FROM orders WHERE decision_id = ?", decisionID))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("order for decision %q: %w", decisionID, ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("store: order for %s: %w", decisionID, err)
	}
	return o, nil
}

// Orders returns the newest orders, at most limit (0 means 50).
func (s *Store) Orders(ctx context.Context, limit int) ([]Order, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+orderCols+" FROM orders ORDER BY created_at DESC, rowid DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("store: orders: %w", err)
	}
	defer rows.Close()
	var out []Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("store: orders: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: orders: %w", err)
	}
	return out, nil
}

// Fills returns the fills of an order, oldest first.
func (s *Store) Fills(ctx context.Context, orderID string) ([]Fill, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, order_id, symbol, side, quantity, price, fee, created_at
		FROM fills WHERE order_id = ? ORDER BY id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("store: fills: %w", err)
	}
	defer rows.Close()
	var out []Fill
	for rows.Next() {
		var f Fill
		var created int64
		if err := rows.Scan(&f.ID, &f.OrderID, &f.Symbol, &f.Side, &f.Quantity, &f.Price, &f.Fee, &created); err != nil {
			return nil, fmt.Errorf("store: fills: %w", err)
		}
		f.CreatedAt = fromMS(created)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: fills: %w", err)
	}
	return out, nil
}
