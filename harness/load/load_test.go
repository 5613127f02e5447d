package load_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/harness/load"
)

// serve starts a loopback server whose handler is h.
func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func config(url string, perSecond int, d time.Duration) load.Config {
	return load.Config{
		Name:        "test",
		Targeter:    load.Loopback(vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: url})),
		Pace:        load.Constant(perSecond),
		Duration:    d,
		MaxRequests: uint64(perSecond) * uint64(d/time.Millisecond) / 1000 * 2,
		Workers:     4, MaxWorkers: 32, Connections: 8,
	}
}

func ok(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }

func TestRunCleanServer(t *testing.T) {
	url := serve(t, ok)
	var results bytes.Buffer
	cfg := config(url, 100, time.Second)
	cfg.Results = &results
	self := harness.Self()
	cfg.Server = &self
	// Loose bounds: the tests share a small machine with others.
	cfg.Thresholds = []string{"rate>=90%", "p99<2s", "cp99<3s", "cpu_per_1k<30s"}
	rep, err := load.Run(t.Context(), cfg)
	require.NoError(t, err)
	var text strings.Builder
	require.NoError(t, rep.WriteText(&text))
	require.True(t, rep.Passed(), "%s", text.String())
	require.Equal(t, uint64(100), rep.Requested)
	require.InDelta(t, 100, rep.AchievedRate, 10)
	require.NotEmpty(t, rep.Server.Samples)
	require.Contains(t, text.String(), "✓ rate>=90%")

	// The results file is vegeta's, and merges into the same verdict.
	res, err := load.ReadResults(&results)
	require.NoError(t, err)
	merged, err := load.Merge("merged", []string{"rate>=90%"}, res)
	require.NoError(t, err)
	require.True(t, merged.Passed())
	require.Equal(t, rep.Sent, merged.Sent)
	require.InDelta(t, rep.RequestedRate, merged.RequestedRate, 0.01)
}

// leaked holds the goroutines the leaky handler starts, released after the
// test's run so that goleak passes.
func TestRunFindsLeak(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		go func() { <-release }()
		w.WriteHeader(http.StatusOK)
	})
	cfg := config(url, 100, time.Second)
	self := harness.Self()
	cfg.Server = &self
	cfg.Settle = 300 * time.Millisecond
	cfg.Thresholds = []string{"rate>=50%", "success>=50%"}
	rep, err := load.Run(t.Context(), cfg)
	require.NoError(t, err)
	require.False(t, rep.Passed())
	var failed []string
	for _, th := range rep.Thresholds {
		if !th.Passed {
			failed = append(failed, th.Expr)
		}
	}
	require.Equal(t, []string{"goroutines<=2"}, failed)
	g := rep.Thresholds[0]
	require.Equal(t, "goroutines<=2", g.Expr)
	require.GreaterOrEqual(t, g.Actual, float64(rep.Sent)-2)
	require.Equal(t, 1, rep.ExitCode())
}

func TestRateShortfallFails(t *testing.T) {
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
		w.WriteHeader(http.StatusOK)
	})
	cfg := config(url, 100, time.Second)
	cfg.Workers, cfg.MaxWorkers, cfg.Connections = 1, 1, 1
	cfg.Thresholds = []string{"p99<300ms"} // the workers' latency looks fine
	rep, err := load.Run(t.Context(), cfg)
	require.NoError(t, err)
	require.False(t, rep.Passed())
	rate := rep.Thresholds[0]
	require.Equal(t, "rate>=99%", rate.Expr)
	require.False(t, rate.Passed)
	require.Less(t, rate.Actual, 0.5)
	require.True(t, rep.Thresholds[2].Passed, "p99 by the workers hides the backlog")
	require.Greater(t, rep.Corrected.P99, 0.5, "the scheduled latency shows it")
}

func TestShardsMerge(t *testing.T) {
	url := serve(t, ok)
	var files []*load.Results
	for i := 1; i <= 2; i++ {
		var buf bytes.Buffer
		cfg := config(url, 100, time.Second)
		cfg.Shard = load.Shard{I: i, N: 2}
		cfg.Results = &buf
		rep, err := load.Run(t.Context(), cfg)
		require.NoError(t, err)
		require.InDelta(t, 50, rep.RequestedRate, 1)
		res, err := load.ReadResults(&buf)
		require.NoError(t, err)
		files = append(files, res)
	}
	merged, err := load.Merge("two", []string{"rate>=90%", "p99<2s"}, files...)
	require.NoError(t, err)
	require.True(t, merged.Passed())
	require.InDelta(t, 100, merged.RequestedRate, 1)
	require.InDelta(t, 100, merged.AchievedRate, 10)
	require.Len(t, merged.Attacks, 2)

	_, err = load.Merge("one", nil, files[0])
	require.ErrorContains(t, err, "shard 2/2 is missing")
	_, err = load.Merge("dup", nil, files[0], files[0])
	require.ErrorContains(t, err, "twice")
}

func TestRemoteTargetRefused(t *testing.T) {
	cfg := config("http://192.0.2.1:9/", 10, 100*time.Millisecond)
	rep, err := load.Run(t.Context(), cfg)
	require.NoError(t, err)
	require.Contains(t, strings.Join(rep.Vegeta.Errors, " "), "not on a loopback address")
	require.False(t, rep.Passed())
}

func TestConfigBounds(t *testing.T) {
	cfg := config("http://127.0.0.1:9/", 10, 0)
	cfg.MaxRequests = 0
	_, err := load.Run(t.Context(), cfg)
	require.ErrorContains(t, err, "bounded in time")
	require.ErrorContains(t, err, "bounded in requests")
}

func TestParseThreshold(t *testing.T) {
	tests := []struct{ give, wantErr string }{
		{give: "p99<25ms"}, {give: "success>=99%"}, {give: "rate >= 0.99"}, {give: "goroutines<=2"},
		{give: "rss<50MB"}, {give: "heap_slope<1MiB/s"}, {give: "cpu_per_1k<2s"}, {give: "drain<10s"},
		{give: "p99<25", wantErr: "needs a unit"}, {give: "goroutines<2MB", wantErr: "unit"},
		{give: "latency<1s", wantErr: "unknown name"}, {give: "p99", wantErr: "no comparison"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			_, err := load.ParseThreshold(tt.give)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
	_, err := load.ParseThresholds([]string{"rss<1MB"}, false)
	require.ErrorContains(t, err, "needs a watched server")
}
