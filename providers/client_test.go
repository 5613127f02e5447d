package providers_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// step is one scripted answer of the test server.
type step struct {
	status int
	header map[string]string
	body   string
	delay  time.Duration
}

// scripted serves steps in order, repeating the last one, and records when
// each request arrived.
type scripted struct {
	mu    sync.Mutex
	steps []step
	times []time.Time
	reqs  []*http.Request
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := len(s.times)
	s.times = append(s.times, time.Now())
	s.reqs = append(s.reqs, r.Clone(context.Background()))
	st := s.steps[min(n, len(s.steps)-1)]
	s.mu.Unlock()
	if st.delay > 0 {
		select {
		case <-time.After(st.delay):
		case <-r.Context().Done():
			return
		}
	}
	if st.status < 0 { // cut the connection without an answer
		panic(http.ErrAbortHandler)
	}
	for k, v := range st.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(st.status)
	io.WriteString(w, st.body)
}

func (s *scripted) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.times)
}

func newTestClient(t *testing.T, h http.Handler, classify providers.Classifier, opts ...providers.Option) (*providers.Client, *providertest.BodyTracker) {
	t.Helper()
	srv := providertest.NewServer(t, h)
	bt := &providertest.BodyTracker{Next: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(bt.Next.(*http.Transport).CloseIdleConnections)
	opts = append([]providers.Option{
		providers.WithTransport(bt),
		providers.WithRetry(3, time.Millisecond, 5*time.Millisecond),
		providers.WithTimeout(2 * time.Second),
		providers.WithLogger(slog.New(slog.DiscardHandler)),
	}, opts...)
	c, err := providers.NewClient("testprov", srv.URL+"/api", classify, nil, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, bt
}

func TestDo(t *testing.T) {
	tests := []struct {
		name      string
		steps     []step
		opts      []providers.Option
		method    string
		wantErr   error
		wantBody  string
		wantCalls int
		wantMsg   string
	}{
		{name: "ok", steps: []step{{status: 200, body: `{"ok":true}`}}, wantBody: `{"ok":true}`, wantCalls: 1},
		{name: "429 then ok", steps: []step{{status: 429, header: map[string]string{"Retry-After": "0"}}, {status: 200, body: "x"}}, wantBody: "x", wantCalls: 2},
		{name: "503 then ok", steps: []step{{status: 503}, {status: 200, body: "y"}}, wantBody: "y", wantCalls: 2},
		{name: "500 exhausted", steps: []step{{status: 500, body: "boom"}}, wantErr: providers.ErrUpstream, wantCalls: 3, wantMsg: "boom"},
		{name: "404 not retried", steps: []step{{status: 404, body: `{"message":"NotFound"}`}}, wantErr: providers.ErrNotFound, wantCalls: 1},
		{name: "401 unauthorized", steps: []step{{status: 401}}, wantErr: providers.ErrUnauthorized, wantCalls: 1},
		{name: "403 unauthorized", steps: []step{{status: 403}}, wantErr: providers.ErrUnauthorized, wantCalls: 1},
		{name: "429 exhausted", steps: []step{{status: 429}}, wantErr: providers.ErrRateLimited, wantCalls: 3},
		{name: "retry-after too long fails at once", steps: []step{{status: 429, header: map[string]string{"Retry-After": "3600"}}},
			wantErr: providers.ErrRateLimited, wantCalls: 1, wantMsg: "retry after 1h0m0s"},
		{name: "timeout then ok", steps: []step{{status: 200, delay: time.Second}, {status: 200, body: "z"}},
			opts: []providers.Option{providers.WithTimeout(50 * time.Millisecond)}, wantBody: "z", wantCalls: 2},
		{name: "timeout exhausted", steps: []step{{status: 200, delay: time.Second}},
			opts: []providers.Option{providers.WithTimeout(20 * time.Millisecond), providers.WithRetry(2, time.Millisecond, time.Millisecond)}, wantErr: providers.ErrTimeout, wantCalls: 2},
		{name: "POST not retried on 500", method: http.MethodPost, steps: []step{{status: 500}, {status: 200}}, wantErr: providers.ErrUpstream, wantCalls: 1},
		{name: "GET retried after a reset", steps: []step{{status: -1}, {status: 200, body: "r"}}, wantBody: "r", wantCalls: 2},
		{name: "POST not retried after a reset", method: http.MethodPost, steps: []step{{status: -1}, {status: 200}}, wantErr: providers.ErrUpstream, wantCalls: 1},
		{name: "POST retried on 429", method: http.MethodPost, steps: []step{{status: 429}, {status: 201, body: "made"}}, wantBody: "made", wantCalls: 2},
		{name: "HTML error page", steps: []step{{status: 502, body: "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"}},
			opts: []providers.Option{providers.WithRetry(1, 0, 0)}, wantErr: providers.ErrUpstream, wantCalls: 1, wantMsg: "HTML page: 502 Bad Gateway"},
		{name: "body too large", steps: []step{{status: 200, body: strings.Repeat("a", 2048)}},
			opts: []providers.Option{providers.WithMaxBodyBytes(1024)}, wantErr: providers.ErrUpstream, wantCalls: 1, wantMsg: "larger than 1024 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &scripted{steps: tt.steps}
			c, bt := newTestClient(t, h, nil, tt.opts...)
			resp, err := c.Do(t.Context(), providers.Request{Method: tt.method, Path: "/q", Op: "test", Body: bodyFor(tt.method)})
			require.ErrorIs(t, err, tt.wantErr)
			if tt.wantErr == nil {
				require.Equal(t, tt.wantBody, string(resp.Body))
			}
			if tt.wantMsg != "" {
				require.ErrorContains(t, err, tt.wantMsg)
			}
			require.Equal(t, tt.wantCalls, h.calls())
			bt.RequireAllClosed(t)
		})
	}
}

func bodyFor(method string) []byte {
	if method == http.MethodPost {
		return []byte(`{}`)
	}
	return nil
}

func TestRetryAfterHonoured(t *testing.T) {
	h := &scripted{steps: []step{{status: 429, header: map[string]string{"Retry-After": "1"}}, {status: 200, body: "ok"}}}
	c, _ := newTestClient(t, h, nil, providers.WithRetry(3, time.Millisecond, time.Millisecond))
	resp, err := c.Do(t.Context(), providers.Request{Path: "/q"})
	require.NoError(t, err)
	require.Equal(t, "ok", string(resp.Body))
	require.GreaterOrEqual(t, h.times[1].Sub(h.times[0]), time.Second, "second attempt came before Retry-After elapsed")
}

func TestClassifierMapsBodyErrors(t *testing.T) {
	// An API that answers 200 with an error body, as Alpha Vantage does.
	var classify providers.Classifier = func(resp *providers.Response) error {
		if bytes.Contains(resp.Body, []byte(`"Note"`)) {
			return &providers.StatusError{Provider: "testprov", Status: resp.Status, Kind: providers.ErrRateLimited, Message: "call frequency"}
		}
		return nil
	}
	h := &scripted{steps: []step{{status: 200, body: `{"Note":"limit"}`}, {status: 200, body: `{"data":1}`}}}
	c, _ := newTestClient(t, h, classify)
	resp, err := c.Do(t.Context(), providers.Request{Path: "/q"})
	require.NoError(t, err)
	require.Equal(t, `{"data":1}`, string(resp.Body))
	require.Equal(t, 2, h.calls(), "a rate-limit body is retried like a 429")
}

func TestSecretsNeverInErrors(t *testing.T) {
	const key = "sk-live-0123456789abcdef"
	h := &scripted{steps: []step{{status: 500, body: "bad key " + key}}}
	c, _ := newTestClient(t, h, nil, providers.WithSecrets(key), providers.WithRetry(1, 0, 0))
	_, err := c.Do(t.Context(), providers.Request{Path: "/q", Query: map[string][]string{"apikey": {key}}})
	require.ErrorIs(t, err, providers.ErrUpstream)
	require.NotContains(t, err.Error(), key)
	require.Contains(t, err.Error(), providers.Redacted)

	// A transport error (connection refused) carries the URL in net/http's
	// error; the client's must not.
	dead, err := providers.NewClient("testprov", "http://127.0.0.1:1/api", nil, nil,
		providers.WithSecrets(key), providers.WithRetry(1, 0, 0), providers.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	defer dead.Close()
	_, err = dead.Do(t.Context(), providers.Request{Path: "/q", Query: map[string][]string{"apikey": {key}}})
	require.Error(t, err)
	require.NotContains(t, err.Error(), key)
	require.NotContains(t, err.Error(), "apikey")
}

func TestCloseStopsInFlightAndRefusesNew(t *testing.T) {
	h := &scripted{steps: []step{{status: 200, delay: 10 * time.Second}}}
	c, _ := newTestClient(t, h, nil)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(context.Background(), providers.Request{Path: "/slow"})
		errc <- err
	}()
	require.Eventually(t, func() bool { return h.calls() == 1 }, 2*time.Second, time.Millisecond)
	require.NoError(t, c.Close())
	require.ErrorIs(t, <-errc, providers.ErrClosed)
	_, err := c.Do(t.Context(), providers.Request{Path: "/q"})
	require.ErrorIs(t, err, providers.ErrClosed)
}

func TestCallerCancelIsNotRetried(t *testing.T) {
	h := &scripted{steps: []step{{status: 200, delay: 10 * time.Second}}}
	c, _ := newTestClient(t, h, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, providers.Request{Path: "/slow"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, errors.Is(err, providers.ErrTimeout), "the caller's deadline is not the client's timeout")
	require.Equal(t, 1, h.calls())
}

func TestPathAndQuery(t *testing.T) {
	h := &scripted{steps: []step{{status: 200}}}
	c, _ := newTestClient(t, h, nil)
	_, err := c.Do(t.Context(), providers.Request{Path: "/v8/finance/chart/EURUSD%3DX", Query: map[string][]string{"interval": {"1d"}}})
	require.NoError(t, err)
	require.Equal(t, "/api/v8/finance/chart/EURUSD%3DX", h.reqs[0].URL.EscapedPath())
	require.Equal(t, "1d", h.reqs[0].URL.Query().Get("interval"))
	require.Equal(t, providers.DefaultUserAgent, h.reqs[0].Header.Get("User-Agent"))
}

func TestAuthorizerRunsPerAttempt(t *testing.T) {
	h := &scripted{steps: []step{{status: 503}, {status: 200}}}
	srv := providertest.NewServer(t, h)
	var n atomic.Int32
	auth := func(r *http.Request, _ []byte) error {
		r.Header.Set("X-Sig", string(rune('0'+n.Add(1))))
		return nil
	}
	c, err := providers.NewClient("testprov", srv.URL, nil, auth, providers.WithRetry(2, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Do(t.Context(), providers.Request{Path: "/"})
	require.NoError(t, err)
	require.Equal(t, "1", h.reqs[0].Header.Get("X-Sig"))
	require.Equal(t, "2", h.reqs[1].Header.Get("X-Sig"))
}

func TestObserverSeesEveryAttempt(t *testing.T) {
	h := &scripted{steps: []step{{status: 500}, {status: 200}}}
	var mu sync.Mutex
	var got []int
	c, _ := newTestClient(t, h, nil, providers.WithObserver(func(i providers.RequestInfo) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, i.Status)
	}))
	_, err := c.Do(t.Context(), providers.Request{Path: "/"})
	require.NoError(t, err)
	require.Equal(t, []int{500, 200}, got)
}

func TestOwnTransportReleasedByClose(t *testing.T) {
	h := &scripted{steps: []step{{status: 200, body: "ok"}}}
	providertest.CheckClose(t, h, func(base string) (io.Closer, error) {
		return providers.NewClient("testprov", base, nil, nil)
	}, func(c io.Closer) {
		for range 3 {
			_, err := c.(*providers.Client).Do(t.Context(), providers.Request{Path: "/"})
			require.NoError(t, err)
		}
	})
}

func TestUnclosedTracker(t *testing.T) {
	srv := providertest.NewServer(t, &scripted{steps: []step{{status: 200}}})
	providertest.CheckUnclosedTracker(t, "testprov", func(l *slog.Logger) (io.Closer, error) {
		c, err := providers.NewClient("testprov", srv.URL, nil, nil, providers.WithLogger(l))
		if err != nil {
			return nil, err
		}
		_, err = c.Do(context.Background(), providers.Request{Path: "/"})
		return c, err
	})
	srv.RequireNoOpenConns(t) // the tracker closed the dropped client's idle connection
}

func TestNewClientRejectsBadBaseURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "127.0.0.1:80", "http://"} {
		_, err := providers.NewClient("p", u, nil, nil)
		require.Error(t, err, u)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		give string
		want time.Duration
	}{
		{"", 0}, {"0", 0}, {"-1", 0}, {"5", 5 * time.Second}, {"1.5", 1500 * time.Millisecond}, {"soon", 0},
		{"1e30", 365 * 24 * time.Hour}, {"NaN", 0},
		{"Thu, 01 Jan 2026 00:00:30 GMT", 30 * time.Second}, {"Wed, 31 Dec 2025 23:00:00 GMT", 0},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, providers.ParseRetryAfter(tt.give, now), tt.give)
	}
}
