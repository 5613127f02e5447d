//go:build !goexperiment.goroutineleakprofile

package harness_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// Without GOEXPERIMENT=goroutineleakprofile there is no goroutine leak
// profile: goroutines_leaked is unsupported, a threshold on it is refused,
// and no finding is marked proven.
func TestGoroutinesLeakedUnsupported(t *testing.T) {
	sc := parkedScenario(t)
	res, err := harness.Run(t.Context(), sc, harness.WithIterations(3), harness.WithWarmup(1), harness.WithSettleTimeout(20*time.Millisecond))
	require.NoError(t, err)
	m, ok := res.Metric(harness.MetricGoroutinesLeaked)
	require.True(t, ok)
	require.False(t, m.Supported)
	require.Equal(t, harness.VerdictUnsupported, m.Verdict)
	require.Contains(t, m.Reason, "GOEXPERIMENT=goroutineleakprofile")
	require.NotEmpty(t, res.FindingsFor(harness.MetricGoroutines))
	for _, f := range res.Findings {
		require.False(t, f.Leaked, f.Summary)
	}
	require.Empty(t, res.FindingsFor(harness.MetricGoroutinesLeaked))

	_, err = harness.Run(t.Context(), sc, harness.WithThreshold(harness.MetricGoroutinesLeaked, "final<=0"))
	require.ErrorContains(t, err, "GOEXPERIMENT=goroutineleakprofile")
}
