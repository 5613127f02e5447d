package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/jobs"
)

// stalledTable is a table whose Insert waits for release, as a write
// waits on a busy database.
type stalledTable struct {
	jobs.Table // the methods the test does not reach
	inserting  chan struct{}
	release    chan struct{}
}

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
	table := stalledTable{inserting: make(chan struct{}), release: make(chan struct{})}
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
