//go:build !leakinject

package leakinject_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers/leakinject"
)

// TestNormalBuildHasNoFaults runs in normal builds only.
func TestNormalBuildHasNoFaults(t *testing.T) {
	require.False(t, leakinject.Enabled)
	require.Empty(t, leakinject.Names())
	require.NoError(t, leakinject.Check(), "a normal build ignores LEAKINJECT")
	for f := leakinject.EngineCloseSkipsProviders; f <= leakinject.ServerGoroutinePerJob; f++ {
		require.False(t, leakinject.On(f))
	}
	_, err := leakinject.Parse("db-rows-not-closed")
	require.ErrorContains(t, err, "build with -tags leakinject")
}
