package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/engine/monitor"
)

func TestShutdownLetsRunningJobsFinish(t *testing.T) {
	md := &fakeMD{gate: make(chan struct{})}
	s := testServer(t, md, func(c *testConfig, _ *testDeps) { c.Workers = 1 })
	_, stop := startServe(t, s)
	running := trigger(t, s.Handler(), map[string]any{"symbols": []string{"AAPL"}})
	waiting := trigger(t, s.Handler(), map[string]any{"symbols": []string{"SPY"}})
	for md.barCalls() == 0 {
		time.Sleep(time.Millisecond)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// Readiness drops at once; the running job may still finish.
	for s.ready.Load() {
		time.Sleep(time.Millisecond)
	}
	close(md.gate)
	require.NoError(t, <-stopped)

	j, err := s.Queue().Get(context.Background(), running.ID)
	require.NoError(t, err)
	require.Equal(t, jobs.Succeeded, j.State)
	j, err = s.Queue().Get(context.Background(), waiting.ID)
	require.NoError(t, err)
	require.Equal(t, jobs.Queued, j.State, "jobs not started stay queued")
}

func TestShutdownDeadlineLeavesJobsQueued(t *testing.T) {
	md := &fakeMD{gate: make(chan struct{})}
	s := testServer(t, md, func(c *testConfig, _ *testDeps) {
		c.Workers = 1
		c.ShutdownTimeout = 20 * time.Millisecond
	})
	_, stop := startServe(t, s)
	running := trigger(t, s.Handler(), map[string]any{"symbols": []string{"AAPL"}})
	for md.barCalls() == 0 {
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, stop())
	j, err := s.Queue().Get(context.Background(), running.ID)
	require.NoError(t, err)
	require.Equal(t, jobs.Queued, j.State)
	require.Equal(t, 0, j.Attempt)
	require.Contains(t, j.Note, "shutdown")
}

func TestMonitorRecordsAlerts(t *testing.T) {
	md := &fakeMD{prices: []float64{100, 100, 110}}
	s := testServer(t, md, func(c *testConfig, _ *testDeps) {
		c.Watchlist = []string{"AAPL"}
		c.MonitorOff = false
		c.MonitorInterval = time.Millisecond
		c.MonitorThreshold = 0.05
	})
	_, stop := startServe(t, s)
	sink := s.svc.DB().Alerts()
	for {
		alerts, err := sink.List(context.Background(), "AAPL", 10)
		require.NoError(t, err)
		if len(alerts) > 0 {
			require.Equal(t, 110.0, alerts[0].Price)
			require.Equal(t, monitor.Up, alerts[0].Direction)
			break
		}
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, stop())
	// The monitor stopped with the server: no more polls.
	polls := s.monitor.Stats().Polls
	time.Sleep(5 * time.Millisecond)
	require.Equal(t, polls, s.monitor.Stats().Polls)
}

func TestAdminEndpoints(t *testing.T) {
	m := NewMetrics()
	s := testServer(t, &fakeMD{}, func(_ *testConfig, d *testDeps) { d.Metrics = m })
	serve(t, s)
	j := trigger(t, s.Handler(), map[string]any{"symbols": []string{"AAPL"}})
	require.Equal(t, jobs.Succeeded, waitJob(t, s, j.ID).State)

	res := call(t, s.AdminHandler(), http.MethodGet, "/metrics", "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	text := string(body)
	for _, want := range []string{
		"go_goroutines ", "process_open_fds ",
		`ffe_export_jobs{status="succeeded"} 1`, `ffe_export_jobs{status="queued"} 0`,
		`ffe_export_job_duration_seconds_count{status="succeeded"} 1`,
		"ffe_provider_open_clients ", "ffe_unclosed_resources_total ",
		"ffe_export_queue_capacity 100", "ffe_export_queue_depth 0", "ffe_export_jobs_running 0",
		`ffe_http_requests_total{code="202",route="POST /api/jobs/download-tracker/trigger"} 1`,
	} {
		require.Contains(t, text, want)
	}

	for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/heap", "/debug/pprof/cmdline", "/healthz"} {
		res := call(t, s.AdminHandler(), http.MethodGet, path, "", nil)
		require.Equal(t, http.StatusOK, res.StatusCode, path)
		res.Body.Close()
	}
	// The API does not serve them.
	res = call(t, s.Handler(), http.MethodGet, "/debug/pprof/", testToken, nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	res = call(t, s.Handler(), http.MethodGet, "/metrics", testToken, nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)

	// One Metrics per server.
	_, err = New(Config{}, s.svc, Deps{Metrics: m, Logger: quiet})
	require.ErrorContains(t, err, "another server")
}

func TestServeAdminRefusesPublicAddress(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	fl := &fakeListener{}
	require.ErrorContains(t, s.ServeAdmin(context.Background(), fl), "loopback")
	require.True(t, fl.closed)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeAdmin(ctx, ln) }()
	var res *http.Response
	for {
		res, err = http.Get("http://" + ln.Addr().String() + "/metrics")
		if err == nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	require.True(t, strings.Contains(string(body), "go_goroutines"))
	cancel()
	require.NoError(t, <-done)
}

func TestCloseWaitsForServeAdmin(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- s.ServeAdmin(context.Background(), ln) }()
	hc := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	for {
		res, err := hc.Get("http://" + ln.Addr().String() + "/healthz")
		if err == nil {
			res.Body.Close()
			break
		}
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, s.Close())
	select {
	case err := <-done:
		require.NoError(t, err)
	default:
		t.Fatal("Close returned before ServeAdmin")
	}
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.ErrorIs(t, s.ServeAdmin(context.Background(), ln2), ErrServing)
	_, err = net.DialTimeout("tcp", ln2.Addr().String(), time.Second)
	require.Error(t, err, "the refused listener is closed")
}

func TestRun(t *testing.T) {
	s := testServer(t, &fakeMD{}, func(c *testConfig, _ *testDeps) {
		c.Addr, c.AdminAddr = "127.0.0.1:0", "127.0.0.1:0"
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for !s.ready.Load() {
		time.Sleep(time.Millisecond)
	}
	cancel()
	require.NoError(t, <-done)

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	s2 := testServer(t, &fakeMD{}, func(c *testConfig, _ *testDeps) { c.Addr = busy.Addr().String() })
	err = s2.Run(context.Background())
	var opErr *net.OpError
	require.True(t, errors.As(err, &opErr), "err: %v", err)
}
