// Package providertest holds the checks every provider package's tests run:
// fixture loading, a loopback server that counts its open connections, a
// transport that proves every response body was closed, and the Close and
// unclosed-tracker contracts; and the helpers they share: client options
// for tests, httpmock responders and a request recorder (mock.go), the
// skip for tests against the real APIs, parse benchmarks and bar checks.
package providertest

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
)

// Fixture returns the recorded response testdata/upstream/provider/name from
// the module root.
func Fixture(t testing.TB, provider, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "testdata", "upstream", provider, name))
	require.NoError(t, err)
	return b
}

func moduleRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Server is a loopback HTTP server that knows how many connections it has
// open, so a test can prove a client left none behind.
type Server struct {
	*httptest.Server
	mu    sync.Mutex
	conns map[net.Conn]http.ConnState
}

// NewServer starts h on 127.0.0.1 and closes it at the end of the test.
func NewServer(t testing.TB, h http.Handler) *Server {
	t.Helper()
	s := &Server{conns: map[net.Conn]http.ConnState{}}
	s.Server = httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if st == http.StateClosed || st == http.StateHijacked {
			delete(s.conns, c)
			return
		}
		s.conns[c] = st
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// OpenConns returns how many client connections the server has open.
func (s *Server) OpenConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// RequireNoOpenConns fails the test unless the server's connection count
// drops to zero within two seconds (the server learns of a close when it
// reads EOF).
func (s *Server) RequireNoOpenConns(t testing.TB) {
	t.Helper()
	require.Eventually(t, func() bool { return s.OpenConns() == 0 }, 2*time.Second, 5*time.Millisecond,
		"client left %d connection(s) open to the server", s.OpenConns())
}

// BodyTracker is an http.RoundTripper that counts response bodies handed out
// and closed.
type BodyTracker struct {
	Next           http.RoundTripper
	opened, closed atomic.Int64
}

// RoundTrip implements http.RoundTripper.
func (b *BodyTracker) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := b.Next.RoundTrip(r)
	if err != nil || resp == nil || resp.Body == nil {
		return resp, err
	}
	b.opened.Add(1)
	resp.Body = &trackedBody{ReadCloser: resp.Body, closed: &b.closed}
	return resp, nil
}

// RequireAllClosed fails the test unless every body handed out was closed.
func (b *BodyTracker) RequireAllClosed(t testing.TB) {
	t.Helper()
	require.Equal(t, b.opened.Load(), b.closed.Load(), "response bodies handed out vs closed")
}

type trackedBody struct {
	io.ReadCloser
	once   sync.Once
	closed *atomic.Int64
}

func (b *trackedBody) Close() error {
	b.once.Do(func() { b.closed.Add(1) })
	return b.ReadCloser.Close()
}

// CheckClose runs the contract every provider client keeps over a real
// loopback server: newClient(baseURL) makes a client, use exercises it (its
// errors are the test's business), then Close is called twice and
// concurrently; afterwards no goroutine of the client remains, the server
// sees no open connection, and the unclosed tracker stayed silent.
func CheckClose(t *testing.T, h http.Handler, newClient func(baseURL string) (io.Closer, error), use func(c io.Closer)) {
	t.Helper()
	srv := NewServer(t, h)
	baseline := goleak.IgnoreCurrent()
	before := providers.Unclosed()
	c, err := newClient(srv.URL)
	require.NoError(t, err)
	use(c)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = c.Close() })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err, "concurrent Close")
	}
	require.NoError(t, c.Close(), "second Close")
	srv.RequireNoOpenConns(t)
	goleak.VerifyNone(t, baseline)
	c = nil
	runtime.GC()
	runtime.GC()
	require.Equal(t, before, providers.Unclosed(), "a closed client was reported as unclosed")
}

// CheckUnclosedTracker proves that a client made by newClient and dropped
// without Close is reported: the Unclosed counter grows by one and a warning
// naming provider and this test's file is logged. newClient receives the
// logger the client must use.
func CheckUnclosedTracker(t *testing.T, provider string, newClient func(logger *slog.Logger) (io.Closer, error)) {
	t.Helper()
	CheckUnclosedTrackerN(t, provider, 1, newClient)
}

// CheckUnclosedTrackerN is CheckUnclosedTracker for a client built on n core
// Clients (for example one per upstream API): each of them is reported, so
// the Unclosed counter grows by n.
func CheckUnclosedTrackerN(t *testing.T, provider string, n int64, newClient func(logger *slog.Logger) (io.Closer, error)) {
	t.Helper()
	var buf SyncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	before := providers.Unclosed()
	func() {
		c, err := newClient(logger)
		require.NoError(t, err)
		_ = c // dropped without Close
	}()
	require.Eventually(t, func() bool {
		runtime.GC()
		return providers.Unclosed() >= before+n
	}, 5*time.Second, 10*time.Millisecond, "client dropped without Close was not reported")
	require.Eventually(t, func() bool { return strings.Contains(buf.String(), "without Close") }, time.Second, 5*time.Millisecond)
	out := buf.String()
	require.Contains(t, out, "provider="+provider)
	require.Contains(t, out, "_test.go:", "warning names where the client was created")
	// The counter is process-wide; the warnings in this logger are this
	// client's alone.
	require.Eventually(t, func() bool { return int64(strings.Count(buf.String(), "without Close")) == n }, time.Second, 5*time.Millisecond,
		"want exactly %d warning(s), got:\n%s", n, buf.String())
	require.GreaterOrEqual(t, providers.Unclosed(), before+n)
}

// SyncBuffer is a bytes.Buffer safe for concurrent writes, for a logger
// shared with a client's goroutines. The zero value is empty and ready.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
