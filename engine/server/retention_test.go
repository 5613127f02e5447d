package server

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/jobs"
)

// testClock is a wall clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestRetentionLoopPrunesByCountAndAge runs the server's retention loop
// over finished export jobs and proves it keeps at most KeepExports
// bundles and KeepJobs finished jobs, and then removes those older than
// ExportMaxAge and JobMaxAge.
func TestRetentionLoopPrunesByCountAndAge(t *testing.T) {
	clock := &testClock{t: time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)}
	s := testServer(t, &fakeMD{}, func(c *testConfig, d *testDeps) {
		c.Workers = 1
		c.KeepExports, c.ExportMaxAge = 2, time.Hour
		c.KeepJobs, c.JobMaxAge = 3, 2*time.Hour
		c.RetentionInterval = 5 * time.Millisecond
		d.Clock = clock.now
	})
	serve(t, s)

	// Four jobs, ten minutes apart.
	var ids []string
	for range 4 {
		j := trigger(t, s.Handler(), map[string]any{"symbols": []string{"AAPL"}, "formats": []string{"csv"}})
		require.Equal(t, jobs.Succeeded, waitJob(t, s, j.ID).State)
		ids = append(ids, j.ID)
		clock.add(10 * time.Minute)
	}
	// By count: the newest two bundles and the newest three jobs remain.
	awaitRetained(t, s, ids[2:], ids[1:])

	// By age: now is 2h15m after the first job. Every bundle is older than
	// an hour; the jobs of 2h15m and 2h05m ago are older than two hours.
	clock.add(2*time.Hour + 15*time.Minute - 40*time.Minute)
	awaitRetained(t, s, nil, ids[2:])
}

// awaitRetained waits until exactly the bundles and the jobs named remain,
// and fails with what remains when the retention loop does not get there
// in time.
func awaitRetained(t *testing.T, s *Server, wantExports, wantJobs []string) {
	t.Helper()
	var exports, stored []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, err := s.bundles.List()
		require.NoError(t, err)
		exports = exports[:0]
		for _, m := range list {
			exports = append(exports, m.ID)
		}
		js, err := s.Queue().List(context.Background(), jobs.Filter{})
		require.NoError(t, err)
		stored = stored[:0]
		for i := len(js) - 1; i >= 0; i-- { // oldest first, as ids
			stored = append(stored, js[i].ID)
		}
		if slices.Equal(exports, wantExports) && slices.Equal(stored, wantJobs) {
			return
		}
		if time.Now().After(deadline) {
			require.Equal(t, wantExports, exports, "bundles kept")
			require.Equal(t, wantJobs, stored, "jobs kept")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
