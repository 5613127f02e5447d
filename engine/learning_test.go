package engine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/engine/store"
)

// TestPruneMemoryRetention checks how prune-memory without flags applies
// memory.retention: 0 is the default (a year), a negative value keeps
// every trade whatever its age, and a positive one is the age bound.
func TestPruneMemoryRetention(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name      string
		retention time.Duration
		wantByAge int
	}{
		{name: "the default, a year", retention: config.DefaultMemoryRetention, wantByAge: 1},
		{name: "negative keeps everything", retention: -time.Second, wantByAge: 0},
		{name: "a month", retention: 30 * 24 * time.Hour, wantByAge: 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Memory.Retention = c.retention
			e := newEngine(t, cfg, WithClock(func() time.Time { return now }))
			// Closed two years, two months and a day ago.
			for _, closed := range []time.Time{now.AddDate(-2, 0, 0), now.AddDate(0, -2, 0), now.AddDate(0, 0, -1)} {
				_, err := e.Store().InsertMemory(t.Context(), store.Memory{Platform: "paper", Symbol: "AAPL", Direction: "LONG",
					Quantity: 1, EntryPrice: 100, ExitPrice: 101, PnL: 1, Return: 0.01, OpenedAt: closed.Add(-time.Hour), ClosedAt: closed})
				require.NoError(t, err)
			}
			r, err := e.PruneMemory(t.Context(), PruneOptions{DryRun: true})
			require.NoError(t, err)
			require.Equal(t, c.wantByAge, r.ByAge)
			require.Equal(t, 3-c.wantByAge, r.Remaining)
		})
	}
	require.Equal(t, 365*24*time.Hour, config.DefaultMemoryRetention)
}

// A memory.retention of 0, which used to keep every trade, is refused
// with the new spelling rather than pruning a year-old trade; the engine
// still reads a 0 it is given as the default.
func TestMemoryRetentionZero(t *testing.T) {
	cfg := testConfig(t)
	cfg.Memory.Retention = 0
	_, err := New(t.Context(), cfg, WithLogger(DiscardLogger()))
	require.ErrorContains(t, err, "memory.retention 0")
	require.ErrorContains(t, err, "write -1s")
	require.Equal(t, config.DefaultMemoryRetention, memoryRetention(0))
	require.Zero(t, memoryRetention(-time.Second), "no age bound")
	require.Equal(t, time.Hour, memoryRetention(time.Hour))
}
