package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/leakinject"
)

// Vote is one strategy's vote as stored with a decision and with a closed
// trade.
type Vote struct {
	// Strategy names the strategy.
	Strategy string `json:"strategy"`
	// Signal is its vote in [-1, 1]: positive long, negative short.
	Signal float64 `json:"signal"`
	// Weight is its ensemble weight when it voted.
	Weight float64 `json:"weight"`
	// Abstain is set when it had no opinion.
	Abstain bool `json:"abstain,omitempty"`
	// Reasons explain the vote.
	Reasons []string `json:"reasons,omitempty"`
}

// Decision is a stored trading decision.
type Decision struct {
	// ID is assigned by InsertDecision when empty.
	ID string `json:"id"`
	// Symbol is the normalised symbol, Class its asset class.
	Symbol string               `json:"symbol"`
	Class  providers.AssetClass `json:"asset_class"`
	// Action is BUY, SELL or HOLD.
	Action string `json:"action"`
	// Confidence is |Score|, in [0, 1]; Score is the ensemble score in
	// [-1, 1].
	Confidence float64 `json:"confidence"`
	Score      float64 `json:"score"`
	// Quantity is the order size in units (0 for HOLD).
	Quantity float64 `json:"quantity"`
	// Price is the last close the decision was made at; ATR the average
	// true range there.
	Price float64 `json:"price"`
	ATR   float64 `json:"atr"`
	// StopLoss and TakeProfit are the exit prices of the position the
	// decision leads to; 0 when it leads to none.
	StopLoss   float64 `json:"stop_loss"`
	TakeProfit float64 `json:"take_profit"`
	// Reasons explain the decision; Votes are the strategies' votes.
	Reasons []string `json:"reasons"`
	Votes   []Vote   `json:"votes"`
	// BarTime is the time of the last bar the decision saw.
	BarTime time.Time `json:"bar_time"`
	// CreatedAt is set by InsertDecision when zero.
	CreatedAt time.Time `json:"created_at"`
	// Executed is set once an execution of the decision began.
	Executed bool `json:"executed"`
}

// InsertDecision stores d, assigning d.ID (a NewID) and d.CreatedAt when
// they are empty.
func (s *Store) InsertDecision(ctx context.Context, d *Decision) error {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = s.now().UTC()
	}
	reasons, err := json.Marshal(nonNil(d.Reasons))
	if err != nil {
		return fmt.Errorf("store: decision reasons: %w", err)
	}
	votes, err := json.Marshal(nonNil(d.Votes))
	if err != nil {
		return fmt.Errorf("store: decision votes: %w", err)
	}
	assign := d.ID == ""
	for attempt := 0; ; attempt++ {
		if assign {
			d.ID = NewID()
		}
		_, err = s.db.ExecContext(ctx, `INSERT INTO decisions (id, symbol, asset_class, action, confidence, score,
			quantity, price, atr, stop_loss, take_profit, reasons, votes, bar_time, created_at, executed)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.Symbol, string(d.Class), d.Action, d.Confidence, d.Score, d.Quantity, d.Price, d.ATR,
			d.StopLoss, d.TakeProfit, string(reasons), string(votes), ms2(d.BarTime), ms2(d.CreatedAt), d.Executed)
		if err == nil {
			return nil
		}
		if !assign || attempt >= 3 || !strings.Contains(err.Error(), "UNIQUE") {
			return fmt.Errorf("store: insert decision: %w", err)
		}
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

const decisionCols = `id, symbol, asset_class, action, confidence, score, quantity, price, atr,
	stop_loss, take_profit, reasons, votes, bar_time, created_at, executed`

func scanDecision(sc interface{ Scan(...any) error }) (Decision, error) {
	var d Decision
	var class, reasons, votes string
	var bar, created int64
	err := sc.Scan(&d.ID, &d.Symbol, &class, &d.Action, &d.Confidence, &d.Score, &d.Quantity, &d.Price, &d.ATR,
		&d.StopLoss, &d.TakeProfit, &reasons, &votes, &bar, &created, &d.Executed)
	if err != nil {
		return d, err
	}
	d.Class = providers.AssetClass(class)
	d.BarTime, d.CreatedAt = fromMS(bar), fromMS(created)
	if err := json.Unmarshal([]byte(reasons), &d.Reasons); err != nil {
		return d, fmt.Errorf("decision %s reasons: %w", d.ID, err)
	}
	if err := json.Unmarshal([]byte(votes), &d.Votes); err != nil {
		return d, fmt.Errorf("decision %s votes: %w", d.ID, err)
	}
	return d, nil
}

// Decision returns the decision with id, or an error matching ErrNotFound.
func (s *Store) Decision(ctx context.Context, id string) (Decision, error) {
	row := s.db.QueryRowContext(ctx, "SELECT "+decisionCols+" FROM decisions WHERE id = ?", id)
	d, err := scanDecision(row)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("decision %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("store: decision %s: %w", id, err)
	}
	return d, nil
}

// DecisionFilter selects decisions. Zero fields do not filter.
type DecisionFilter struct {
	// Symbol keeps decisions about this normalised symbol.
	Symbol string
	// Action keeps BUY, SELL or HOLD decisions.
	Action string
	// Since keeps decisions created at or after it.
	Since time.Time
	// Limit caps the result; 0 means 50.
	Limit int
}

// Decisions returns the decisions matching f, newest first.
func (s *Store) Decisions(ctx context.Context, f DecisionFilter) ([]Decision, error) {
	var where []string
	var args []any
	if f.Symbol != "" {
		where, args = append(where, "symbol = ?"), append(args, f.Symbol)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, ms2(f.Since))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	q := "SELECT " + decisionCols + " FROM decisions"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: decisions: %w", err)
	}
	if leakinject.On(leakinject.DBRowsNotClosed) {
		// The leak: the rows are read up to the limit and never closed, so
		// the result set stays open and holds its connection, and the
		// connection its database files, after the store is closed.
		var out []Decision
		for len(out) < limit && rows.Next() {
			d, err := scanDecision(rows)
			if err != nil {
				return nil, fmt.Errorf("store: decisions: %w", err)
			}
			out = append(out, d)
		}
		return out, nil
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		d, err := scanDecision(rows)
		if err != nil {
			return nil, fmt.Errorf("store: decisions: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: decisions: %w", err)
	}
	return out, nil
}

// ClaimDecision marks decision id as being executed. It fails with
// ErrAlreadyExecuted when it was claimed before and with ErrNotFound when
// there is no such decision; only one of several concurrent claims
// succeeds.
func (s *Store) ClaimDecision(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, "UPDATE decisions SET executed = 1 WHERE id = ? AND executed = 0", id)
	if err != nil {
		return fmt.Errorf("store: claim decision %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: claim decision %s: %w", id, err)
	} else if n == 1 {
		return nil
	}
	if _, err := s.Decision(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("decision %s: %w", id, ErrAlreadyExecuted)
}

// ReleaseDecision undoes ClaimDecision for a decision whose order was not
// placed, so it can be executed again.
func (s *Store) ReleaseDecision(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE decisions SET executed = 0 WHERE id = ?
		AND NOT EXISTS (SELECT 1 FROM orders WHERE decision_id = ?)`, id, id)
	if err != nil {
		return fmt.Errorf("store: release decision %s: %w", id, err)
	}
	return nil
}
