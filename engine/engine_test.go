package engine

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/engine/crew"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/engine/monitor"
	"github.com/leakgate/leakgate/engine/service"
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
	_, err = e.NewService(nil)
	require.ErrorIs(t, err, ErrClosed)
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

// TestEngineClosesService checks that the engine owns the service of
// ffe serve: Close stops what the service runs (goleak sees no workers,
// monitor or retention loop left) before it closes the store the queue
// writes to, and the service cannot start again.
func TestEngineClosesService(t *testing.T) {
	cfg := testConfig(t)
	cfg.Server.ExportDir = filepath.Join(t.TempDir(), "exports")
	cfg.Server.Monitor.Interval = time.Millisecond
	e, err := New(t.Context(), cfg, WithLogger(DiscardLogger()))
	require.NoError(t, err)
	svc, err := e.NewService(nil)
	require.NoError(t, err)
	require.NoError(t, svc.Start())
	require.NotNil(t, svc.Monitor())
	require.NoError(t, e.Close(context.Background()))
	require.ErrorIs(t, svc.Start(), service.ErrStarted)
	require.NoError(t, svc.Close(), "closed already, by the engine, without error")
}

// TestServiceConfig checks the mapping of the configuration onto
// service.Config: field for field, zero the default on both sides and a
// negative retention bound off on both.
func TestServiceConfig(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = "/data"
	got := serviceConfig(cfg)
	require.Equal(t, jobs.DefaultWorkers, got.Workers)
	require.Equal(t, jobs.DefaultCapacity, got.QueueCapacity)
	require.Equal(t, jobs.DefaultTimeout, got.JobTimeout)
	require.Equal(t, jobs.DefaultMaxAttempts, got.MaxAttempts)
	require.Equal(t, service.DefaultKeepExports, got.KeepExports)
	require.Equal(t, service.DefaultExportMaxAge, got.ExportMaxAge)
	require.Equal(t, service.DefaultKeepJobs, got.KeepJobs)
	require.Equal(t, service.DefaultJobMaxAge, got.JobMaxAge)
	require.Equal(t, monitor.DefaultInterval, got.MonitorInterval)
	require.Equal(t, monitor.DefaultThreshold, got.MonitorThreshold)
	require.Equal(t, crew.DefaultMemoryEntries, got.CrewMemoryEntries)
	require.Equal(t, crew.DefaultMemoryAge, got.CrewMemoryAge)
	require.Equal(t, filepath.Join("/data", "exports"), got.ExportDir)
	require.Equal(t, providers.Day, got.DefaultInterval)
	require.Equal(t, cfg.Watchlist, got.Watchlist)
	require.False(t, got.MonitorOff)
	require.False(t, got.CrewMemory)
	require.False(t, got.CrewByDefault)

	cfg.Server.Retention = config.Retention{KeepExports: -1, ExportMaxAge: -1, KeepJobs: -1, JobMaxAge: -1}
	cfg.Server.Workers, cfg.Server.JobTimeout = 0, 0
	cfg.Server.Monitor.Enabled = false
	got = serviceConfig(cfg)
	require.Equal(t, service.Config{KeepExports: -1, ExportMaxAge: -1, KeepJobs: -1, JobMaxAge: -1},
		service.Config{KeepExports: got.KeepExports, ExportMaxAge: got.ExportMaxAge, KeepJobs: got.KeepJobs, JobMaxAge: got.JobMaxAge},
		"a negative bound is off in both")
	require.Zero(t, got.Workers, "zero is the default in both")
	require.Zero(t, got.JobTimeout)
	require.True(t, got.MonitorOff)
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
