package jobs_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/engine/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// openDB opens the engine's store at path: the queue's jobs live in its
// table export_jobs.
func openDB(t testing.TB, path string) *store.Store {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

var quiet = slog.New(slog.DiscardHandler)

func newDB(t *testing.T) (*store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jobs.db")
	return openDB(t, path), path
}

func open(t *testing.T, db *store.Store, opts ...jobs.Option) *jobs.Queue {
	t.Helper()
	q, err := jobs.Open(t.Context(), db.Jobs(), append([]jobs.Option{jobs.WithLogger(quiet)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	return q
}

type params struct {
	Symbols []string `json:"symbols"`
}

func waitJob(t *testing.T, q *jobs.Queue, id string) jobs.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	j, err := q.Wait(ctx, id)
	require.NoError(t, err)
	return j
}

func TestJobOutcomes(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		kind      string
		handler   jobs.Handler
		wantState jobs.State
		wantErr   string
		want      string // result JSON
	}{
		{name: "success", kind: "k", handler: func(_ context.Context, job jobs.Job, tr *jobs.Tracker) (any, error) {
			var p params
			if err := json.Unmarshal(job.Params, &p); err != nil {
				return nil, err
			}
			tr.Init(p.Symbols...)
			for _, s := range p.Symbols {
				tr.Set(s, jobs.ItemDone, "")
			}
			return map[string]int{"symbols": len(p.Symbols)}, nil
		}, wantState: jobs.Succeeded, want: `{"symbols":2}`},
		{name: "error", kind: "k", handler: func(context.Context, jobs.Job, *jobs.Tracker) (any, error) { return nil, boom },
			wantState: jobs.Failed, wantErr: "boom"},
		{name: "panic", kind: "k", handler: func(context.Context, jobs.Job, *jobs.Tracker) (any, error) { panic("bad") },
			wantState: jobs.Failed, wantErr: "handler panicked: bad"},
		{name: "unknown kind", kind: "other", handler: func(context.Context, jobs.Job, *jobs.Tracker) (any, error) { return nil, nil },
			wantState: jobs.Failed, wantErr: `no handler for job kind "other"`},
		{name: "unencodable result", kind: "k", handler: func(context.Context, jobs.Job, *jobs.Tracker) (any, error) { return func() {}, nil },
			wantState: jobs.Failed, wantErr: "encode result"},
		{name: "timeout", kind: "k", handler: func(ctx context.Context, _ jobs.Job, _ *jobs.Tracker) (any, error) {
			<-ctx.Done()
			return nil, context.Cause(ctx)
		}, wantState: jobs.Failed, wantErr: "timed out after 50ms: jobs: job timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := newDB(t)
			var observed atomic.Pointer[jobs.Job]
			q := open(t, db, jobs.WithTimeout(50*time.Millisecond), jobs.WithObserver(func(j jobs.Job) { observed.Store(&j) }))
			q.Handle("k", tt.handler)
			require.NoError(t, q.Start())
			queued, err := q.Enqueue(t.Context(), tt.kind, params{Symbols: []string{"AAPL", "SPY"}})
			require.NoError(t, err)
			require.Equal(t, jobs.Queued, queued.State)
			require.JSONEq(t, `{"symbols":["AAPL","SPY"]}`, string(queued.Params))

			j := waitJob(t, q, queued.ID)
			require.Equal(t, tt.wantState, j.State)
			require.Contains(t, j.Error, tt.wantErr)
			if tt.want != "" {
				require.JSONEq(t, tt.want, string(j.Result))
			}
			require.Equal(t, 1, j.Attempt)
			require.False(t, j.Started.IsZero())
			require.False(t, j.Finished.IsZero())
			require.GreaterOrEqual(t, j.Duration(), time.Duration(0))
			require.Equal(t, j.ID, observed.Load().ID)
			want := map[jobs.State]int{jobs.Queued: 0, jobs.Running: 0, jobs.Succeeded: 0, jobs.Failed: 0, jobs.Cancelled: 0}
			want[tt.wantState] = 1
			require.Equal(t, jobs.Stats{Capacity: jobs.DefaultCapacity, Workers: jobs.DefaultWorkers, Jobs: want}, q.Stats(),
				"the counts have changed when Wait returns")
		})
	}
}

func TestProgressIsLiveAndStored(t *testing.T) {
	db, _ := newDB(t)
	q := open(t, db)
	step := make(chan struct{})
	q.Handle("k", func(ctx context.Context, _ jobs.Job, tr *jobs.Tracker) (any, error) {
		tr.Init("AAPL", "SPY")
		tr.Set("AAPL", jobs.ItemDone, "252 bars")
		tr.Set("SPY", jobs.ItemFailed, "no data")
		select {
		case <-step:
		case <-ctx.Done():
		}
		return nil, nil
	})
	require.NoError(t, q.Start())
	job, err := q.Enqueue(t.Context(), "k", nil)
	require.NoError(t, err)
	want := jobs.Progress{Total: 2, Done: 1, Failed: 1, Items: []jobs.Item{
		{Name: "AAPL", State: jobs.ItemDone, Detail: "252 bars"}, {Name: "SPY", State: jobs.ItemFailed, Detail: "no data"}}}
	// Live progress appears while the job runs, in Get and List.
	for {
		j, err := q.Get(t.Context(), job.ID)
		require.NoError(t, err)
		if j.State == jobs.Running && j.Progress.Failed == 1 {
			require.Equal(t, want, j.Progress)
			break
		}
		time.Sleep(time.Millisecond)
	}
	list, err := q.List(t.Context(), jobs.Filter{State: jobs.Running})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, want, list[0].Progress)
	close(step)
	j := waitJob(t, q, job.ID)
	require.Equal(t, jobs.Succeeded, j.State)
	require.Equal(t, want, j.Progress)
}

func TestFullQueue(t *testing.T) {
	db, _ := newDB(t)
	q := open(t, db, jobs.WithCapacity(2), jobs.WithWorkers(1))
	for range 2 {
		_, err := q.Enqueue(t.Context(), "k", nil)
		require.NoError(t, err)
	}
	_, err := q.Enqueue(t.Context(), "k", nil)
	require.ErrorIs(t, err, jobs.ErrQueueFull)
	var full *jobs.FullError
	require.ErrorAs(t, err, &full)
	require.Equal(t, 2, full.Capacity)
	require.GreaterOrEqual(t, full.RetryAfter, time.Second)

	// Cancelling a queued job frees its slot.
	jobs, err := q.List(t.Context(), jobs.Filter{State: jobs.Queued})
	require.NoError(t, err)
	_, err = q.Cancel(t.Context(), jobs[0].ID)
	require.NoError(t, err)
	_, err = q.Enqueue(t.Context(), "k", nil)
	require.NoError(t, err)
}

func TestCancel(t *testing.T) {
	db, _ := newDB(t)
	var observed atomic.Int32
	q := open(t, db, jobs.WithWorkers(1), jobs.WithObserver(func(jobs.Job) { observed.Add(1) }))
	started := make(chan string, 1)
	q.Handle("block", func(ctx context.Context, job jobs.Job, _ *jobs.Tracker) (any, error) {
		started <- job.ID
		<-ctx.Done()
		return nil, context.Cause(ctx)
	})
	q.Handle("quick", func(context.Context, jobs.Job, *jobs.Tracker) (any, error) { return "ok", nil })

	// Queued: cancelled at once.
	queued, err := q.Enqueue(t.Context(), "quick", nil)
	require.NoError(t, err)
	j, err := q.Cancel(t.Context(), queued.ID)
	require.NoError(t, err)
	require.Equal(t, jobs.Cancelled, j.State)
	require.Equal(t, "cancelled before it started", j.Error)

	require.NoError(t, q.Start())
	running, err := q.Enqueue(t.Context(), "block", nil)
	require.NoError(t, err)
	require.Equal(t, running.ID, <-started)
	j, err = q.Cancel(t.Context(), running.ID)
	require.NoError(t, err)
	require.Contains(t, []jobs.State{jobs.Running, jobs.Cancelled}, j.State)
	j = waitJob(t, q, running.ID)
	require.Equal(t, jobs.Cancelled, j.State)
	require.Equal(t, "cancelled while running", j.Error)

	_, err = q.Cancel(t.Context(), running.ID)
	require.ErrorIs(t, err, jobs.ErrFinished)
	_, err = q.Cancel(t.Context(), "job-nope")
	require.ErrorIs(t, err, jobs.ErrNotFound)
	_, err = q.Get(t.Context(), "job-nope")
	require.ErrorIs(t, err, jobs.ErrNotFound)
	require.Equal(t, int32(2), observed.Load())
}

func TestWorkersBoundConcurrency(t *testing.T) {
	db, _ := newDB(t)
	q := open(t, db, jobs.WithWorkers(2))
	var cur, peak atomic.Int32
	q.Handle("k", func(context.Context, jobs.Job, *jobs.Tracker) (any, error) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		cur.Add(-1)
		return nil, nil
	})
	var ids []string
	for range 8 {
		j, err := q.Enqueue(t.Context(), "k", nil)
		require.NoError(t, err)
		ids = append(ids, j.ID)
	}
	require.NoError(t, q.Start())
	require.ErrorIs(t, q.Start(), jobs.ErrStarted)
	for _, id := range ids {
		require.Equal(t, jobs.Succeeded, waitJob(t, q, id).State)
	}
	require.LessOrEqual(t, peak.Load(), int32(2))
	require.Equal(t, map[jobs.State]int{jobs.Queued: 0, jobs.Running: 0, jobs.Succeeded: 8, jobs.Failed: 0, jobs.Cancelled: 0}, q.Stats().Jobs)
}

func TestStopLetsRunningJobsFinish(t *testing.T) {
	db, _ := newDB(t)
	q, err := jobs.Open(t.Context(), db.Jobs(), jobs.WithWorkers(1), jobs.WithLogger(quiet))
	require.NoError(t, err)
	started, release := make(chan struct{}), make(chan struct{})
	q.Handle("k", func(context.Context, jobs.Job, *jobs.Tracker) (any, error) {
		close(started)
		<-release
		return "done", nil
	})
	require.NoError(t, q.Start())
	running, err := q.Enqueue(t.Context(), "k", nil)
	require.NoError(t, err)
	<-started
	waiting, err := q.Enqueue(t.Context(), "k", nil)
	require.NoError(t, err)

	stopped := make(chan error)
	go func() { stopped <- q.Stop(context.Background()) }()
	for !stopping(q) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	require.NoError(t, <-stopped)
	require.NoError(t, q.Stop(context.Background()), "idempotent")

	j, err := q.Get(t.Context(), running.ID)
	require.NoError(t, err)
	require.Equal(t, jobs.Succeeded, j.State)
	j, err = q.Get(t.Context(), waiting.ID)
	require.NoError(t, err)
	require.Equal(t, jobs.Queued, j.State, "jobs not started stay queued")
	require.Error(t, q.Start(), "no start after stop")
}

func stopping(q *jobs.Queue) bool { return jobs.Stopping(q) }

func TestStopDeadlineRequeuesRunningJobs(t *testing.T) {
	db, _ := newDB(t)
	q, err := jobs.Open(t.Context(), db.Jobs(), jobs.WithWorkers(2), jobs.WithLogger(quiet))
	require.NoError(t, err)
	started := make(chan struct{}, 2)
	block := func(ctx context.Context, _ jobs.Job, tr *jobs.Tracker) (any, error) {
		tr.Init("AAPL")
		started <- struct{}{}
		<-ctx.Done()
		return nil, context.Cause(ctx)
	}
	q.Handle("k", block)
	require.NoError(t, q.Start())
	var ids []string
	for range 3 {
		j, err := q.Enqueue(t.Context(), "k", nil)
		require.NoError(t, err)
		ids = append(ids, j.ID)
	}
	<-started
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the deadline has passed
	err = q.Stop(ctx)
	require.ErrorContains(t, err, "2 running jobs interrupted")
	for _, id := range ids {
		j, err := q.Get(t.Context(), id)
		require.NoError(t, err)
		require.Equal(t, jobs.Queued, j.State)
		require.Equal(t, 0, j.Attempt, "a shutdown does not count as an attempt")
	}

	// The next process runs them.
	q2 := open(t, db)
	require.Equal(t, jobs.Recovery{}, q2.Recovered())
	q2.Handle("k", func(context.Context, jobs.Job, *jobs.Tracker) (any, error) { return nil, nil })
	require.NoError(t, q2.Start())
	for _, id := range ids {
		j := waitJob(t, q2, id)
		require.Equal(t, jobs.Succeeded, j.State)
		require.Equal(t, 1, j.Attempt)
	}
}

func TestRecoveryOfJobsLeftRunning(t *testing.T) {
	db, path := newDB(t)
	q := open(t, db, jobs.WithMaxAttempts(2))
	var ids []string
	for range 2 {
		j, err := q.Enqueue(t.Context(), "k", nil)
		require.NoError(t, err)
		ids = append(ids, j.ID)
	}
	// A process claimed both and died: one on its first attempt, one on
	// its second.
	raw, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer raw.Close()
	_, err = raw.Exec(`UPDATE export_jobs SET state = 'running', attempt = 1, started_at = 1 WHERE id = ?`, ids[0])
	require.NoError(t, err)
	_, err = raw.Exec(`UPDATE export_jobs SET state = 'running', attempt = 2, started_at = 1 WHERE id = ?`, ids[1])
	require.NoError(t, err)

	db2 := openDB(t, path)
	q2 := open(t, db2, jobs.WithMaxAttempts(2))
	require.Equal(t, jobs.Recovery{Requeued: 1, Failed: 1}, q2.Recovered())
	resumed, err := q2.Get(t.Context(), ids[0])
	require.NoError(t, err)
	require.Equal(t, jobs.Queued, resumed.State)
	require.Equal(t, "resumed: the process stopped while the job was running (attempt 1 of 2)", resumed.Note)
	failed, err := q2.Get(t.Context(), ids[1])
	require.NoError(t, err)
	require.Equal(t, jobs.Failed, failed.State)
	require.Equal(t, "interrupted: the process stopped while the job was running (attempt 2 of 2); no attempts left", failed.Error)
	require.False(t, failed.Finished.IsZero())
	require.Equal(t, 1, q2.Stats().Queued)

	q2.Handle("k", func(context.Context, jobs.Job, *jobs.Tracker) (any, error) { return nil, nil })
	require.NoError(t, q2.Start())
	j := waitJob(t, q2, ids[0])
	require.Equal(t, jobs.Succeeded, j.State)
	require.Equal(t, 2, j.Attempt)
}

func TestListFilterAndPrune(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	advance := func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(d)
	}
	db, _ := newDB(t)
	q := open(t, db, jobs.WithClock(clock))
	q.Handle("k", func(_ context.Context, job jobs.Job, _ *jobs.Tracker) (any, error) {
		if string(job.Params) == `"fail"` {
			return nil, errors.New("no")
		}
		return nil, nil
	})
	require.NoError(t, q.Start())
	var ids []string
	for i := range 5 {
		p := "ok"
		if i%2 == 1 {
			p = "fail"
		}
		j, err := q.Enqueue(t.Context(), "k", p)
		require.NoError(t, err)
		waitJob(t, q, j.ID)
		ids = append(ids, j.ID)
		advance(time.Hour)
	}
	require.NoError(t, q.Stop(t.Context()))
	pending, err := q.Enqueue(t.Context(), "k", nil)
	require.NoError(t, err)
	_, err = q.Cancel(t.Context(), pending.ID)
	require.NoError(t, err)

	tests := []struct {
		filter jobs.Filter
		want   []string
	}{
		{filter: jobs.Filter{}, want: []string{pending.ID, ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{filter: jobs.Filter{State: jobs.Failed}, want: []string{ids[3], ids[1]}},
		{filter: jobs.Filter{State: jobs.Succeeded, Limit: 2}, want: []string{ids[4], ids[2]}},
		{filter: jobs.Filter{State: jobs.Running}, want: nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.filter), func(t *testing.T) {
			list, err := q.List(t.Context(), tt.filter)
			require.NoError(t, err)
			var got []string
			for _, j := range list {
				got = append(got, j.ID)
			}
			require.Equal(t, tt.want, got)
		})
	}

	n, err := q.Prune(t.Context(), 0, 0)
	require.NoError(t, err)
	require.Zero(t, n)
	// now is 5h after the first job finished: ages 5h..1h, pending 0h.
	n, err = q.Prune(t.Context(), 0, 150*time.Minute)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, err = q.Prune(t.Context(), 2, 0)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	list, err := q.List(t.Context(), jobs.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, pending.ID, list[0].ID)
}

func TestParseState(t *testing.T) {
	for _, s := range jobs.States {
		got, err := jobs.ParseState(string(s))
		require.NoError(t, err)
		require.Equal(t, s, got)
	}
	_, err := jobs.ParseState("done")
	require.Error(t, err)
	require.True(t, jobs.Cancelled.Terminal())
	require.False(t, jobs.Running.Terminal())
}

func TestOpenRejectsBadOptions(t *testing.T) {
	db, _ := newDB(t)
	for _, opt := range []jobs.Option{jobs.WithWorkers(0), jobs.WithCapacity(0), jobs.WithMaxAttempts(0), jobs.WithTimeout(0)} {
		_, err := jobs.Open(t.Context(), db.Jobs(), opt)
		require.Error(t, err)
	}
}
