package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/leakgate/leakgate/engine/jobs"
)

// JobTable is the table export_jobs, where the job queue of `ffe serve`
// keeps its jobs. It implements jobs.Table; get it from (*Store).Jobs.
// Times are stored as Unix nanoseconds.
type JobTable struct{ db *sql.DB }

var _ jobs.Table = (*JobTable)(nil)

// Jobs returns the job queue's table.
func (s *Store) Jobs() *JobTable { return &JobTable{db: s.db} }

// jobColumns are the columns scanJob reads, in order.
const jobColumns = `id, kind, state, params, result, error, note, progress, attempt, created_at, started_at, finished_at`

// Recover implements jobs.Table.
func (t *JobTable) Recover(ctx context.Context, maxAttempts int, now time.Time) (jobs.Recovery, error) {
	var rec jobs.Recovery
	err := inTx(ctx, t.db, func(tx *sql.Tx) error {
		ns := now.UnixNano()
		res, err := tx.ExecContext(ctx, `UPDATE export_jobs SET state = ?,
			error = printf('interrupted: the process stopped while the job was running (attempt %d of %d); no attempts left', attempt, ?),
			finished_at = ?, updated_at = ? WHERE state = ? AND attempt >= ?`,
			jobs.Failed, maxAttempts, ns, ns, jobs.Running, maxAttempts)
		if err != nil {
			return err
		}
		failed, _ := res.RowsAffected()
		res, err = tx.ExecContext(ctx, `UPDATE export_jobs SET state = ?,
			note = printf('resumed: the process stopped while the job was running (attempt %d of %d)', attempt, ?),
			started_at = 0, progress = '', updated_at = ? WHERE state = ?`,
			jobs.Queued, maxAttempts, ns, jobs.Running)
		if err != nil {
			return err
		}
		requeued, _ := res.RowsAffected()
		rec = jobs.Recovery{Requeued: int(requeued), Failed: int(failed)}
		return nil
	})
	if err != nil {
		return jobs.Recovery{}, fmt.Errorf("store: recover interrupted jobs: %w", err)
	}
	return rec, nil
}

// Counts implements jobs.Table.
func (t *JobTable) Counts(ctx context.Context) (map[jobs.State]int, error) {
	rows, err := t.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM export_jobs GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("store: count jobs: %w", err)
	}
	defer rows.Close()
	out := make(map[jobs.State]int, len(jobs.States))
	for _, s := range jobs.States {
		out[s] = 0
	}
	for rows.Next() {
		var s jobs.State
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("store: count jobs: %w", err)
		}
		out[s] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: count jobs: %w", err)
	}
	return out, nil
}

// Insert implements jobs.Table.
func (t *JobTable) Insert(ctx context.Context, job jobs.Job) error {
	params := "null"
	if len(job.Params) > 0 {
		params = string(job.Params)
	}
	ns := job.Created.UnixNano()
	_, err := t.db.ExecContext(ctx, `INSERT INTO export_jobs (id, kind, state, params, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, job.ID, job.Kind, job.State, params, ns, ns)
	if err != nil {
		return fmt.Errorf("store: insert job: %w", err)
	}
	return nil
}

// Claim implements jobs.Table.
func (t *JobTable) Claim(ctx context.Context, now time.Time) (jobs.Job, bool, error) {
	ns := now.UnixNano()
	job, err := scanJob(t.db.QueryRowContext(ctx, `UPDATE export_jobs SET state = ?, attempt = attempt + 1,
		started_at = ?, updated_at = ?
		WHERE seq = (SELECT seq FROM export_jobs WHERE state = ? ORDER BY seq LIMIT 1)
		RETURNING `+jobColumns, jobs.Running, ns, ns, jobs.Queued))
	if errors.Is(err, sql.ErrNoRows) {
		return jobs.Job{}, false, nil
	}
	if err != nil {
		return jobs.Job{}, false, fmt.Errorf("store: claim job: %w", err)
	}
	return job, true, nil
}

// Finish implements jobs.Table.
func (t *JobTable) Finish(ctx context.Context, job jobs.Job) error {
	progress, err := json.Marshal(job.Progress)
	if err != nil {
		return fmt.Errorf("store: encode progress of job %s: %w", job.ID, err)
	}
	ns := job.Finished.UnixNano()
	_, err = t.db.ExecContext(ctx, `UPDATE export_jobs SET state = ?, result = ?, error = ?, progress = ?,
		finished_at = ?, updated_at = ? WHERE id = ?`,
		job.State, string(job.Result), job.Error, string(progress), ns, ns, job.ID)
	if err != nil {
		return fmt.Errorf("store: store outcome of job %s: %w", job.ID, err)
	}
	return nil
}

// Requeue implements jobs.Table.
func (t *JobTable) Requeue(ctx context.Context, id, note string, now time.Time) error {
	_, err := t.db.ExecContext(ctx, `UPDATE export_jobs SET state = ?, attempt = attempt - 1, started_at = 0,
		progress = '', note = ?, updated_at = ? WHERE id = ?`, jobs.Queued, note, now.UnixNano(), id)
	if err != nil {
		return fmt.Errorf("store: queue job %s again: %w", id, err)
	}
	return nil
}

// CancelQueued implements jobs.Table.
func (t *JobTable) CancelQueued(ctx context.Context, id, reason string, now time.Time) (bool, error) {
	ns := now.UnixNano()
	res, err := t.db.ExecContext(ctx, `UPDATE export_jobs SET state = ?, error = ?,
		finished_at = ?, updated_at = ? WHERE id = ? AND state = ?`, jobs.Cancelled, reason, ns, ns, id, jobs.Queued)
	if err != nil {
		return false, fmt.Errorf("store: cancel job %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: cancel job %s: %w", id, err)
	}
	return n == 1, nil
}

// Get implements jobs.Table.
func (t *JobTable) Get(ctx context.Context, id string) (jobs.Job, error) {
	job, err := scanJob(t.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM export_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return jobs.Job{}, fmt.Errorf("%w: %s", jobs.ErrNotFound, id)
	}
	if err != nil {
		return jobs.Job{}, fmt.Errorf("store: get job %s: %w", id, err)
	}
	return job, nil
}

// List implements jobs.Table.
func (t *JobTable) List(ctx context.Context, f jobs.Filter) ([]jobs.Job, error) {
	rows, err := t.db.QueryContext(ctx, `SELECT `+jobColumns+` FROM export_jobs
		WHERE ? = '' OR state = ? ORDER BY seq DESC LIMIT ?`, f.State, f.State, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: list jobs: %w", err)
	}
	defer rows.Close()
	out := []jobs.Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list jobs: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list jobs: %w", err)
	}
	return out, nil
}

// Prune implements jobs.Table.
func (t *JobTable) Prune(ctx context.Context, keep int, cutoff time.Time) (map[jobs.State]int, error) {
	limit := -1 // SQLite: no limit
	if keep > 0 {
		limit = keep
	}
	var before int64
	if !cutoff.IsZero() {
		before = cutoff.UnixNano()
	}
	rows, err := t.db.QueryContext(ctx, `DELETE FROM export_jobs WHERE state IN (?, ?, ?) AND (finished_at < ?
		OR seq NOT IN (SELECT seq FROM export_jobs WHERE state IN (?, ?, ?) ORDER BY seq DESC LIMIT ?))
		RETURNING state`,
		jobs.Succeeded, jobs.Failed, jobs.Cancelled, before, jobs.Succeeded, jobs.Failed, jobs.Cancelled, limit)
	if err != nil {
		return nil, fmt.Errorf("store: prune jobs: %w", err)
	}
	defer rows.Close()
	out := map[jobs.State]int{}
	for rows.Next() {
		var s jobs.State
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("store: prune jobs: %w", err)
		}
		out[s]++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: prune jobs: %w", err)
	}
	return out, nil
}

func scanJob(row interface{ Scan(...any) error }) (jobs.Job, error) {
	var j jobs.Job
	var params, result, progress string
	var created, started, finished int64
	if err := row.Scan(&j.ID, &j.Kind, &j.State, &params, &result, &j.Error, &j.Note, &progress, &j.Attempt,
		&created, &started, &finished); err != nil {
		return jobs.Job{}, err
	}
	if params != "" && params != "null" {
		j.Params = json.RawMessage(params)
	}
	if result != "" && result != "null" {
		j.Result = json.RawMessage(result)
	}
	if progress != "" {
		if err := json.Unmarshal([]byte(progress), &j.Progress); err != nil {
			return jobs.Job{}, fmt.Errorf("decode progress of %s: %w", j.ID, err)
		}
	}
	j.Created = fromNanos(created)
	j.Started = fromNanos(started)
	j.Finished = fromNanos(finished)
	return j, nil
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
