package jobs

import (
	"context"
	"database/sql"
	"fmt"
)

// Table is the table jobs are stored in.
const Table = "export_jobs"

// migrations are applied in order; migrations[i] brings the schema to
// version i+1. Each is idempotent on its own.
var migrations = []string{
	`CREATE TABLE IF NOT EXISTS export_jobs (
		seq         INTEGER PRIMARY KEY AUTOINCREMENT,
		id          TEXT    NOT NULL UNIQUE,
		kind        TEXT    NOT NULL,
		state       TEXT    NOT NULL,
		params      TEXT    NOT NULL DEFAULT 'null',
		result      TEXT    NOT NULL DEFAULT '',
		error       TEXT    NOT NULL DEFAULT '',
		note        TEXT    NOT NULL DEFAULT '',
		progress    TEXT    NOT NULL DEFAULT '',
		attempt     INTEGER NOT NULL DEFAULT 0,
		created_at  INTEGER NOT NULL,           -- Unix nanoseconds, as the other times
		started_at  INTEGER NOT NULL DEFAULT 0, -- 0: not started
		finished_at INTEGER NOT NULL DEFAULT 0, -- 0: not finished
		updated_at  INTEGER NOT NULL
	);
	CREATE INDEX IF NOT EXISTS export_jobs_state ON export_jobs(state, seq);`,
}

// SchemaVersion is the schema version this package migrates to.
var SchemaVersion = len(migrations)

// migrate brings the job tables to SchemaVersion.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS jobs_schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("jobs: create schema version table: %w", err)
	}
	var v int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM jobs_schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("jobs: read schema version: %w", err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("jobs: database schema version %d is newer than this program's %d", v, SchemaVersion)
	}
	for ; v < SchemaVersion; v++ {
		if err := apply(ctx, db, v+1, migrations[v]); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, version int, stmt string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobs: migrate to %d: %w", version, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("jobs: migrate to %d: %w", version, err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO jobs_schema_version (version) SELECT ? WHERE NOT EXISTS (SELECT 1 FROM jobs_schema_version WHERE version >= ?)`,
		version, version); err != nil {
		return fmt.Errorf("jobs: record schema version %d: %w", version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("jobs: migrate to %d: %w", version, err)
	}
	return nil
}
