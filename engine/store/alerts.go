package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/leakgate/leakgate/engine/monitor"
)

// DefaultKeepAlerts is how many alerts an AlertTable keeps.
const DefaultKeepAlerts = 10000

// AlertTable is the table monitor_alerts, where the stock monitor of
// `ffe serve` records its alerts, keeping the newest ones. It implements
// monitor.AlertSink; get it from (*Store).Alerts. Times are stored as
// Unix nanoseconds.
type AlertTable struct {
	db   *sql.DB
	keep int
}

var _ monitor.AlertSink = (*AlertTable)(nil)

// Alerts returns the monitor's alert table, which keeps the newest
// DefaultKeepAlerts alerts.
func (s *Store) Alerts() *AlertTable { return &AlertTable{db: s.db, keep: DefaultKeepAlerts} }

// Keep returns a view of the table that keeps the newest n alerts
// (DefaultKeepAlerts if n is not positive).
func (t *AlertTable) Keep(n int) *AlertTable {
	if n <= 0 {
		n = DefaultKeepAlerts
	}
	return &AlertTable{db: t.db, keep: n}
}

// RecordAlert stores a and drops the alerts beyond the newest keep.
func (t *AlertTable) RecordAlert(ctx context.Context, a monitor.Alert) error {
	return inTx(ctx, t.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO monitor_alerts (symbol, price, reference, change, direction, provider, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			a.Symbol, a.Price, a.Reference, a.Change, a.Direction, a.Provider, a.Time.UnixNano())
		if err != nil {
			return fmt.Errorf("store: insert alert: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("store: insert alert: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM monitor_alerts WHERE id <= ?`, id-int64(t.keep)); err != nil {
			return fmt.Errorf("store: prune alerts: %w", err)
		}
		return nil
	})
}

// List returns up to limit of the newest alerts, newest first; symbol, if
// not empty, selects one symbol.
func (t *AlertTable) List(ctx context.Context, symbol string, limit int) ([]monitor.Alert, error) {
	if limit <= 0 || limit > t.keep {
		limit = t.keep
	}
	rows, err := t.db.QueryContext(ctx,
		`SELECT symbol, price, reference, change, direction, provider, at FROM monitor_alerts
		 WHERE ? = '' OR symbol = ? ORDER BY id DESC LIMIT ?`, symbol, symbol, limit)
	if err != nil {
		return nil, fmt.Errorf("store: query alerts: %w", err)
	}
	defer rows.Close()
	var out []monitor.Alert
	for rows.Next() {
		var a monitor.Alert
		var at int64
		if err := rows.Scan(&a.Symbol, &a.Price, &a.Reference, &a.Change, &a.Direction, &a.Provider, &at); err != nil {
			return nil, fmt.Errorf("store: scan alert: %w", err)
		}
		a.Time = time.Unix(0, at).UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: query alerts: %w", err)
	}
	return out, nil
}
