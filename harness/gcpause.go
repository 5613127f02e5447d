package harness

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// gcPauseHeadroom is the least memory a process may add while automatic
// collection is paused before the runtime collects anyway.
const gcPauseHeadroom = 256 << 20

// gcPause is the process-wide state of pauseGC. Pauses nest, so that runs
// in parallel do not restore each other's settings: the first pause saves
// the settings and the last resume restores them.
var gcPause struct {
	mu      sync.Mutex
	depth   int
	percent int   // GC percent before the first pause
	limit   int64 // memory limit before the first pause
}

// pauseGC turns automatic garbage collection off until resumeGC. While it
// is off, a descriptor or connection that was dropped without Close stays
// open until the harness collects, so the counts see it: a collection that
// the runtime starts on its own would run its finalizer and hide it.
//
// As a safety valve the memory limit is lowered, for the pause, to the
// memory in use plus its size or gcPauseHeadroom, whichever is more; a
// process that allocates that much meanwhile is collected anyway.
func pauseGC() {
	gcPause.mu.Lock()
	defer gcPause.mu.Unlock()
	gcPause.depth++
	if gcPause.depth > 1 {
		return
	}
	gcPause.percent = debug.SetGCPercent(-1)
	gcPause.limit = debug.SetMemoryLimit(-1)
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	total := min(s[0].Value.Uint64(), math.MaxInt64/4)
	if valve := int64(total + max(total, gcPauseHeadroom)); valve < gcPause.limit {
		debug.SetMemoryLimit(valve)
	}
}

// resumeGC ends a pauseGC.
func resumeGC() {
	gcPause.mu.Lock()
	defer gcPause.mu.Unlock()
	gcPause.depth--
	if gcPause.depth > 0 {
		return
	}
	debug.SetMemoryLimit(gcPause.limit)
	debug.SetGCPercent(gcPause.percent)
}
