package sandbox

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
)

func TestTransportWithCoreClient(t *testing.T) {
	baseline := goleak.IgnoreCurrent()
	h := New()
	c, err := providers.NewClient("polygon", "http://sandbox.invalid/polygon", nil, nil,
		providers.WithTransport(h.Transport()))
	require.NoError(t, err)
	resp, err := c.Do(t.Context(), providers.Request{Path: "/v2/aggs/ticker/AAPL/prev", Query: map[string][]string{"apiKey": {Key}}, Op: "prev"})
	require.NoError(t, err)
	require.Equal(t, 200, resp.Status)
	require.Contains(t, string(resp.Body), `"T":"AAPL"`)

	_, err = c.Do(t.Context(), providers.Request{Path: "/v2/aggs/ticker/AAPL/prev", Op: "prev"})
	require.ErrorIs(t, err, providers.ErrUnauthorized)

	body := []byte(`{"model":"m","messages":[{"role":"user","content":"SPY"}]}`)
	llm, err := providers.NewClient("llm", "https://anything/llm", nil,
		func(r *http.Request, _ []byte) error { r.Header.Set("Authorization", bearerX); return nil },
		providers.WithTransport(h.Transport()))
	require.NoError(t, err)
	resp, err = llm.Do(t.Context(), providers.Request{Method: "POST", Path: "/v1/chat/completions", Body: body, Op: "complete"})
	require.NoError(t, err)
	require.Contains(t, string(resp.Body), "SPY: last close 396.33")

	require.NoError(t, c.Close())
	require.NoError(t, llm.Close())
	goleak.VerifyNone(t, baseline)
}

func TestTransportFaultsThroughCoreClient(t *testing.T) {
	h := New(WithFaults(Faults{Seed: 1, RateLimit: Chance{P: 1}, RetryAfter: time.Millisecond}))
	c, err := providers.NewClient("polygon", "http://sandbox/polygon", nil, nil,
		providers.WithTransport(h.Transport()), providers.WithRetry(2, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Do(t.Context(), providers.Request{Path: "/v2/last/trade/AAPL", Query: map[string][]string{"apiKey": {Key}}, Op: "trade"})
	require.ErrorIs(t, err, providers.ErrRateLimited)
	require.Equal(t, int64(2), h.Stats()["polygon"].ByStatus[429], "retried once after Retry-After")

	h.SetFaults(Faults{Malformed: Chance{P: 1}})
	resp, err := c.Do(t.Context(), providers.Request{Path: "/v2/last/trade/AAPL", Query: map[string][]string{"apiKey": {Key}}, Op: "trade"})
	require.NoError(t, err, "the core does not parse")
	require.False(t, strings.HasSuffix(string(resp.Body), "}"))

	h.SetFaults(Faults{Slow: Chance{P: 1}, SlowInterval: time.Second})
	short, err := providers.NewClient("polygon", "http://sandbox/polygon", nil, nil,
		providers.WithTransport(h.Transport()), providers.WithRetry(1, 0, 0), providers.WithTimeout(50*time.Millisecond))
	require.NoError(t, err)
	defer short.Close()
	start := time.Now()
	_, err = short.Do(t.Context(), providers.Request{Path: "/v2/last/trade/AAPL", Query: map[string][]string{"apiKey": {Key}}, Op: "trade"})
	require.ErrorIs(t, err, providers.ErrTimeout)
	require.Less(t, time.Since(start), 500*time.Millisecond)
}

func TestTransportAsHTTPMockResponder(t *testing.T) {
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(New().Transport().RoundTrip)
	c, err := providers.NewClient("finnhub", "https://finnhub.test/finnhub", nil, nil, providers.WithTransport(mt))
	require.NoError(t, err)
	defer c.Close()
	resp, err := c.Do(t.Context(), providers.Request{Path: "/api/v1/quote", Query: map[string][]string{"symbol": {"SPY"}, "token": {Key}}, Op: "quote"})
	require.NoError(t, err)
	require.Contains(t, string(resp.Body), `"c":396.33`)
	require.Equal(t, 1, mt.GetTotalCallCount())
}

func TestTransportRequestBodyClosed(t *testing.T) {
	h := New()
	body := &closeRecorder{Reader: strings.NewReader(`{}`)}
	req, err := http.NewRequest("POST", "http://sandbox/llm/v1/chat/completions", body)
	require.NoError(t, err)
	res, err := h.Transport().RoundTrip(req)
	require.NoError(t, err)
	require.True(t, body.closed)
	require.Equal(t, 401, res.StatusCode)
	require.Equal(t, "401 Unauthorized", res.Status)
	require.Same(t, req, res.Request)
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.EqualValues(t, len(b), res.ContentLength)
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestServer(t *testing.T) {
	baseline := goleak.IgnoreCurrent()
	srv, err := Start()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(srv.URL(), "http://127.0.0.1:"))
	require.Equal(t, srv.URL()+"/oanda", srv.BaseURL("oanda"))
	require.Equal(t, srv.URL()+"/oanda", srv.BaseURL("/oanda/"))

	tr := &http.Transport{}
	c := &http.Client{Transport: tr}
	res, err := c.Get(srv.BaseURL("yahoo") + "/v8/finance/chart/SPY?range=5d")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode)

	// A request stuck in fault latency does not hold up Close.
	srv.Handler.SetFaults(Faults{Latency: time.Minute})
	done := make(chan error, 1)
	go func() {
		res, err := c.Get(srv.BaseURL("yahoo") + "/v8/finance/chart/SPY")
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the request reach the handler
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { _ = srv.Close() })
	}
	wg.Wait()
	require.NoError(t, srv.Close())
	require.Error(t, <-done)
	tr.CloseIdleConnections()

	_, err = c.Get(srv.URL())
	require.Error(t, err, "closed")
	goleak.VerifyNone(t, baseline)
}

func TestServerCancelsOnContext(t *testing.T) {
	srv, err := Start(WithFaults(Faults{Latency: time.Minute}))
	require.NoError(t, err)
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", srv.BaseURL("polygon")+"/v2/last/trade/AAPL?apiKey=k", nil)
	require.NoError(t, err)
	_, err = tr.RoundTrip(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Eventually(t, func() bool { return srv.Handler.Stats()["polygon"].Faults["canceled"] == 1 }, 2*time.Second, 10*time.Millisecond)
}
