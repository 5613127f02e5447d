package harness

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// Pauses nest: runs in parallel restore the settings only when the last
// one resumes.
func TestPauseGCNests(t *testing.T) {
	percent := debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	limit := debug.SetMemoryLimit(-1)

	pauseGC()
	pauseGC()
	require.Equal(t, -1, debug.SetGCPercent(-1))
	paused := debug.SetMemoryLimit(-1)
	require.LessOrEqual(t, paused, limit, "a lower limit (GOMEMLIMIT) is kept")
	if limit == math.MaxInt64 {
		require.Less(t, paused, limit, "a memory limit bounds the pause")
	}
	resumeGC()
	require.Equal(t, -1, debug.SetGCPercent(-1), "still paused")
	require.Equal(t, paused, debug.SetMemoryLimit(-1))
	resumeGC()
	require.Equal(t, percent, debug.SetGCPercent(percent))
	require.Equal(t, limit, debug.SetMemoryLimit(-1))
}
