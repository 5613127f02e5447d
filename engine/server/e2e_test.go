package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/export"
	"github.com/leakgate/leakgate/engine/export/exporttest"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/sandbox"
)

// client is an API client over a real connection.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
}

func newClient(t testing.TB, base string) *client {
	tr := &http.Transport{MaxIdleConnsPerHost: 2}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, base: base, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func (c *client) do(method, path string, body io.Reader) *http.Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.hc.Do(req)
	require.NoError(c.t, err)
	return res
}

// await polls the job until it is finished.
func (c *client) await(id string) JobView {
	c.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		v := decode[JobView](c.t, c.do(http.MethodGet, "/api/jobs/"+id, nil))
		if v.Status.Terminal() {
			return v
		}
		time.Sleep(2 * time.Millisecond)
	}
	c.t.Fatalf("job %s did not finish", id)
	return JobView{}
}

// exportCycle triggers an export of symbols, waits for it, downloads and
// checks every file, and returns the job and the manifest.
func (c *client) exportCycle(symbols ...string) (JobView, ExportView) {
	c.t.Helper()
	res := c.do(http.MethodPost, "/api/jobs/download-tracker/trigger", jsonBody(map[string]any{
		"symbols": symbols, "range": "2016-01-01/2016-12-31", "crew": true}))
	require.Equal(c.t, http.StatusAccepted, res.StatusCode)
	job := c.await(decode[JobView](c.t, res).ID)
	require.Equal(c.t, jobs.Succeeded, job.Status, job.Error)
	res = c.do(http.MethodGet, job.Links["export"], nil)
	require.Equal(c.t, http.StatusOK, res.StatusCode)
	ev := decode[ExportView](c.t, res)
	for _, f := range ev.Files {
		res := c.do(http.MethodGet, f.Href, nil)
		require.Equal(c.t, http.StatusOK, res.StatusCode)
		h := sha256.New()
		n, err := io.Copy(h, res.Body)
		res.Body.Close()
		require.NoError(c.t, err)
		require.Equal(c.t, f.Size, n, f.Name)
		require.Equal(c.t, f.SHA256, hex.EncodeToString(h.Sum(nil)), f.Name)
	}
	return job, ev
}

// sandboxEnv builds sandbox-backed providers in one of two modes.
func sandboxEnv(t testing.TB, mode string, observe func(providers.RequestInfo)) (*exporttest.Env, *sandbox.Handler) {
	t.Helper()
	cfg := exporttest.Config{Observer: observe}
	var h *sandbox.Handler
	switch mode {
	case "httpmock":
		h = sandbox.New()
		mock := httpmock.NewMockTransport()
		mock.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Result(), nil
		})
		cfg.BaseURL, cfg.Transport = exporttest.InProcess, mock
	case "loopback":
		srv, err := sandbox.Start()
		require.NoError(t, err)
		t.Cleanup(func() { srv.Close() })
		h, cfg.BaseURL = srv.Handler, srv.BaseURL
	}
	env, err := exporttest.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, env.Close()) })
	return env, h
}

func TestExportEndToEnd(t *testing.T) {
	for _, mode := range []string{"httpmock", "loopback"} {
		t.Run(mode, func(t *testing.T) {
			m := NewMetrics()
			env, h := sandboxEnv(t, mode, m.ObserveProviderRequest)
			s := testServer(t, env.MarketData, func(c *testConfig, d *testDeps) {
				d.Posts, d.Metrics = env.Posts, m
				c.Subreddits = []string{"wallstreetbets", "stocks"}
			})
			c := newClient(t, serve(t, s))

			job, ev := c.exportCycle("AAPL", "BTC-USD", "EUR_USD")
			require.Equal(t, 1, job.Attempt)
			require.Equal(t, 6, job.Progress.Total) // 3 symbols, sentiment, crew, bundle
			require.Equal(t, 6, job.Progress.Done)
			for _, it := range job.Progress.Items {
				require.Equal(t, jobs.ItemDone, it.State, it.Name)
			}
			var res export.Result
			require.NoError(t, json.Unmarshal(job.Result, &res))
			require.Equal(t, map[string]int{"AAPL": 252, "BTC-USD": 366, "EUR_USD": 306}, res.Bars)
			require.True(t, res.Crew)
			require.Contains(t, res.Sentiment, "posts from 2 subreddits")

			var names []string
			for _, f := range ev.Files {
				names = append(names, f.Name)
			}
			require.ElementsMatch(t, []string{"AAPL.csv", "AAPL.json", "BTC-USD.csv", "BTC-USD.json", "EUR_USD.csv",
				"EUR_USD.json", export.SentimentFile, export.ReportJSONFile, export.ReportMarkdownFile}, names)
			require.Equal(t, "AAPL:252,BTC-USD:366,EUR_USD:306", ev.Labels["bars"])
			require.Positive(t, h.Stats()["polygon"].Requests)

			// The manifest as a file matches the view.
			res2 := c.do(http.MethodGet, ev.Links["manifest"], nil)
			raw, err := io.ReadAll(res2.Body)
			res2.Body.Close()
			require.NoError(t, err)
			require.True(t, strings.Contains(string(raw), ev.Files[0].SHA256))

			// Provider requests were counted by provider and code.
			metrics := call(t, s.AdminHandler(), http.MethodGet, "/metrics", "", nil)
			body, _ := io.ReadAll(metrics.Body)
			require.Contains(t, string(body), `ffe_provider_requests_total{code="200",provider="polygon"}`)
			require.Contains(t, string(body), `ffe_provider_requests_total{code="200",provider="reddit"}`)

			require.Equal(t, http.StatusNoContent, c.do(http.MethodDelete, "/api/exports/"+job.ID, nil).StatusCode)
		})
	}
}

func TestExportEndToEndResumesAfterStop(t *testing.T) {
	env, _ := sandboxEnv(t, "httpmock", nil)
	gate := make(chan struct{})
	md := &gatedMD{MarketData: env.MarketData, gate: gate, entered: make(chan struct{}, 1)}
	var cfg testConfig
	var deps testDeps
	s := testServer(t, md, func(c *testConfig, d *testDeps) {
		c.ShutdownTimeout = 10 * time.Millisecond
		cfg, deps = *c, *d
	})
	_, stop := startServe(t, s)
	j := trigger(t, s.Handler(), map[string]any{"symbols": []string{"AAPL"}, "range": "2016-01-01/2016-12-31"})
	<-md.entered
	require.NoError(t, stop())

	// The next server over the same database and directory resumes it.
	require.NoError(t, s.Close())
	require.NoError(t, s.svc.Close())
	deps.MarketData = env.MarketData
	s2 := newServer(t, cfg, deps)
	serve(t, s2)
	done := waitJob(t, s2, j.ID)
	require.Equal(t, jobs.Succeeded, done.State, done.Error)
	require.Equal(t, 1, done.Attempt, "a graceful stop does not use up an attempt")
	close(gate)
}

// gatedMD blocks Bars until gate closes or the context ends, and reports
// the first entry on entered.
type gatedMD struct {
	providers.MarketData
	gate    chan struct{}
	entered chan struct{}
}

func (g *gatedMD) Bars(ctx context.Context, q providers.BarQuery) ([]providers.Bar, error) {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.MarketData.Bars(ctx, q)
}

// TestDefaultTriggerOnRecordedData triggers with no body on the wall
// clock: the default one-year range ends at each symbol's latest quote, so
// the recorded sandbox data is found although it ends years ago.
func TestDefaultTriggerOnRecordedData(t *testing.T) {
	env, _ := sandboxEnv(t, "httpmock", nil)
	s := testServer(t, env.MarketData, func(c *testConfig, d *testDeps) {
		d.MarketClock = nil
		c.Watchlist = []string{"AAPL", "BTC-USD", "EUR_USD"}
	})
	serve(t, s)
	j := trigger(t, s.Handler(), nil)
	done := waitJob(t, s, j.ID)
	require.Equal(t, jobs.Succeeded, done.State, done.Error)
	var res export.Result
	require.NoError(t, json.Unmarshal(done.Result, &res))
	require.Len(t, res.Bars, 3)
	for sym, n := range res.Bars {
		require.Greater(t, n, 200, sym)
	}
}
