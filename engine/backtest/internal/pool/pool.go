package backtest

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// workerCount resolves a requested worker count: 0 means GOMAXPROCS, and
// there are never more workers than jobs.
func workerCount(requested, jobs int) int {
	w := requested
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return max(1, min(w, jobs))
}

// parallel runs job(worker, j) for j in [0, jobs) on workers goroutines,
// which take jobs in order from a shared counter. It returns when every
// goroutine has finished: after all jobs, or, once ctx is done, after the
// jobs already started, with ctx's error.
func parallel(ctx context.Context, workers, jobs int, job func(worker, j int)) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	done := ctx.Done()
	for w := range workers {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				j := int(next.Add(1) - 1)
				if j >= jobs {
					return
				}
				job(w, j)
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}
