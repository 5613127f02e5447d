package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/jobs"
)

// The tables engine/jobs and engine/monitor created themselves before they
// became store migrations, verbatim: databases made by that code hold them
// beside the store's version 1.
const (
	legacyJobsSchema = `CREATE TABLE IF NOT EXISTS export_jobs (
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
	CREATE INDEX IF NOT EXISTS export_jobs_state ON export_jobs(state, seq);`
	legacyJobsVersion = `CREATE TABLE IF NOT EXISTS jobs_schema_version (version INTEGER NOT NULL);
	INSERT INTO jobs_schema_version (version) VALUES (1);`
	legacyAlertsSchema = `
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
)

// fixture is an earlier state of a database: the store's migrations up to
// version, then extra statements.
type fixture struct {
	name    string
	version int
	extra   []string
}

// build creates the fixture's database at path and stores rows in every
// table it has: a strategy weight, a job in each state but one, and
// alerts. It reports which of the tables of jobs and alerts it had.
func (f fixture) build(t *testing.T, path string) (hasJobs, hasAlerts bool) {
	t.Helper()
	ctx := t.Context()
	db, err := sql.Open("sqlite", dsn(path, 5*time.Second))
	require.NoError(t, err)
	defer db.Close()
	ms, err := Migrations()
	require.NoError(t, err)
	s := &Store{db: db, path: path, now: func() time.Time { return t0 }}
	require.NoError(t, s.apply(ctx, ms[:f.version]))
	for _, stmt := range f.extra {
		_, err := db.ExecContext(ctx, stmt)
		require.NoError(t, err)
	}
	has := func(table string) bool {
		var n int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&n))
		return n == 1
	}
	if has("strategy_weights") {
		_, err := db.ExecContext(ctx, `INSERT INTO strategy_weights (strategy, weight, updated_at) VALUES ('trend', 0.5, 1)`)
		require.NoError(t, err)
	}
	if has("export_jobs") {
		for i, st := range jobs.States {
			_, err := db.ExecContext(ctx, `INSERT INTO export_jobs (id, kind, state, params, result, progress, attempt,
				created_at, started_at, finished_at, updated_at) VALUES (?, 'export', ?, '{"symbols":["AAPL"]}', ?, ?, 1, ?, ?, ?, ?)`,
				fmt.Sprintf("job-%d", i), st, `{"n":1}`, `{"total":1,"done":1,"failed":0}`, i+1, i+2, i+3, i+3)
			require.NoError(t, err)
		}
		// A pruned job: seq keeps counting past it.
		_, err := db.ExecContext(ctx, `DELETE FROM export_jobs WHERE id = 'job-4'`)
		require.NoError(t, err)
	}
	if has("monitor_alerts") {
		for i := range 3 {
			_, err := db.ExecContext(ctx, `INSERT INTO monitor_alerts (symbol, price, reference, change, direction, provider, at)
				VALUES ('AAPL', ?, 100, 0.1, 'up', 'test', ?)`, float64(110+i), t0.Add(time.Duration(i)*time.Second).UnixNano())
			require.NoError(t, err)
		}
	}
	return has("export_jobs"), has("monitor_alerts")
}

// schema lists the database's objects as sqlite_master holds them.
func schema(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), `SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name`)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ, name, table, def string
		require.NoError(t, rows.Scan(&typ, &name, &table, &def))
		out = append(out, strings.Join([]string{typ, name, table, def}, " | "))
	}
	require.NoError(t, rows.Err())
	return out
}

func TestMigrationsFromEveryEarlierState(t *testing.T) {
	ms, err := Migrations()
	require.NoError(t, err)
	latest := len(ms)

	want := schema(t, openTest(t))
	require.Contains(t, strings.Join(want, "\n"), "table | export_jobs | export_jobs")
	require.Contains(t, strings.Join(want, "\n"), "table | monitor_alerts | monitor_alerts")
	require.NotContains(t, strings.Join(want, "\n"), "jobs_schema_version")

	fixtures := []fixture{
		{name: "empty file", version: 0},
		{name: "legacy: jobs and monitor tables of their own", version: 1,
			extra: []string{legacyJobsSchema, legacyJobsVersion, legacyAlertsSchema}},
		{name: "legacy: jobs tables, monitor never on", version: 1,
			extra: []string{legacyJobsSchema, legacyJobsVersion}},
		{name: "legacy: alerts table only", version: 1, extra: []string{legacyAlertsSchema}},
	}
	for v := 1; v < latest; v++ {
		fixtures = append(fixtures, fixture{name: fmt.Sprintf("version %d", v), version: v})
	}
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			hasJobs, hasAlerts := f.build(t, path)
			s, err := Open(t.Context(), path)
			require.NoError(t, err)
			defer s.Close()
			require.Equal(t, want, schema(t, s), "the schema is the same whatever the database's past")
			v, err := s.SchemaVersion(t.Context())
			require.NoError(t, err)
			require.Equal(t, latest, v)

			if f.version >= 1 {
				w, err := s.Weights(t.Context())
				require.NoError(t, err)
				require.Equal(t, map[string]float64{"trend": 0.5}, w, "the store's rows survive")
			}
			got, err := s.Jobs().List(t.Context(), jobs.Filter{Limit: 100})
			require.NoError(t, err)
			if hasJobs {
				require.Len(t, got, len(jobs.States)-1, "the jobs survive")
				for i, j := range got {
					require.Equal(t, fmt.Sprintf("job-%d", 3-i), j.ID)
					require.Equal(t, jobs.States[3-i], j.State)
					require.JSONEq(t, `{"symbols":["AAPL"]}`, string(j.Params))
					require.JSONEq(t, `{"n":1}`, string(j.Result))
					require.Equal(t, 1, j.Progress.Total)
					require.Equal(t, int64(3-i+1), j.Created.UnixNano())
				}
			} else {
				require.Empty(t, got)
			}
			// New jobs go after the kept ones.
			require.NoError(t, s.Jobs().Insert(t.Context(), jobs.Job{ID: "job-new", Kind: "export", State: jobs.Queued, Created: t0}))
			list, err := s.Jobs().List(t.Context(), jobs.Filter{Limit: 1})
			require.NoError(t, err)
			require.Equal(t, "job-new", list[0].ID)

			kept, err := s.Alerts().List(t.Context(), "", 0)
			require.NoError(t, err)
			if hasAlerts {
				require.Len(t, kept, 3, "the alerts survive")
				require.Equal(t, 112.0, kept[0].Price)
				require.Equal(t, t0.Add(2*time.Second), kept[0].Time)
			} else {
				require.Empty(t, kept)
			}
		})
	}
}

// TestLegacyDatabaseUpgrades opens a database as the previous code left
// it, with the queue's own version table, and checks the upgrade keeps
// every row as it was.
func TestLegacyDatabaseUpgrades(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	fixture{version: 1, extra: []string{legacyJobsSchema, legacyJobsVersion, legacyAlertsSchema}}.build(t, path)
	dump := func(db *sql.DB, q string) []string {
		rows, err := db.Query(q)
		require.NoError(t, err)
		defer rows.Close()
		cols, err := rows.Columns()
		require.NoError(t, err)
		var out []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			b, err := json.Marshal(vals)
			require.NoError(t, err)
			out = append(out, string(b))
		}
		require.NoError(t, rows.Err())
		return out
	}
	const jobsQuery = `SELECT seq, id, kind, state, params, result, error, note, progress, attempt,
		created_at, started_at, finished_at, updated_at FROM export_jobs ORDER BY seq`
	const alertsQuery = `SELECT id, symbol, price, reference, change, direction, provider, at FROM monitor_alerts ORDER BY id`
	old, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	wantJobs, wantAlerts := dump(old, jobsQuery), dump(old, alertsQuery)
	require.NoError(t, old.Close())
	require.Len(t, wantJobs, 4)
	require.Len(t, wantAlerts, 3)

	s, err := Open(t.Context(), path)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, wantJobs, dump(s.db, jobsQuery))
	require.Equal(t, wantAlerts, dump(s.db, alertsQuery))
	var n int
	require.NoError(t, s.db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'jobs_schema_version'`).Scan(&n))
	require.Zero(t, n, "the queue's own version table is gone")
}
