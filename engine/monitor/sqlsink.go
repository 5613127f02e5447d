package monitor

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// DefaultKeepAlerts is how many alerts an SQLSink keeps.
const DefaultKeepAlerts = 10000

// sinkSchema creates the alerts table; it is idempotent.
const sinkSchema = `
CREATE TABLE IF NOT EXISTS monitor_alerts (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	symbol    TEXT    NOT NULL,
	price     REAL    NOT NULL,
	reference REAL    NOT NULL,
	change    REAL    NOT NULL,
	direction TEXT    NOT NULL,
	provider  TEXT    NOT NULL DEFAULT '',
	at        INTEGER NOT NULL -- Unix nanoseconds
);
CREATE INDEX IF NOT EXISTS monitor_alerts_symbol ON monitor_alerts(symbol, id);`

// SQLSink records alerts in the table monitor_alerts of a SQLite database
// (driver modernc.org/sqlite), keeping the newest keep alerts.
type SQLSink struct {
	db   *sql.DB
	keep int
}

var _ AlertSink = (*SQLSink)(nil)

// NewSQLSink creates the alerts table in db if needed. keep bounds how many
// alerts are kept (DefaultKeepAlerts if not positive). The caller keeps
// ownership of db.
func NewSQLSink(ctx context.Context, db *sql.DB, keep int) (*SQLSink, error) {
	if keep <= 0 {
		keep = DefaultKeepAlerts
	}
	if _, err := db.ExecContext(ctx, sinkSchema); err != nil {
		return nil, fmt.Errorf("monitor: create alerts table: %w", err)
	}
	return &SQLSink{db: db, keep: keep}, nil
}

// RecordAlert stores a and drops the alerts beyond the newest keep.
func (s *SQLSink) RecordAlert(ctx context.Context, a Alert) error {
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO monitor_alerts (symbol, price, reference, change, direction, provider, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		a.Symbol, a.Price, a.Reference, a.Change, a.Direction, a.Provider, a.Time.UnixNano())
	if err != nil {
		return fmt.Errorf("monitor: insert alert: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("monitor: insert alert: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM monitor_alerts WHERE id <= ?`, id-int64(s.keep)); err != nil {
		return fmt.Errorf("monitor: prune alerts: %w", err)
	}
	return nil
}

// Alerts returns up to limit of the newest alerts, newest first; symbol,
// if not empty, selects one symbol.
func (s *SQLSink) Alerts(ctx context.Context, symbol string, limit int) ([]Alert, error) {
	if limit <= 0 || limit > s.keep {
		limit = s.keep
	}
	rows, err := s.db.QueryContext(ctx,
		`SELECT symbol, price, reference, change, direction, provider, at FROM monitor_alerts
		 WHERE ? = '' OR symbol = ? ORDER BY id DESC LIMIT ?`, symbol, symbol, limit)
	if err != nil {
		return nil, fmt.Errorf("monitor: query alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var a Alert
		var at int64
		if err := rows.Scan(&a.Symbol, &a.Price, &a.Reference, &a.Change, &a.Direction, &a.Provider, &at); err != nil {
			return nil, fmt.Errorf("monitor: scan alert: %w", err)
		}
		a.Time = time.Unix(0, at).UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("monitor: query alerts: %w", err)
	}
	return out, nil
}
