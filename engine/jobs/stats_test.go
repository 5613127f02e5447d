package jobs_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/jobs"
)

// stalledTable is a table whose Insert waits for release, as a write
// waits on a busy database. It holds one job, "job-1", which the first
// Claim starts.
type stalledTable struct {
	jobs.Table // the methods the tests do not reach
	inserting  chan struct{}
	release    chan struct{}
	claimed    *atomic.Bool
}

func newStalledTable() stalledTable {
	return stalledTable{inserting: make(chan struct{}), release: make(chan struct{}), claimed: new(atomic.Bool)}
}

func (t stalledTable) Claim(context.Context, time.Time) (jobs.Job, bool, error) {
	if t.claimed.Swap(true) {
		return jobs.Job{}, false, nil
	}
	return jobs.Job{ID: "job-1", Kind: "k", State: jobs.Running}, true, nil
}

func (t stalledTable) Get(_ context.Context, id string) (jobs.Job, error) {
	return jobs.Job{ID: id, Kind: "k", State: jobs.Running}, nil
}

func (stalledTable) Finish(context.Context, jobs.Job) error { return nil }

func (stalledTable) Recover(context.Context, int, time.Time) (jobs.Recovery, error) {
	return jobs.Recovery{}, nil
}

func (stalledTable) Counts(context.Context) (map[jobs.State]int, error) {
	return map[jobs.State]int{jobs.Succeeded: 2}, nil
}

func (t stalledTable) Insert(ctx context.Context, _ jobs.Job) error {
	close(t.inserting)
	select {
	case <-t.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestStatsDoNotWaitOnTheTable(t *testing.T) {
	table := newStalledTable()
	q, err := jobs.Open(t.Context(), table, jobs.WithLogger(quiet))
	require.NoError(t, err)
	defer q.Stop(context.Background()) //nolint:errcheck

	enqueued := make(chan error, 1)
	go func() {
		_, err := q.Enqueue(context.Background(), "k", nil)
		enqueued <- err
	}()
	<-table.inserting

	// Stats answers while the write waits; it would wait for release if
	// it took the lock the write holds.
	stats := make(chan jobs.Stats, 1)
	go func() { stats <- q.Stats() }()
	var st jobs.Stats
	select {
	case st = <-stats:
	case <-time.After(30 * time.Second):
		close(table.release)
		t.Fatal("Stats waited on the table's write")
	}
	want := map[jobs.State]int{jobs.Queued: 0, jobs.Running: 0, jobs.Succeeded: 2, jobs.Failed: 0, jobs.Cancelled: 0}
	require.Equal(t, jobs.Stats{Capacity: jobs.DefaultCapacity, Workers: jobs.DefaultWorkers, Jobs: want}, st)

	close(table.release)
	require.NoError(t, <-enqueued)
	want[jobs.Queued] = 1
	require.Equal(t, jobs.Stats{Queued: 1, Capacity: jobs.DefaultCapacity, Workers: jobs.DefaultWorkers, Jobs: want}, q.Stats())
}

func TestLiveProgressDoesNotWaitOnTheTable(t *testing.T) {
	table := newStalledTable()
	q, err := jobs.Open(t.Context(), table, jobs.WithLogger(quiet), jobs.WithWorkers(1))
	require.NoError(t, err)
	defer q.Stop(context.Background()) //nolint:errcheck
	started, done := make(chan struct{}), make(chan struct{})
	q.Handle("k", func(_ context.Context, _ jobs.Job, tr *jobs.Tracker) (any, error) {
		tr.Init("AAPL")
		tr.Set("AAPL", jobs.ItemDone, "")
		close(started)
		<-done
		return nil, nil
	})
	require.NoError(t, q.Start())
	<-started
	enqueued := make(chan error, 1)
	go func() {
		_, err := q.Enqueue(context.Background(), "k", nil)
		enqueued <- err
	}()
	<-table.inserting

	got := make(chan jobs.Job, 1)
	go func() {
		j, err := q.Get(context.Background(), "job-1")
		assert.NoError(t, err)
		got <- j
	}()
	select {
	case j := <-got:
		require.Equal(t, 1, j.Progress.Done, "the live progress of the running job")
	case <-time.After(30 * time.Second):
		close(table.release)
		close(done)
		t.Fatal("Get waited on the table's write")
	}
	close(table.release)
	require.NoError(t, <-enqueued)
	close(done)
}
