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
	"github.com/leakgate/leakgate/engine/store"
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
	t.Cleanup(func() {
		require.Zero(t, e.Store().Stats().InUse, "a database connection is still in use: rows left open")
		require.NoError(t, e.Close(context.Background()))
	})
	return e
}

func TestNewCloseIdempotent(t *testing.T) {
	base := providers.OpenClients()
	e, err := New(t.Context(), testConfig(t), WithLogger(DiscardLogger()))
	require.NoError(t, err)
	require.Greater(t, providers.OpenClients(), base, "the sandbox setup builds provider clients")
	require.NotNil(t, e.Sandbox())

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

// TestExecuteOnceUnderConcurrency executes one decision from several
// goroutines: exactly one order is placed.
func TestExecuteOnceUnderConcurrency(t *testing.T) {
	cfg := testConfig(t)
	cfg.Data.SandboxDate = "2016-03-01"
	e := newEngine(t, cfg)
	a, err := e.Analyze(t.Context(), "BTC-USD")
	require.NoError(t, err)
	require.Equal(t, "BUY", a.Decision.Action)

	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() { _, errs[i] = e.Execute(t.Context(), a.Decision.ID) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		require.ErrorIs(t, err, ErrAlreadyExecuted)
	}
	require.Equal(t, 1, ok)
	orders, err := e.Store().Orders(t.Context(), 0)
	require.NoError(t, err)
	require.Len(t, orders, 1)
}

// TestUsageErrorsAreTyped checks the errors the CLI maps to exit code 2.
func TestUsageErrorsAreTyped(t *testing.T) {
	e := newEngine(t, testConfig(t))
	ctx := t.Context()
	var ue *UsageError
	_, err := e.Analyze(ctx, "NOT A SYMBOL")
	require.ErrorAs(t, err, &ue)
	_, err = e.Analyze(ctx, "MSFT")
	require.ErrorAs(t, err, &ue)
	require.ErrorIs(t, err, providers.ErrNotFound)
	_, err = e.Execute(ctx, "zzzzzzzzzzzz")
	require.ErrorAs(t, err, &ue)
	_, err = e.Backtest(ctx, BacktestRequest{BarSource: BarSource{Symbol: "AAPL"}, Strategy: "nope"})
	require.ErrorAs(t, err, &ue)
	_, err = e.RunAgent(ctx, AgentOptions{Watchlist: []string{"A B"}})
	require.ErrorAs(t, err, &ue)
}

// TestAgentCanceledMidCycle stops the agent from its own cycle callback.
func TestAgentCanceledMidCycle(t *testing.T) {
	e := newEngine(t, testConfig(t))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rep, err := e.RunAgent(ctx, AgentOptions{Watchlist: []string{"SPY", "AAPL"}, Interval: time.Hour,
		OnCycle: func(CycleReport) { cancel() }})
	require.NoError(t, err)
	require.True(t, rep.Interrupted)
	require.Len(t, rep.Cycles, 1)
	require.Equal(t, 2, rep.Decisions)
}

// TestPlatforms executes decisions on the Coinbase and OANDA clients
// against the sandbox, where the engine tracks the positions itself.
func TestPlatforms(t *testing.T) {
	tests := []struct {
		platform string
		symbol   string
		class    providers.AssetClass
		qty      float64
	}{
		{platform: config.PlatformCoinbase, symbol: "BTC-USD", class: providers.Crypto, qty: 0.5},
		{platform: config.PlatformOANDA, symbol: "EUR_USD", class: providers.Forex, qty: 1000},
	}
	for _, tt := range tests {
		t.Run(tt.platform, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Platform.Name = tt.platform
			e := newEngine(t, cfg)
			ctx := t.Context()
			require.Equal(t, tt.platform, e.Broker().Name())
			b, err := e.Balance(ctx)
			require.NoError(t, err)
			require.Equal(t, tt.platform, b.Platform)
			require.Positive(t, b.Account.NAV)

			d := store.Decision{Symbol: tt.symbol, Class: tt.class, Action: "BUY", Confidence: 0.5, Quantity: tt.qty,
				Price: 1, BarTime: time.Now()}
			require.NoError(t, e.Store().InsertDecision(ctx, &d))
			ex, err := e.Execute(ctx, d.ID)
			require.NoError(t, err)
			require.Equal(t, tt.platform, ex.Order.Platform)
			require.Equal(t, string(providers.OrderFilled), ex.Order.Status)
			require.InDelta(t, tt.qty, ex.Position.Quantity, 1e-9)
			b, err = e.Balance(ctx)
			require.NoError(t, err)
			require.Len(t, b.Positions, 1)
			require.Equal(t, tt.symbol, b.Positions[0].Symbol)
		})
	}
}
