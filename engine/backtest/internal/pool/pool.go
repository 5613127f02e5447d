// Package pool runs independent jobs on a bounded set of goroutines, for
// the walk-forward grid and the monte-carlo paths.
package pool

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Workers resolves a requested worker count: 0 or less means GOMAXPROCS,
// and there are never more workers than jobs (nor fewer than one).
func Workers(requested, jobs int) int {
	w := requested
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return max(1, min(w, jobs))
}

// Run runs job(worker, j) for j in [0, jobs) on workers goroutines, which
// take jobs in order from a shared counter; worker is in [0, workers), so a
// job may use per-worker scratch. Run returns when every goroutine has
// finished: after all jobs, or, once ctx is done, after the jobs already
// started, with ctx's error.
func Run(ctx context.Context, workers, jobs int, job func(worker, j int)) error {
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
