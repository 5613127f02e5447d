package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Memory is one closed trade in the portfolio memory, with the votes of
// the decision that opened it (the per-strategy attribution the weight
// update learns from).
type Memory struct {
	// ID is assigned by the store.
	ID int64 `json:"id"`
	// Platform and Symbol say what was traded where.
	Platform string `json:"platform"`
	Symbol   string `json:"symbol"`
	// Direction is LONG or SHORT.
	Direction string `json:"direction"`
	// Quantity units were held from EntryPrice (the position's average) to
	// ExitPrice (the closing fill), paying Fees on the exit.
	Quantity   float64 `json:"quantity"`
	EntryPrice float64 `json:"entry_price"`
	ExitPrice  float64 `json:"exit_price"`
	Fees       float64 `json:"fees"`
	// PnL is the realised profit after fees, in the account currency.
	PnL float64 `json:"pnl"`
	// Return is PnL over the entry notional.
	Return float64 `json:"return"`
	// EntryDecisionID opened the position, ExitDecisionID closed it.
	EntryDecisionID string `json:"entry_decision_id,omitempty"`
	ExitDecisionID  string `json:"exit_decision_id,omitempty"`
	// Votes are the entry decision's votes: the per-strategy attribution.
	Votes []Vote `json:"votes"`
	// OpenedAt and ClosedAt bound the trade.
	OpenedAt time.Time `json:"opened_at"`
	ClosedAt time.Time `json:"closed_at"`
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertMemory(ctx context.Context, ex execer, m Memory) (int64, error) {
	votes, err := json.Marshal(nonNil(m.Votes))
	if err != nil {
		return 0, fmt.Errorf("memory votes: %w", err)
	}
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	res, err := ex.ExecContext(ctx, `INSERT INTO memory (platform, symbol, direction, quantity, entry_price, exit_price,
		fees, pnl, return_pct, entry_decision_id, exit_decision_id, votes, opened_at, closed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Platform, m.Symbol, m.Direction, m.Quantity, m.EntryPrice, m.ExitPrice, m.Fees, m.PnL, m.Return,
		nullable(m.EntryDecisionID), nullable(m.ExitDecisionID), string(votes), ms2(m.OpenedAt), ms2(m.ClosedAt))
	if err != nil {
		return 0, fmt.Errorf("memory: %w", err)
	}
	return res.LastInsertId()
}

// InsertMemory adds a closed trade to the memory and returns its id.
func (s *Store) InsertMemory(ctx context.Context, m Memory) (int64, error) {
	id, err := insertMemory(ctx, s.db, m)
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return id, nil
}

const memoryCols = `id, platform, symbol, direction, quantity, entry_price, exit_price, fees, pnl, return_pct,
	coalesce(entry_decision_id, ''), coalesce(exit_decision_id, ''), votes, opened_at, closed_at`

func scanMemory(sc interface{ Scan(...any) error }) (Memory, error) {
	var m Memory
	var votes string
	var opened, closed int64
	if err := sc.Scan(&m.ID, &m.Platform, &m.Symbol, &m.Direction, &m.Quantity, &m.EntryPrice, &m.ExitPrice, &m.Fees,
		&m.PnL, &m.Return, &m.EntryDecisionID, &m.ExitDecisionID, &votes, &opened, &closed); err != nil {
		return m, err
	}
	m.OpenedAt, m.ClosedAt = fromMS(opened), fromMS(closed)
	if err := json.Unmarshal([]byte(votes), &m.Votes); err != nil {
		return m, fmt.Errorf("memory %d votes: %w", m.ID, err)
	}
	return m, nil
}

// MemoryFilter selects closed trades. Zero fields do not filter.
type MemoryFilter struct {
	// Since keeps trades closed at or after it.
	Since time.Time
	// Limit caps the result; 0 means no limit.
	Limit int
}

// Memories returns closed trades, newest first.
func (s *Store) Memories(ctx context.Context, f MemoryFilter) ([]Memory, error) {
	q := "SELECT " + memoryCols + " FROM memory WHERE closed_at >= ? ORDER BY closed_at DESC, id DESC"
	args := []any{ms2(f.Since)}
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	return s.memories(ctx, q, args...)
}

func (s *Store) memories(ctx context.Context, q string, args ...any) ([]Memory, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: memory: %w", err)
	}
	defer rows.Close()
	var out []Memory
	for rows.Next() {
		m, err := scanMemory(rows)
		if err != nil {
			return nil, fmt.Errorf("store: memory: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: memory: %w", err)
	}
	return out, nil
}

// RealizedPnL sums the PnL of trades on platform closed at or after since.
func (s *Store) RealizedPnL(ctx context.Context, platform string, since time.Time) (float64, error) {
	var v float64
	err := s.db.QueryRowContext(ctx, "SELECT coalesce(sum(pnl), 0) FROM memory WHERE platform = ? AND closed_at >= ?",
		platform, ms2(since)).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: realised PnL: %w", err)
	}
	return v, nil
}

// PruneResult reports what PruneMemory removed.
type PruneResult struct {
	// ByAge counts trades removed for being older than the cut-off.
	ByAge int `json:"removed_by_age"`
	// ByCount counts trades removed for being beyond the newest keep.
	ByCount int `json:"removed_by_count"`
	// Removed lists the removed trades, newest first.
	Removed []Memory `json:"removed"`
	// Remaining is the number of trades left.
	Remaining int `json:"remaining"`
}

// PruneMemory removes trades closed before olderThan (unless zero) and all
// but the newest keep trades (unless keep is 0), in one transaction, and
// reports what it removed. With dryRun it only reports.
func (s *Store) PruneMemory(ctx context.Context, olderThan time.Time, keep int, dryRun bool) (PruneResult, error) {
	var res PruneResult
	byAge := map[int64]bool{}
	var ids []int64
	if !olderThan.IsZero() {
		old, err := s.memories(ctx, "SELECT "+memoryCols+" FROM memory WHERE closed_at < ? ORDER BY closed_at DESC, id DESC", ms2(olderThan))
		if err != nil {
			return res, err
		}
		for _, m := range old {
			byAge[m.ID] = true
			ids = append(ids, m.ID)
			res.Removed = append(res.Removed, m)
		}
		res.ByAge = len(old)
	}
	if keep > 0 {
		beyond, err := s.memories(ctx, "SELECT "+memoryCols+" FROM memory ORDER BY closed_at DESC, id DESC LIMIT -1 OFFSET ?", keep)
		if err != nil {
			return res, err
		}
		for _, m := range beyond {
			if !byAge[m.ID] {
				ids = append(ids, m.ID)
				res.Removed = append(res.Removed, m)
				res.ByCount++
			}
		}
	}
	if !dryRun && len(ids) > 0 {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			for start := 0; start < len(ids); start += 500 {
				chunk := ids[start:min(start+500, len(ids))]
				args := make([]any, len(chunk))
				for i, id := range chunk {
					args[i] = id
				}
				q := "DELETE FROM memory WHERE id IN (?" + strings.Repeat(", ?", len(chunk)-1) + ")"
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("store: prune memory: %w", err)
		}
	}
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM memory").Scan(&res.Remaining); err != nil {
		return res, fmt.Errorf("store: prune memory: %w", err)
	}
	if dryRun {
		res.Remaining -= len(ids)
	}
	return res, nil
}

// Weights returns the learned strategy weights; strategies never updated
// are absent.
func (s *Store) Weights(ctx context.Context) (map[string]float64, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT strategy, weight FROM strategy_weights ORDER BY strategy")
	if err != nil {
		return nil, fmt.Errorf("store: weights: %w", err)
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var n string
		var w float64
		if err := rows.Scan(&n, &w); err != nil {
			return nil, fmt.Errorf("store: weights: %w", err)
		}
		out[n] = w
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: weights: %w", err)
	}
	return out, nil
}

// SetWeights stores weights, replacing those of the same strategies.
func (s *Store) SetWeights(ctx context.Context, weights map[string]float64) error {
	err := s.tx(ctx, func(tx *sql.Tx) error { return setWeights(ctx, tx, weights, s.now()) })
	if err != nil {
		return fmt.Errorf("store: set weights: %w", err)
	}
	return nil
}

func setWeights(ctx context.Context, tx *sql.Tx, weights map[string]float64, at time.Time) error {
	for n, w := range weights {
		if _, err := tx.ExecContext(ctx, `INSERT INTO strategy_weights (strategy, weight, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (strategy) DO UPDATE SET weight = excluded.weight, updated_at = excluded.updated_at`,
			n, w, ms2(at)); err != nil {
			return fmt.Errorf("weight %s: %w", n, err)
		}
	}
	return nil
}
