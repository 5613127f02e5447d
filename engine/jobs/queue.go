package jobs

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
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
	table     Table
	o         options
	recovered Recovery

	// mu orders the queue's writes and guards the fields below; it is held
	// across the Table's writes, so it may wait on the database. Readers
	// of the counts and of the running jobs take only c.
	mu       sync.Mutex
	handlers map[string]Handler
	started  bool
	stopping bool
	avg      time.Duration   // moving average of job run times
	changed  chan struct{}   // closed and replaced when a job changes state
	stop     chan struct{}   // closed by Stop
	baseCtx  context.Context // parent of every job's context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	wake chan struct{} // a token: some job may be waiting

	c counters
}

// counters are the queue's counts and its running jobs. Their lock is
// never held across a call to the Table, so reading them (Stats, and
// through it /metrics; the live progress of Get and List) does not wait on
// the database. They change under Queue.mu too, right after the write they
// reflect, so they move in the order of the stored changes.
type counters struct {
	mu      sync.Mutex
	byState map[State]int          // stored jobs per state
	running map[string]*runningJob // jobs this process runs
}

// move records that n jobs went from state from to state to; an empty
// state is none (a new or deleted job).
func (c *counters) move(from, to State, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if from != "" {
		c.byState[from] -= n
	}
	if to != "" {
		c.byState[to] += n
	}
}

// start records that this process runs job id, which the table now holds
// as running.
func (c *counters) start(id string, rj *runningJob) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byState[Queued]--
	c.byState[Running]++
	c.running[id] = rj
}

// end records that this process no longer runs job id, whose stored state
// went from running to state (an empty state: the write failed and the
// job stays running in the table).
func (c *counters) end(id string, state State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if state != "" {
		c.byState[Running]--
		c.byState[state]++
	}
	delete(c.running, id)
}

// job returns the running job id, or nil.
func (c *counters) job(id string) *runningJob {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running[id]
}

func (c *counters) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byState[Queued]
}

type runningJob struct {
	cancel  context.CancelCauseFunc
	tracker *Tracker
}

// Open recovers the jobs of table that a previous process left running,
// counts the stored jobs and returns a Queue. The caller keeps ownership of
// table and must keep it usable until Stop has returned.
func Open(ctx context.Context, table Table, opts ...Option) (*Queue, error) {
	o := options{workers: DefaultWorkers, capacity: DefaultCapacity, maxAttempts: DefaultMaxAttempts,
		timeout: DefaultTimeout, now: time.Now, logger: slog.Default()}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.workers < 1 || o.capacity < 1 || o.maxAttempts < 1 || o.timeout <= 0 {
		return nil, fmt.Errorf("jobs: workers %d, capacity %d, max attempts %d and timeout %s must be positive",
			o.workers, o.capacity, o.maxAttempts, o.timeout)
	}
	if table == nil {
		return nil, errors.New("jobs: nil table")
	}
	q := &Queue{table: table, o: o, handlers: map[string]Handler{},
		avg: time.Second, changed: make(chan struct{}), stop: make(chan struct{}), wake: make(chan struct{}, 1)}
	q.baseCtx, q.cancel = context.WithCancel(context.Background())
	if err := q.recover(ctx); err != nil {
		q.cancel()
		return nil, err
	}
	counts, err := table.Counts(ctx)
	if err != nil {
		q.cancel()
		return nil, fmt.Errorf("jobs: count stored jobs: %w", err)
	}
	q.c.byState = make(map[State]int, len(States))
	q.c.running = map[string]*runningJob{}
	for _, s := range States {
		q.c.byState[s] = counts[s]
	}
	return q, nil
}

// recover queues again, or fails, the jobs left running.
func (q *Queue) recover(ctx context.Context) error {
	rec, err := q.table.Recover(ctx, q.o.maxAttempts, q.o.now())
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	q.recovered = rec
	if rec.Requeued+rec.Failed > 0 {
		q.o.logger.Warn("jobs: recovered jobs interrupted by a stopped process", "requeued", rec.Requeued, "failed", rec.Failed)
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
	if n := q.c.queued(); n >= q.o.capacity {
		return Job{}, &FullError{Capacity: q.o.capacity, RetryAfter: q.retryAfterLocked(n)}
	}
	if err := q.table.Insert(ctx, job); err != nil {
		return Job{}, fmt.Errorf("jobs: enqueue: %w", err)
	}
	q.c.move("", Queued, 1)
	q.signal()
	return job, nil
}

// retryAfterLocked estimates when a queue slot frees: the queued jobs
// ahead, shared by the workers, times the average run time, within
// [1s, 5m].
func (q *Queue) retryAfterLocked(queued int) time.Duration {
	d := q.avg * time.Duration(queued/q.o.workers+1)
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
		q.c.mu.Lock()
		n := len(q.c.running)
		for _, rj := range q.c.running {
			rj.cancel(ErrShutdown)
		}
		q.c.mu.Unlock()
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
	job, ok, err := q.table.Claim(q.baseCtx, q.o.now())
	if err != nil {
		return Job{}, nil, nil, fmt.Errorf("jobs: claim: %w", err)
	}
	if !ok {
		return Job{}, nil, nil, nil
	}

	jctx, cancel := context.WithCancelCause(q.baseCtx)
	rj := &runningJob{cancel: cancel, tracker: newTracker()}
	q.c.start(job.ID, rj)
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The lock orders the stored outcome with the queue's other writes,
	// and the counts after them.
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.table.Finish(ctx, job); err != nil {
		// The job stays running in the database and is recovered by the
		// next Open.
		q.o.logger.Error("jobs: store job outcome", "job", job.ID, "status", job.State, "err", err)
		q.c.end(job.ID, "")
	} else {
		q.c.end(job.ID, job.State)
	}
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
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.table.Requeue(ctx, job.ID, "interrupted by a shutdown; queued again", q.o.now()); err != nil {
		q.o.logger.Error("jobs: queue interrupted job again", "job", job.ID, "err", err)
		q.c.end(job.ID, "")
	} else {
		q.c.end(job.ID, Queued)
	}
	q.broadcastLocked()
}

// Get returns job id, with the live progress of a running job.
func (q *Queue) Get(ctx context.Context, id string) (Job, error) {
	job, err := q.table.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Job{}, err
	}
	if err != nil {
		return Job{}, fmt.Errorf("jobs: get %s: %w", id, err)
	}
	if job.State == Running {
		if rj := q.c.job(id); rj != nil {
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
	out, err := q.table.List(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("jobs: list: %w", err)
	}
	if out == nil {
		out = []Job{}
	}
	for i := range out {
		if out[i].State != Running {
			continue
		}
		if rj := q.c.job(out[i].ID); rj != nil {
			out[i].Progress = rj.tracker.Progress()
		}
	}
	return out, nil
}

// Cancel cancels job id. A queued job is cancelled at once; a running job's
// context is cancelled (cause ErrCancelled) and the job is marked cancelled
// when its handler returns, so the returned job may still be running. A
// finished job is returned with ErrFinished.
func (q *Queue) Cancel(ctx context.Context, id string) (Job, error) {
	q.mu.Lock()
	if rj := q.c.job(id); rj != nil {
		rj.cancel(ErrCancelled)
		q.mu.Unlock()
		job, err := q.Get(ctx, id)
		if err == nil && job.State.Terminal() && job.State != Cancelled {
			err = ErrFinished // it finished before the cancellation took effect
		}
		return job, err
	}
	cancelled, err := q.table.CancelQueued(ctx, id, "cancelled before it started", q.o.now())
	if err != nil {
		q.mu.Unlock()
		return Job{}, fmt.Errorf("jobs: cancel %s: %w", id, err)
	}
	if cancelled {
		q.c.move(Queued, Cancelled, 1)
		q.broadcastLocked()
	}
	q.mu.Unlock()
	job, err := q.Get(ctx, id)
	if err != nil {
		return Job{}, err
	}
	if cancelled {
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
		if err != nil {
			return job, err
		}
		if job.State.Terminal() {
			// The outcome is stored under q.mu and counted before it is
			// released: once past it, Stats counts the job as finished.
			q.mu.Lock()
			//lint:ignore SA2001 an empty critical section is the barrier
			q.mu.Unlock()
			return job, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return job, ctx.Err()
		}
	}
}

// Stats is a point-in-time view of the queue's counts.
type Stats struct {
	// Queued counts the jobs waiting; Running the jobs this process runs.
	Queued, Running int
	// Capacity and Workers are the queue's bounds.
	Capacity, Workers int
	// Jobs counts the stored jobs in each state, every state present.
	Jobs map[State]int
}

// Stats returns the queue's counts. It reads them from memory, where they
// change with every state change the queue stores, and never waits on the
// database or on the queue's writes: /metrics can read it at any time.
func (q *Queue) Stats() Stats {
	q.c.mu.Lock()
	defer q.c.mu.Unlock()
	return Stats{Queued: q.c.byState[Queued], Running: len(q.c.running), Capacity: q.o.capacity, Workers: q.o.workers,
		Jobs: maps.Clone(q.c.byState)}
}

// Prune deletes finished jobs beyond the newest keep and finished jobs older
// than maxAge, and returns how many it deleted. A zero keep or maxAge
// disables that rule.
func (q *Queue) Prune(ctx context.Context, keep int, maxAge time.Duration) (int, error) {
	var cutoff time.Time
	if maxAge > 0 {
		cutoff = q.o.now().Add(-maxAge)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	deleted, err := q.table.Prune(ctx, keep, cutoff)
	if err != nil {
		return 0, fmt.Errorf("jobs: prune: %w", err)
	}
	n := 0
	for s, k := range deleted {
		q.c.move(s, "", k)
		n += k
	}
	return n, nil
}
