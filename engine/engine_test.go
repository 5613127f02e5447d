package engine

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/providers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testConfig returns the default (sandbox) configuration with a temporary
// data directory.
func testConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	return cfg
}

func newEngine(t *testing.T, cfg *config.Config, opts ...Option) *Engine {
	t.Helper()
	e, err := New(t.Context(), cfg, append([]Option{WithLogger(DiscardLogger())}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close(context.Background())) })
	return e
}

func TestNewCloseIdempotent(t *testing.T) {
	base := providers.OpenClients()
	e, err := New(t.Context(), testConfig(t), WithLogger(DiscardLogger()))
	require.NoError(t, err)
	require.Greater(t, providers.OpenClients(), base, "the sandbox setup builds provider clients")

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { require.NoError(t, e.Close(context.Background())) })
	}
	wg.Wait()
	require.Equal(t, base, providers.OpenClients(), "Close closes every client")
	require.ErrorIs(t, e.Go(func(context.Context) {}), ErrClosed)
}

func TestNewFailureClosesWhatItBuilt(t *testing.T) {
	base := providers.OpenClients()
	cfg := testConfig(t)
	on := true
	p := cfg.Providers[config.Polygon]
	p.Enabled = &on
	cfg.Providers[config.Polygon] = p
	cfg.Data.Source = config.SourceLive // no keys, polygon explicitly on: an error
	_, err := New(t.Context(), cfg, WithLogger(DiscardLogger()))
	require.ErrorContains(t, err, "FFE_POLYGON_API_KEY")
	require.Equal(t, base, providers.OpenClients())

	// A store that cannot be opened fails before any client exists.
	_, err = New(t.Context(), testConfig(t), WithLogger(DiscardLogger()), WithStorePath(filepath.Join(t.TempDir(), "a?b.db")))
	require.Error(t, err)
	require.Equal(t, base, providers.OpenClients())
}

func TestGoIsJoinedByClose(t *testing.T) {
	e, err := New(t.Context(), testConfig(t), WithLogger(DiscardLogger()))
	require.NoError(t, err)
	stopped := make(chan struct{})
	require.NoError(t, e.Go(func(ctx context.Context) {
		<-ctx.Done()
		close(stopped)
	}))
	require.NoError(t, e.Close(context.Background()))
	select {
	case <-stopped:
	default:
		t.Fatal("Close returned before the background goroutine stopped")
	}
}

func TestCloseTimesOutOnStuckGoroutine(t *testing.T) {
	e, err := New(t.Context(), testConfig(t), WithLogger(DiscardLogger()))
	require.NoError(t, err)
	release := make(chan struct{})
	require.NoError(t, e.Go(func(context.Context) { <-release }))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = e.Close(ctx)
	require.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	require.Equal(t, err, e.Close(context.Background()), "later calls return the first result")
	close(release)
	e.bg.Wait()
}
