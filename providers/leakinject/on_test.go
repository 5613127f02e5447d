//go:build leakinject

package leakinject_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers/leakinject"
)

func TestNamesAreTheTable(t *testing.T) {
	require.Equal(t, faultNames, leakinject.Names())
	fs, err := leakinject.Parse(" db-rows-not-closed,cache-unbounded ,")
	require.NoError(t, err)
	require.Equal(t, []leakinject.Fault{leakinject.DBRowsNotClosed, leakinject.CacheUnbounded}, fs)
	_, err = leakinject.Parse("db-rows-not-closed,db-rows-unclosed")
	require.ErrorContains(t, err, `unknown fault "db-rows-unclosed"`)
	require.Equal(t, "monitor-goroutine-not-stopped", leakinject.MonitorGoroutineNotStopped.String())
}
