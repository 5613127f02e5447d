// Package store is the engine's embedded database: SQLite through the
// pure-Go modernc.org/sqlite driver (no cgo), in WAL mode with foreign keys
// on, its schema applied by embedded, numbered migrations.
//
// # What it owns
//
// The store owns the whole schema of the database: every table and index
// is created, changed or dropped by a migration under migrations/, applied
// in order by one runner and recorded in schema_migrations. No other
// package creates tables (a test of this package checks the module's
// sources). Besides its own records (decisions, orders, fills, positions,
// paper balances, the portfolio memory of closed trades and the learned
// strategy weights), it keeps the tables of `ffe serve` and hands them out
// as narrow types: Jobs (the job queue's export_jobs, a jobs.Table) and
// Alerts (the stock monitor's monitor_alerts, a monitor.AlertSink). Those
// packages define the interfaces; the store implements them, so they need
// neither database/sql nor this package.
//
// # What it may import
//
// The standard library, the SQLite driver, providers (for its records'
// types), and the packages whose tables it keeps, for their types and
// interfaces: engine/jobs and engine/monitor. Nothing that imports the
// store may be imported by it.
//
// A Store owns one *sql.DB; Close releases it, and every query closes its
// rows before returning. Times of the store's own records are stored as
// Unix milliseconds, those of jobs and alerts as Unix nanoseconds; all are
// returned in UTC.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/base32"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Errors callers branch on with errors.Is.
var (
	// ErrNotFound means no row has the id asked for.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExecuted means a decision was executed (or is being
	// executed) already.
	ErrAlreadyExecuted = errors.New("decision already executed")
	// ErrInsufficient means a paper order needs more cash or units than the
	// account holds.
	ErrInsufficient = errors.New("insufficient balance")
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// FileName is the database's file name inside the data directory.
const FileName = "ffe.db"

// Store is the engine's database. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	now  func() time.Time

	once     sync.Once
	closeErr error
}

// Option configures Open.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	now          func() time.Time
	busyTimeout  time.Duration
	maxOpenConns int
}

// WithClock sets the time source used for created_at columns.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) { o.now = now })
}

// WithBusyTimeout sets how long a statement waits for a lock held by
// another connection or process [5s].
func WithBusyTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) { o.busyTimeout = d })
}

// WithMaxOpenConns bounds the connection pool [4].
func WithMaxOpenConns(n int) Option {
	return optionFunc(func(o *options) { o.maxOpenConns = n })
}

// Open opens (creating if needed) the database at path, in WAL mode with a
// busy timeout and foreign keys on, and applies pending migrations. The
// directory is created with mode 0700. The caller must Close the Store.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, busyTimeout: 5 * time.Second, maxOpenConns: 4}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("store: database path %q contains ? or #; choose a directory without them", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: data directory: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(path, o.busyTimeout))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(o.maxOpenConns)
	db.SetMaxIdleConns(o.maxOpenConns)
	s := &Store{db: db, path: path, now: o.now}
	if err := s.init(ctx); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return s, nil
}

// dsn is the data source name of the database at path: WAL mode, the busy
// timeout, foreign keys on and BEGIN IMMEDIATE transactions.
func dsn(path string, busyTimeout time.Duration) string {
	return path + "?_pragma=busy_timeout(" + strconv.FormatInt(busyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

func (s *Store) init(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("store: %s: journal mode is %s, want wal", s.path, mode)
	}
	return s.migrate(ctx)
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database. It is idempotent; later calls return the
// first call's result.
func (s *Store) Close() error {
	s.once.Do(func() {
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("store: close: %w", err)
		}
	})
	return s.closeErr
}

// Migration is one schema change.
type Migration struct {
	// Version is the NNN of migrations/NNN_name.sql; Name its name part.
	Version int
	Name    string
	// SQL is the file's statements.
	SQL string
}

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("store: migration %s: want NNN_name.sql", name)
		}
		body, err := fs.ReadFile(migrationFS, "migrations/"+name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: rest, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := range out {
		if out[i].Version != i+1 {
			return nil, fmt.Errorf("store: migration versions must run 1, 2, 3…; found %d at position %d", out[i].Version, i+1)
		}
	}
	return out, nil
}

// migrate applies every migration newer than the database's version, each
// in its own transaction together with its schema_migrations row.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	return s.apply(ctx, ms)
}

// apply applies the migrations of ms the database lacks; ms are the
// migrations 1..len(ms).
func (s *Store) apply(ctx context.Context, ms []Migration) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	for _, m := range ms {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.Version, m.Name, ms2(s.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %03d_%s: %w", m.Version, m.Name, err)
		}
	}
	var newest int
	if err := s.db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&newest); err != nil {
		return fmt.Errorf("store: schema version: %w", err)
	}
	if newest > len(ms) {
		return fmt.Errorf("store: %s has schema version %d, newer than this build knows (%d); upgrade ffe", s.path, newest, len(ms))
	}
	return nil
}

// SchemaVersion returns the newest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

// tx runs f in a write transaction (BEGIN IMMEDIATE), committing when f
// returns nil and rolling back otherwise.
func (s *Store) tx(ctx context.Context, f func(*sql.Tx) error) error {
	return inTx(ctx, s.db, f)
}

// inTx runs f in a write transaction of db (BEGIN IMMEDIATE), committing
// when f returns nil and rolling back otherwise.
func inTx(ctx context.Context, db *sql.DB, f func(*sql.Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// ms2 converts t to Unix milliseconds; the zero time is 0.
func ms2(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts Unix milliseconds to a UTC time; 0 is the zero time.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a random identifier of 12 lower-case letters and digits
// (60 bits), safe in URLs and on command lines.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])[:12]
}

// ValidID reports whether s has the shape of an id made by NewID.
func ValidID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7') {
			return false
		}
	}
	return true
}

// Stats returns the connection pool's statistics. InUse is 0 whenever no
// call is running: every query closes its rows before returning.
func (s *Store) Stats() sql.DBStats { return s.db.Stats() }

// WarmPool opens every connection the pool may hold and leaves them idle
// in it, for diagnostics that watch how many connections the store's users
// hold (Stats().InUse) without counting the ones a first query opens. The
// pool keeps as many idle connections as it may open, so they stay open
// until Close.
func (s *Store) WarmPool(ctx context.Context) error {
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close() // back to the pool; Close of a *sql.Conn returns it
		}
	}()
	for range s.db.Stats().MaxOpenConnections {
		c, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store: open the pool: %w", err)
		}
		conns = append(conns, c)
		if err := c.PingContext(ctx); err != nil {
			return fmt.Errorf("store: open the pool: %w", err)
		}
	}
	return nil
}

// PingContext checks that the database answers.
func (s *Store) PingContext(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}
