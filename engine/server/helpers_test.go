package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/engine/service"
	"github.com/leakgate/leakgate/engine/store"
	"github.com/leakgate/leakgate/providers"
)

var quiet = slog.New(slog.DiscardHandler)

// marketNow is the market clock of the tests: the recorded sandbox data
// covers 2016.
var marketNow = time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)

const testToken = "test-token-0123456789"

// openDB opens the engine's store at path.
func openDB(t testing.TB, path string) *store.Store {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// fakeMD serves generated bars and quotes. Bars wait for gate when it is
// set.
type fakeMD struct {
	mu     sync.Mutex
	gate   chan struct{}
	calls  int
	prices []float64 // successive quote prices
}

func (f *fakeMD) Name() string                    { return "fake" }
func (f *fakeMD) Classes() []providers.AssetClass { return []providers.AssetClass{providers.Equity} }
func (f *fakeMD) Close() error                    { return nil }

func (f *fakeMD) Quote(_ context.Context, sym string) (providers.Quote, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	price := 100.0
	if len(f.prices) > 0 {
		price = f.prices[0]
		if len(f.prices) > 1 {
			f.prices = f.prices[1:]
		}
	}
	return providers.Quote{Symbol: sym, Price: price, Provider: "fake"}, nil
}

func (f *fakeMD) Bars(ctx context.Context, q providers.BarQuery) ([]providers.Bar, error) {
	f.mu.Lock()
	f.calls++
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	bars := make([]providers.Bar, 30)
	for i := range bars {
		c := 50 + float64(i%7)
		bars[i] = providers.Bar{Time: q.From.AddDate(0, 0, i), Open: c, High: c + 1, Low: c - 1, Close: c, Volume: 1}
	}
	return bars, nil
}

func (f *fakeMD) barCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// svcConfig and svcDeps name the service's types, so that testConfig and
// testDeps can embed them beside the Server's.
type (
	svcConfig = service.Config
	svcDeps   = service.Deps
)

// testConfig is what a test sets of a Server and of its service.
type testConfig struct {
	Config
	svcConfig
}

// testDeps is what a test gives a Server and its service.
type testDeps struct {
	Deps
	svcDeps
}

// testServer builds a Server over md with a fresh database and export
// directory; edit adjusts the config.
func testServer(t testing.TB, md providers.MarketData, edit func(*testConfig, *testDeps)) *Server {
	t.Helper()
	dir := t.TempDir()
	cfg := testConfig{
		Config: Config{Token: testToken, ShutdownTimeout: 10 * time.Second},
		svcConfig: svcConfig{
			ExportDir:    filepath.Join(dir, "exports"),
			Watchlist:    []string{"AAPL", "SPY"},
			DefaultRange: "1y",
			MonitorOff:   true,
		},
	}
	deps := testDeps{Deps: Deps{Logger: quiet}, svcDeps: svcDeps{MarketData: md, DB: openDB(t, filepath.Join(dir, "ffe.db")),
		Logger: quiet, MarketClock: func() time.Time { return marketNow }}}
	if edit != nil {
		edit(&cfg, &deps)
	}
	return newServer(t, cfg, deps)
}

// newServer builds the service and the Server over it, as the engine and
// ffe serve do, and closes both when the test ends: the Server, then the
// service.
func newServer(t testing.TB, cfg testConfig, deps testDeps, opts ...Option) *Server {
	t.Helper()
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics()
	}
	if deps.JobObserver == nil {
		deps.JobObserver = deps.Metrics.ObserveJob
	}
	svc, err := service.New(cfg.svcConfig, deps.svcDeps)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, svc.Close()) })
	s, err := New(cfg.Config, svc, deps.Deps, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// startServe runs Serve on a loopback port in the background and returns
// its base URL once it is ready; stop cancels Serve and returns its error.
func startServe(t testing.TB, s *Server) (base string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	for !s.ready.Load() {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("Serve returned before it was ready: %v", err)
		default:
		}
		time.Sleep(time.Millisecond)
	}
	return "http://" + ln.Addr().String(), func() error {
		cancel()
		return <-done
	}
}

// serve runs s on a loopback port until the test ends and returns its
// base URL.
func serve(t testing.TB, s *Server) string {
	t.Helper()
	base, stop := startServe(t, s)
	t.Cleanup(func() { require.NoError(t, stop()) })
	return base
}

// call sends a request to h in process and returns the response.
func call(t testing.TB, h http.Handler, method, target, token string, body io.Reader, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func decode[T any](t testing.TB, res *http.Response) T {
	t.Helper()
	defer res.Body.Close()
	var v T
	require.NoError(t, json.NewDecoder(res.Body).Decode(&v))
	return v
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

// trigger queues an export through h and returns the job.
func trigger(t testing.TB, h http.Handler, body any) JobView {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = jsonBody(body)
	}
	res := call(t, h, http.MethodPost, "/api/jobs/download-tracker/trigger", testToken, r)
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	return decode[JobView](t, res)
}

// waitJob waits for job id to finish.
func waitJob(t testing.TB, s *Server, id string) jobs.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	j, err := s.Queue().Wait(ctx, id)
	require.NoError(t, err)
	return j
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
