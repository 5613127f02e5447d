package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/leakgate/leakgate/engine/jobs"
)

// BenchmarkQueue runs no-op jobs through the queue with the default
// workers, 16 at a time, and reports jobs per second: the queue's own
// cost, three SQLite writes a job (enqueue, claim, outcome), which bounds
// any job's throughput.
func BenchmarkQueue(b *testing.B) {
	db := openDB(b, b.TempDir()+"/jobs.db")
	q, err := jobs.Open(b.Context(), db.Jobs(), jobs.WithLogger(quiet), jobs.WithCapacity(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer q.Stop(context.Background()) //nolint:errcheck
	q.Handle("k", func(context.Context, jobs.Job, *jobs.Tracker) (any, error) { return nil, nil })
	if err := q.Start(); err != nil {
		b.Fatal(err)
	}
	const batch = 16
	ids := make([]string, 0, batch)
	start := time.Now()
	for b.Loop() {
		ids = ids[:0]
		for range batch {
			j, err := q.Enqueue(b.Context(), "k", params{Symbols: []string{"AAPL", "BTC-USD", "EUR_USD"}})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, j.ID)
		}
		for _, id := range ids {
			if j, err := q.Wait(b.Context(), id); err != nil || j.State != jobs.Succeeded {
				b.Fatalf("job %s: %v %s", id, err, j.Error)
			}
		}
	}
	b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "jobs/s")
}
