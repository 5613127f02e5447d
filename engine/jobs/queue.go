package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Handler does the work of a job. It must return when ctx ends (its cause
// is ErrTimeout, ErrCancelled or ErrShutdown) and may report progress on t.
// The result is stored as JSON.
type Handler func(ctx context.Context, job Job, t *Tracker) (result any, err error)

// Defaults of a Queue.
const (
	DefaultWorkers     = 2
	DefaultCapacity    = 100
	DefaultMaxAttempts = 3
	DefaultTimeout     = 5 * time.Minute
)

// Option configures a Queue.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	workers     int
	capacity    int
	maxAttempts int
	timeout     time.Duration
	now         func() time.Time
	logger      *slog.Logger
	observer    func(Job)
}

// WithWorkers sets how many jobs run at once [DefaultWorkers].
func WithWorkers(n int) Option { return optionFunc(func(o *options) { o.workers = n }) }

// WithCapacity sets how many jobs may wait [DefaultCapacity].
func WithCapacity(n int) Option { return optionFunc(func(o *options) { o.capacity = n }) }

// WithMaxAttempts sets how many starts a job interrupted by a stopped
// process gets before it is failed [DefaultMaxAttempts].
func WithMaxAttempts(n int) Option { return optionFunc(func(o *options) { o.maxAttempts = n }) }

// WithTimeout bounds the run time of each job [DefaultTimeout].
func WithTimeout(d time.Duration) Option { return optionFunc(func(o *options) { o.timeout = d }) }

// WithClock sets the time source of job timestamps.
func WithClock(now func() time.Time) Option { return optionFunc(func(o *options) { o.now = now }) }

// WithLogger sets where the queue logs job ends and recoveries.
func WithLogger(l *slog.Logger) Option { return optionFunc(func(o *options) { o.logger = l }) }

// WithObserver calls f with every job that reaches a terminal state, for
// metrics. f must be fast and safe for concurrent use.
func WithObserver(f func(Job)) Option { return optionFunc(func(o *options) { o.observer = f }) }

// Recovery reports what Open did with jobs a previous process left running.
type Recovery struct {
	Requeued int
	Failed   int
}

// Queue is a persistent job queue with a worker pool. Start runs the
// workers; Stop ends them.
type Queue struct {
	db        *sql.DB
	o         options
	recovered Recovery

	mu       sync.Mutex
	handlers map[string]Handler
	queued   int // jobs in state queued
	running  map[string]*runningJob
	started  bool
	stopping bool
	avg      time.Duration   // moving average of job run times
	changed  chan struct{}   // closed and replaced when a job changes state
	stop     chan struct{}   // closed by Stop
	baseCtx  context.Context // parent of every job's context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	wake chan struct{} // a token: some job may be waiting
}

type runningJob struct {
	cancel  context.CancelCauseFunc
	tracker *Tracker
}

// Open migrates the job tables in db, recovers jobs a previous process left
// running, and returns a Queue. The caller keeps ownership of db and must
// keep it open until Stop has returned.
func Open(ctx context.Context, db *sql.DB, opts ...Option) (*Queue, error) {
	o := options{workers: DefaultWorkers, capacity: DefaultCapacity, maxAttempts: DefaultMaxAttempts,
		timeout: DefaultTimeout, now: time.Now, logger: slog.Default()}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.workers < 1 || o.capacity < 1 || o.maxAttempts < 1 || o.timeout <= 0 {
		return nil, fmt.Errorf("jobs: workers %d, capacity %d, max attempts %d and timeout %s must be positive",
			o.workers, o.capacity, o.maxAttempts, o.timeout)
	}
	if err := migrate(ctx, db); err != nil {
		return nil, err
	}
	q := &Queue{db: db, o: o, handlers: map[string]Handler{}, running: map[string]*runningJob{},
		avg: time.Second, changed: make(chan struct{}), stop: make(chan struct{}), wake: make(chan struct{}, 1)}
	q.baseCtx, q.cancel = context.WithCancel(context.Background())
	if err := q.recover(ctx); err != nil {
		q.cancel()
		return nil, err
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM export_jobs WHERE state = ?`, Queued).Scan(&q.queued); err != nil {
		q.cancel()
		return nil, fmt.Errorf("jobs: count queued jobs: %w", err)
	}
	return q, nil
}

// recover queues again, or fails, the jobs left running.
func (q *Queue) recover(ctx context.Context) error {
	now := q.o.now().UnixNano()
	res, err := q.db.ExecContext(ctx, `UPDATE export_jobs SET state = ?,
		error = printf('interrupted: the process stopped while the job was running (attempt %d of %d); no attempts left', attempt, ?),
		finished_at = ?, updated_at = ? WHERE state = ? AND attempt >= ?`,
		Failed, q.o.maxAttempts, now, now, Running, q.o.maxAttempts)
	if err != nil {
		return fmt.Errorf("jobs: recover interrupted jobs: %w", err)
	}
	failed, _ := res.RowsAffected()
	res, err = q.db.ExecContext(ctx, `UPDATE export_jobs SET state = ?,
		note = printf('resumed: the process stopped while the job was running (attempt %d of %d)', attempt, ?),
		started_at = 0, progress = '', updated_at = ? WHERE state = ?`,
		Queued, q.o.maxAttempts, now, Running)
	if err != nil {
		return fmt.Errorf("jobs: recover interrupted jobs: %w", err)
	}
	requeued, _ := res.RowsAffected()
	q.recovered = Recovery{Requeued: int(requeued), Failed: int(failed)}
	if requeued+failed > 0 {
		q.o.logger.Warn("jobs: recovered jobs interrupted by a stopped process", "requeued", requeued, "failed", failed)
	}
	return nil
}

// Recovered reports what Open did with interrupted jobs.
func (q *Queue) Recovered() Recovery { return q.recovered }

// Handle registers the handler of jobs of kind. Register handlers before
// Start.
func (q *Queue) Handle(kind string, h Handler) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.handlers[kind] = h
}

// Enqueue stores a queued job of kind with params (marshalled to JSON) and
// wakes a worker. On a full queue it fails with a *FullError.
func (q *Queue) Enqueue(ctx context.Context, kind string, params any) (Job, error) {
	raw, err := json.Marshal(params)
	if err != nil {
		return Job{}, fmt.Errorf("jobs: encode params: %w", err)
	}
	now := q.o.now()
	job := Job{ID: newID(), Kind: kind, State: Queued, Params: raw, Created: now.UTC()}
	// Every write of the queue happens under q.mu, so the queue's own
	// writers never contend for SQLite's write lock (a busy connection
	// sleeps in the busy handler for milliseconds).
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.queued >= q.o.capacity {
		return Job{}, &FullError{Capacity: q.o.capacity, RetryAfter: q.retryAfterLocked()}
	}
	_, err = q.db.ExecContext(ctx, `INSERT INTO export_jobs (id, kind, state, params, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, job.ID, kind, Queued, string(raw), now.UnixNano(), now.UnixNano())
	if err != nil {
		return Job{}, fmt.Errorf("jobs: enqueue: %w", err)
	}
	q.queued++
	q.signal()
	return job, nil
}

// retryAfterLocked estimates when a queue slot frees: the jobs ahead, shared
// by the workers, times the average run time, within [1s, 5m].
func (q *Queue) retryAfterLocked() time.Duration {
	d := q.avg * time.Duration(q.queued/q.o.workers+1)
	return min(max(d, time.Second), 5*time.Minute).Round(time.Second)
}

// newID returns a random job id that is also a valid export id.
func newID() string { return "job-" + strings.ToLower(rand.Text()) }

// signal leaves a wake-up token for one idle worker.
func (q *Queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// broadcastLocked wakes every Wait.
func (q *Queue) broadcastLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// ErrStarted is returned by Start on a started queue.
var ErrStarted = errors.New("jobs: queue already started")

// Start runs the workers. A stopped queue cannot be started again.
func (q *Queue) Start() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		return ErrStarted
	}
	if q.stopping {
		return errors.New("jobs: start after stop")
	}
	q.started = true
	for range q.o.workers {
		q.wg.Go(q.work)
	}
	q.signal()
	return nil
}

// Stop stops claiming jobs and waits for running jobs to finish. When ctx
// ends first, running jobs are interrupted (their context's cause is
// ErrShutdown) and queued again without counting the attempt; Stop then
// waits for their handlers to return and reports how many were
// interrupted. Queued jobs stay queued. Stop is idempotent.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	if q.stopping {
		q.mu.Unlock()
		q.wg.Wait()
		return nil
	}
	q.stopping = true
	close(q.stop)
	q.mu.Unlock()

	done := make(chan struct{})
	go func() {
		q.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		q.mu.Lock()
		n := len(q.running)
		for _, rj := range q.running {
			rj.cancel(ErrShutdown)
		}
		q.mu.Unlock()
		<-done
		if n > 0 {
			err = fmt.Errorf("jobs: %d running jobs interrupted at the stop deadline and queued again", n)
		}
	}
	q.cancel()
	return err
}

// work is one worker: it claims and runs jobs until Stop.
func (q *Queue) work() {
	for {
		select {
		case <-q.stop:
			return
		default:
		}
		job, rj, jctx, err := q.claim()
		switch {
		case err != nil:
			q.o.logger.Error("jobs: claim", "err", err)
			t := time.NewTimer(time.Second)
			select {
			case <-q.stop:
				t.Stop()
				return
			case <-t.C:
			}
			continue
		case rj == nil:
			select {
			case <-q.stop:
				return
			case <-q.wake:
			}
			continue
		}
		q.signal() // another worker may find more
		q.run(jctx, job, rj)
	}
}

// claim marks the oldest queued job running and registers it.
func (q *Queue) claim() (Job, *runningJob, context.Context, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopping {
		return Job{}, nil, nil, nil
	}
	now := q.o.now().UnixNano()
	row := q.db.QueryRowContext(q.baseCtx, `UPDATE export_jobs SET state = ?, attempt = attempt + 1,
		started_at = ?, updated_at = ?
		WHERE seq = (SELECT seq FROM export_jobs WHERE state = ? ORDER BY seq LIMIT 1)
		RETURNING `+jobColumns, Running, now, now, Queued)
	job, err := scanJob(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, nil, nil, nil
	}
	if err != nil {
		return Job{}, nil, nil, fmt.Errorf("jobs: claim: %w", err)
	}
	q.queued--
	jctx, cancel := context.WithCancelCause(q.baseCtx)
	rj := &runningJob{cancel: cancel, tracker: newTracker()}
	q.running[job.ID] = rj
	q.broadcastLocked()
	return job, rj, jctx, nil
}

// run runs the handler of job and stores the outcome.
func (q *Queue) run(jctx context.Context, job Job, rj *runningJob) {
	defer rj.cancel(nil)
	q.mu.Lock()
	h := q.handlers[job.Kind]
	q.mu.Unlock()

	ctx, cancel := context.WithTimeoutCause(jctx, q.o.timeout, ErrTimeout)
	var result any
	var err error
	if h == nil {
		err = fmt.Errorf("no handler for job kind %q", job.Kind)
	} else {
		result, err = q.call(ctx, h, job, rj.tracker)
	}
	cause := context.Cause(ctx)
	cancel()

	end := q.o.now()
	job.Progress = rj.tracker.Progress()
	job.Finished = end.UTC()
	switch {
	case err == nil:
		job.State, job.Result, err = Succeeded, nil, nil
		if raw, merr := json.Marshal(result); merr != nil {
			job.State, job.Error = Failed, fmt.Sprintf("encode result: %v", merr)
		} else {
			job.Result = raw
		}
	case errors.Is(cause, ErrShutdown):
		q.requeue(job)
		return
	case errors.Is(cause, ErrCancelled):
		job.State, job.Error = Cancelled, "cancelled while running"
	case errors.Is(cause, ErrTimeout):
		job.State, job.Error = Failed, fmt.Sprintf("timed out after %s: %v", q.o.timeout, err)
	default:
		job.State, job.Error = Failed, err.Error()
	}
	q.finish(job)
}

// call runs h, turning a panic into an error.
func (q *Queue) call(ctx context.Context, h Handler, job Job, t *Tracker) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			q.o.logger.Error("jobs: handler panicked", "job", job.ID, "panic", r, "stack", string(debug.Stack()))
			result, err = nil, fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return h(ctx, job, t)
}

func (q *Queue) finish(job Job) {
	q.o.logger.Debug("jobs: job finished", "job", job.ID, "kind", job.Kind, "status", job.State,
		"duration", job.Duration(), "error", job.Error)
	if q.o.observer != nil {
		q.o.observer(job) // before the outcome is visible, so readers of it see it observed
	}
	progress, _ := json.Marshal(job.Progress)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The lock makes the stored outcome and the in-memory counts change
	// together.
	q.mu.Lock()
	defer q.mu.Unlock()
	_, err := q.db.ExecContext(ctx, `UPDATE export_jobs SET state = ?, result = ?, error = ?, progress = ?,
		finished_at = ?, updated_at = ? WHERE id = ?`,
		job.State, string(job.Result), job.Error, string(progress), job.Finished.UnixNano(), job.Finished.UnixNano(), job.ID)
	if err != nil {
		// The job stays running in the database and is recovered by the
		// next Open.
		q.o.logger.Error("jobs: store job outcome", "job", job.ID, "status", job.State, "err", err)
	}
	delete(q.running, job.ID)
	if d := job.Duration(); d > 0 {
		q.avg = (4*q.avg + d) / 5
	}
	q.broadcastLocked()
}

// requeue puts a job interrupted by Stop back in the queue, not counting
// the attempt.
func (q *Queue) requeue(job Job) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := q.o.now().UnixNano()
	q.mu.Lock()
	defer q.mu.Unlock()
	_, err := q.db.ExecContext(ctx, `UPDATE export_jobs SET state = ?, attempt = attempt - 1, started_at = 0,
		progress = '', note = 'interrupted by a shutdown; queued again', updated_at = ? WHERE id = ?`,
		Queued, now, job.ID)
	if err != nil {
		q.o.logger.Error("jobs: queue interrupted job again", "job", job.ID, "err", err)
	}
	delete(q.running, job.ID)
	if err == nil {
		q.queued++
	}
	q.broadcastLocked()
}

// jobColumns are the columns scanJob reads, in order.
const jobColumns = `id, kind, state, params, result, error, note, progress, attempt, created_at, started_at, finished_at`

func scanJob(row interface{ Scan(...any) error }) (Job, error) {
	var j Job
	var params, result, progress string
	var created, started, finished int64
	if err := row.Scan(&j.ID, &j.Kind, &j.State, &params, &result, &j.Error, &j.Note, &progress, &j.Attempt,
		&created, &started, &finished); err != nil {
		return Job{}, err
	}
	if params != "" && params != "null" {
		j.Params = json.RawMessage(params)
	}
	if result != "" && result != "null" {
		j.Result = json.RawMessage(result)
	}
	if progress != "" {
		if err := json.Unmarshal([]byte(progress), &j.Progress); err != nil {
			return Job{}, fmt.Errorf("decode progress of %s: %w", j.ID, err)
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

// Get returns job id, with the live progress of a running job.
func (q *Queue) Get(ctx context.Context, id string) (Job, error) {
	job, err := scanJob(q.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM export_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return Job{}, fmt.Errorf("jobs: get %s: %w", id, err)
	}
	if job.State == Running {
		q.mu.Lock()
		rj := q.running[id]
		q.mu.Unlock()
		if rj != nil {
			job.Progress = rj.tracker.Progress()
		}
	}
	return job, nil
}

// Filter selects jobs for List.
type Filter struct {
	// State selects one state; empty selects all.
	State State
	// Limit bounds the result [100]; at most 1000.
	Limit int
}

// List returns jobs matching f, newest first, running jobs with their live
// progress.
func (q *Queue) List(ctx context.Context, f Filter) ([]Job, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	rows, err := q.db.QueryContext(ctx, `SELECT `+jobColumns+` FROM export_jobs
		WHERE ? = '' OR state = ? ORDER BY seq DESC LIMIT ?`, f.State, f.State, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("jobs: list: %w", err)
	}
	defer rows.Close()
	out := []Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("jobs: list: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: list: %w", err)
	}
	q.mu.Lock()
	for i := range out {
		if rj := q.running[out[i].ID]; rj != nil && out[i].State == Running {
			out[i].Progress = rj.tracker.Progress()
		}
	}
	q.mu.Unlock()
	return out, nil
}

// Cancel cancels job id. A queued job is cancelled at once; a running job's
// context is cancelled (cause ErrCancelled) and the job is marked cancelled
// when its handler returns, so the returned job may still be running. A
// finished job is returned with ErrFinished.
func (q *Queue) Cancel(ctx context.Context, id string) (Job, error) {
	q.mu.Lock()
	if rj, ok := q.running[id]; ok {
		rj.cancel(ErrCancelled)
		q.mu.Unlock()
		job, err := q.Get(ctx, id)
		if err == nil && job.State.Terminal() && job.State != Cancelled {
			err = ErrFinished // it finished before the cancellation took effect
		}
		return job, err
	}
	now := q.o.now().UnixNano()
	res, err := q.db.ExecContext(ctx, `UPDATE export_jobs SET state = ?, error = 'cancelled before it started',
		finished_at = ?, updated_at = ? WHERE id = ? AND state = ?`, Cancelled, now, now, id, Queued)
	if err != nil {
		q.mu.Unlock()
		return Job{}, fmt.Errorf("jobs: cancel %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	if n == 1 {
		q.queued--
		q.broadcastLocked()
	}
	q.mu.Unlock()
	job, err := q.Get(ctx, id)
	if err != nil {
		return Job{}, err
	}
	if n == 1 {
		if q.o.observer != nil {
			q.o.observer(job)
		}
		return job, nil
	}
	if job.State.Terminal() {
		return job, ErrFinished
	}
	return job, nil
}

// Wait blocks until job id is finished or ctx ends, and returns the job.
func (q *Queue) Wait(ctx context.Context, id string) (Job, error) {
	for {
		q.mu.Lock()
		changed := q.changed
		q.mu.Unlock()
		job, err := q.Get(ctx, id)
		if err != nil || job.State.Terminal() {
			return job, err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return job, ctx.Err()
		}
	}
}

// Counts returns how many jobs are in each state.
func (q *Queue) Counts(ctx context.Context) (map[State]int, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM export_jobs GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("jobs: count: %w", err)
	}
	defer rows.Close()
	out := make(map[State]int, len(States))
	for _, s := range States {
		out[s] = 0
	}
	for rows.Next() {
		var s State
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("jobs: count: %w", err)
		}
		out[s] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: count: %w", err)
	}
	return out, nil
}

// Stats is a point-in-time view of the queue in memory.
type Stats struct {
	Queued, Running, Capacity, Workers int
}

// Stats returns the queue's in-memory counts; unlike Counts it does not
// touch the database.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return Stats{Queued: q.queued, Running: len(q.running), Capacity: q.o.capacity, Workers: q.o.workers}
}

// Prune deletes finished jobs beyond the newest keep and finished jobs older
// than maxAge, and returns how many it deleted. A zero keep or maxAge
// disables that rule.
func (q *Queue) Prune(ctx context.Context, keep int, maxAge time.Duration) (int, error) {
	limit := -1 // SQLite: no limit
	if keep > 0 {
		limit = keep
	}
	var cutoff int64
	if maxAge > 0 {
		cutoff = q.o.now().Add(-maxAge).UnixNano()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	res, err := q.db.ExecContext(ctx, `DELETE FROM export_jobs WHERE state IN (?, ?, ?) AND (finished_at < ?
		OR seq NOT IN (SELECT seq FROM export_jobs WHERE state IN (?, ?, ?) ORDER BY seq DESC LIMIT ?))`,
		Succeeded, Failed, Cancelled, cutoff, Succeeded, Failed, Cancelled, limit)
	if err != nil {
		return 0, fmt.Errorf("jobs: prune: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
