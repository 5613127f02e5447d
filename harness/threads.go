package harness

import (
	"runtime"
	"sync"
)

// PrewarmThreads makes the Go runtime start n OS threads in this process
// and leaves them idle. The runtime starts a thread for a goroutine
// blocked in a system call when no idle one is left, and never ends it, so
// a scenario whose iterations make parallel blocking calls (file syncs,
// say) grows its threads by a few at random iterations: a step the threads
// metric reports, and a few KiB of heap each. Call it in Setup with more
// threads than the scenario blocks at once. It returns when the threads
// are idle; it leaves no goroutine behind.
func PrewarmThreads(n int) {
	var locked, done sync.WaitGroup
	release := make(chan struct{})
	locked.Add(n)
	for range n {
		done.Go(func() {
			runtime.LockOSThread() // each goroutine holds a thread of its own
			locked.Done()
			<-release
			runtime.UnlockOSThread() // the thread goes back to the idle pool
		})
	}
	locked.Wait()
	close(release)
	done.Wait()
}
