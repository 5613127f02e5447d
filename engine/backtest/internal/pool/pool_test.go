package pool

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestWorkers(t *testing.T) {
	tests := []struct {
		name            string
		requested, jobs int
		want            int
	}{
		{name: "as asked", requested: 3, jobs: 10, want: 3},
		{name: "no more than jobs", requested: 8, jobs: 2, want: 2},
		{name: "at least one", requested: 4, jobs: 0, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, Workers(tt.requested, tt.jobs))
		})
	}
	require.GreaterOrEqual(t, Workers(0, 1000), 1)
}

func TestRunDoesEveryJobOnce(t *testing.T) {
	const jobs = 1000
	var seen [jobs]atomic.Int32
	var badWorker atomic.Bool
	err := Run(t.Context(), 4, jobs, func(worker, j int) {
		if worker < 0 || worker >= 4 {
			badWorker.Store(true)
		}
		seen[j].Add(1)
	})
	require.NoError(t, err)
	require.False(t, badWorker.Load(), "worker index out of [0, 4)")
	for j := range seen {
		require.Equal(t, int32(1), seen[j].Load(), "job %d", j)
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var ran, startedAfter atomic.Int32
	var cancelled atomic.Bool
	err := Run(ctx, 2, 1000, func(_, j int) {
		if cancelled.Load() {
			startedAfter.Add(1)
		}
		if ran.Add(1) == 10 {
			cancel()
			cancelled.Store(true)
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	// Once cancel has returned, the other worker starts at most the one job
	// it had already claimed; while cancel runs it may still take a few.
	// (A descheduled cancelling worker can even let the other run every
	// remaining job, so the total is not bounded.)
	require.LessOrEqual(t, startedAfter.Load(), int32(1))
}
