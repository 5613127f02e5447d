package service_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/engine/crew"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/engine/monitor"
	"github.com/leakgate/leakgate/engine/service"
	"github.com/leakgate/leakgate/engine/store"
	"github.com/leakgate/leakgate/providers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeMD answers a constant quote and no bars.
type fakeMD struct{}

func (fakeMD) Name() string                    { return "fake" }
func (fakeMD) Classes() []providers.AssetClass { return []providers.AssetClass{providers.Equity} }
func (fakeMD) Close() error                    { return nil }
func (fakeMD) Quote(_ context.Context, sym string) (providers.Quote, error) {
	return providers.Quote{Symbol: sym, Price: 100, Time: time.Now()}, nil
}
func (fakeMD) Bars(context.Context, providers.BarQuery) ([]providers.Bar, error) {
	return nil, nil
}

func newService(t *testing.T, cfg service.Config) *service.Service {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(t.Context(), filepath.Join(dir, "ffe.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	if cfg.ExportDir == "" {
		cfg.ExportDir = filepath.Join(dir, "exports")
	}
	svc, err := service.New(cfg, service.Deps{MarketData: fakeMD{}, DB: db})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, svc.Close()) })
	return svc
}

// TestZeroIsDefault checks the rule of the package doc: a zero field
// takes the default constant, a negative retention bound stays (off).
func TestZeroIsDefault(t *testing.T) {
	got := newService(t, service.Config{KeepJobs: -1, ExportMaxAge: -time.Second}).Config()
	require.Equal(t, jobs.DefaultWorkers, got.Workers)
	require.Equal(t, jobs.DefaultCapacity, got.QueueCapacity)
	require.Equal(t, jobs.DefaultTimeout, got.JobTimeout)
	require.Equal(t, jobs.DefaultMaxAttempts, got.MaxAttempts)
	require.Equal(t, crew.DefaultMemoryEntries, got.CrewMemoryEntries)
	require.Equal(t, crew.DefaultMemoryAge, got.CrewMemoryAge)
	require.Equal(t, monitor.DefaultInterval, got.MonitorInterval)
	require.Equal(t, monitor.DefaultThreshold, got.MonitorThreshold)
	require.Equal(t, service.DefaultKeepExports, got.KeepExports)
	require.Equal(t, service.DefaultJobMaxAge, got.JobMaxAge)
	require.Equal(t, service.DefaultRetentionInterval, got.RetentionInterval)
	require.Equal(t, -1, got.KeepJobs)
	require.Equal(t, -time.Second, got.ExportMaxAge)
}

// TestLifecycle checks that a Service starts once, that Shutdown stops
// what Start started (goleak checks no goroutine is left), and that Close
// is idempotent and final.
func TestLifecycle(t *testing.T) {
	tests := []struct {
		name    string
		cfg     service.Config
		monitor bool
	}{
		{name: "monitor on", cfg: service.Config{Watchlist: []string{"AAPL"}, MonitorInterval: time.Millisecond}, monitor: true},
		{name: "monitor off", cfg: service.Config{Watchlist: []string{"AAPL"}, MonitorOff: true}},
		{name: "no watchlist", cfg: service.Config{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := newService(t, tt.cfg)
			require.Equal(t, tt.monitor, svc.Monitor() != nil)
			require.NoError(t, svc.Start())
			require.ErrorIs(t, svc.Start(), service.ErrStarted)
			if tt.monitor {
				require.Eventually(t, func() bool { polls, _ := svc.MonitorStats(); return polls > 0 }, 10*time.Second, time.Millisecond)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			require.NoError(t, svc.Shutdown(ctx))
			require.NoError(t, svc.Shutdown(ctx), "later calls return nil")
			polls, _ := svc.MonitorStats()
			time.Sleep(5 * time.Millisecond)
			after, _ := svc.MonitorStats()
			require.Equal(t, polls, after, "the monitor stopped with Shutdown")
			require.ErrorIs(t, svc.Start(), service.ErrStarted, "no restart after Shutdown")
			require.NoError(t, svc.Close())
			require.NoError(t, svc.Close())
		})
	}
}

// TestCloseWithoutStart releases what New built.
func TestCloseWithoutStart(t *testing.T) {
	svc := newService(t, service.Config{})
	require.NoError(t, svc.Close())
	require.ErrorIs(t, svc.Start(), service.ErrStarted)
}
