package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const polygonQuote = "/polygon/v2/last/trade/AAPL?apiKey=" + Key

func TestRateLimitFaultPerPrefix(t *testing.T) {
	h := New(WithFaults(Faults{RateLimit: Chance{P: 1}, RetryAfter: 1500 * time.Millisecond}))
	tests := []struct {
		target, ctype, contains string
	}{
		{"/alphavantage/query?function=GLOBAL_QUOTE&symbol=AAPL&apikey=k", ctJSON, `"Note"`},
		{"/coinbase-exchange/products/BTC-USD/ticker", ctJSONCharset, `"message":"Public rate limit exceeded"`},
		{"/coinbase/api/v3/brokerage/accounts", ctJSONCharset, `"error":"RATE_LIMIT_EXCEEDED"`},
		{"/oanda/v3/accounts/x/summary", ctJSON, `"errorMessage"`},
		{polygonQuote, ctJSON, `"status":"ERROR"`},
		{"/finnhub/api/v1/quote?symbol=AAPL&token=k", ctJSONCharset, `"error":"API limit reached`},
		{"/yahoo/v8/finance/chart/AAPL", ctText, "Too Many Requests"},
		{"/reddit/r/stocks/new", ctReddit, `"error": 429`},
		{"/reddit-www/api/v1/access_token", ctReddit, `"error": 429`},
		{"/llm/v1/chat/completions", ctJSON, `"code":"rate_limit_exceeded"`},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			res, b := call(t, h, "GET", tt.target, nil)
			require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
			require.Equal(t, "2", res.Header.Get("Retry-After"), "rounded up to whole seconds")
			require.Equal(t, tt.ctype, res.Header.Get("Content-Type"))
			require.Contains(t, string(b), tt.contains)
		})
	}
	require.Equal(t, int64(1), h.Stats()["oanda"].Faults["429"])
}

func TestServerErrorFault(t *testing.T) {
	h := New(WithFaultHeader())
	tests := []struct {
		header, ctype string
		status        int
	}{
		{"500", ctJSON, 500},
		{"502", ctHTML, 502},
		{"503", ctHTML, 503},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			res, b := call(t, h, "GET", polygonQuote, nil, FaultHeader, tt.header)
			require.Equal(t, tt.status, res.StatusCode)
			require.Equal(t, tt.ctype, res.Header.Get("Content-Type"))
			require.NotEmpty(t, b)
		})
	}
	t.Run("rotates without a fixed status", func(t *testing.T) {
		h := New(WithFaults(Faults{Seed: 3, ServerError: Chance{P: 1}}))
		seen := map[int]bool{}
		for range 30 {
			res, _ := call(t, h, "GET", polygonQuote, nil)
			seen[res.StatusCode] = true
		}
		require.Equal(t, map[int]bool{500: true, 502: true, 503: true}, seen)
	})
	t.Run("fixed status", func(t *testing.T) {
		h := New(WithFaults(Faults{ServerError: Chance{P: 1}, ServerStatus: 503}))
		res, b := call(t, h, "GET", polygonQuote, nil)
		require.Equal(t, 503, res.StatusCode)
		require.Contains(t, string(b), "503 Service Unavailable")
	})
}

func TestMalformedFault(t *testing.T) {
	h := New(WithFaultHeader())
	_, whole := call(t, h, "GET", polygonQuote, nil)
	res, b := call(t, h, "GET", polygonQuote, nil, FaultHeader, "malformed")
	require.Equal(t, 200, res.StatusCode)
	require.Len(t, b, len(whole)/2)
	require.Equal(t, whole[:len(b)], b, "a cut copy of the real answer")
	require.Error(t, json.Unmarshal(b, new(any)))
}

func TestHeaderIgnoredUnlessEnabled(t *testing.T) {
	res, _ := call(t, New(), "GET", polygonQuote, nil, FaultHeader, "500")
	require.Equal(t, 200, res.StatusCode)
}

func TestResetFault(t *testing.T) {
	t.Run("socket", func(t *testing.T) {
		srv, err := Start(WithFaultHeader())
		require.NoError(t, err)
		defer srv.Close()
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		req, err := http.NewRequest("GET", srv.URL()+polygonQuote, nil)
		require.NoError(t, err)
		req.Header.Set(FaultHeader, "reset")
		_, err = tr.RoundTrip(req)
		require.Error(t, err)
		require.Equal(t, int64(1), srv.Handler.Stats()["polygon"].ByStatus[0])
	})
	t.Run("transport", func(t *testing.T) {
		h := New(WithFaults(Faults{Reset: Chance{P: 1, Prefix: "polygon"}}))
		req := httptest.NewRequest("GET", "http://sandbox"+polygonQuote, nil)
		_, err := h.Transport().RoundTrip(req)
		require.ErrorIs(t, err, syscall.ECONNRESET)
	})
	t.Run("no hijacker", func(t *testing.T) {
		h := New(WithFaultHeader())
		require.PanicsWithValue(t, http.ErrAbortHandler, func() {
			req := httptest.NewRequest("GET", polygonQuote, nil)
			req.Header.Set(FaultHeader, "reset")
			h.ServeHTTP(httptest.NewRecorder(), req)
		})
	})
}

func TestSlowFault(t *testing.T) {
	faults := Faults{Slow: Chance{P: 1}, SlowChunk: 64, SlowInterval: 20 * time.Millisecond}
	t.Run("socket", func(t *testing.T) {
		srv, err := Start(WithFaults(faults))
		require.NoError(t, err)
		defer srv.Close()
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		start := time.Now()
		req, err := http.NewRequest("GET", srv.BaseURL("polygon")+"/v2/last/trade/AAPL?apiKey=k", nil)
		require.NoError(t, err)
		res, err := tr.RoundTrip(req)
		require.NoError(t, err)
		headers := time.Since(start)
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		res.Body.Close()
		chunks := (len(b) + 63) / 64
		require.GreaterOrEqual(t, time.Since(start), time.Duration(chunks)*20*time.Millisecond)
		require.Less(t, headers, time.Duration(chunks)*20*time.Millisecond, "headers come first")
		require.NoError(t, json.Unmarshal(b, new(any)), "the whole body arrives")
	})
	t.Run("transport honours the context", func(t *testing.T) {
		h := New(WithFaults(faults))
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
		defer cancel()
		req := httptest.NewRequest("GET", "http://sandbox"+polygonQuote, nil).WithContext(ctx)
		res, err := h.Transport().RoundTrip(req)
		require.NoError(t, err, "headers at once")
		_, err = io.ReadAll(res.Body)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NoError(t, res.Body.Close())
	})
	t.Run("client timeout over a socket", func(t *testing.T) {
		srv, err := Start(WithFaults(Faults{Slow: Chance{P: 1}, SlowChunk: 1, SlowInterval: time.Second}))
		require.NoError(t, err)
		tr := &http.Transport{}
		c := &http.Client{Transport: tr, Timeout: 100 * time.Millisecond}
		start := time.Now()
		res, err := c.Get(srv.BaseURL("polygon") + "/v2/last/trade/AAPL?apiKey=k")
		if err == nil {
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		require.Error(t, err)
		tr.CloseIdleConnections()
		require.NoError(t, srv.Close())
		require.Less(t, time.Since(start), 2*time.Second, "Close ends the trickle")
	})
}

func TestLatencyFault(t *testing.T) {
	h := New(WithFaults(Faults{Latency: 40 * time.Millisecond, LatencyJitter: 10 * time.Millisecond, LatencyPrefix: "polygon"}))
	start := time.Now()
	res, _ := call(t, h, "GET", polygonQuote, nil)
	require.Equal(t, 200, res.StatusCode)
	require.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond)

	start = time.Now()
	call(t, h, "GET", "/finnhub/api/v1/quote?symbol=AAPL&token=k", nil)
	require.Less(t, time.Since(start), 40*time.Millisecond, "other prefixes are not delayed")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := h.Transport().RoundTrip(httptest.NewRequest("GET", "http://sandbox"+polygonQuote, nil).WithContext(ctx))
	require.ErrorIs(t, err, context.Canceled)
}

func TestFaultPrefixScope(t *testing.T) {
	h := New(WithFaults(Faults{RateLimit: Chance{P: 1, Prefix: "oanda"}}))
	res, _ := call(t, h, "GET", polygonQuote, nil)
	require.Equal(t, 200, res.StatusCode)
	res, _ = call(t, h, "GET", "/oanda/v3/accounts/x/summary", nil, "Authorization", bearerX)
	require.Equal(t, 429, res.StatusCode)
}

// faultSequence returns the status of n requests.
func faultSequence(t *testing.T, h *Handler, n int) []int {
	out := make([]int, n)
	for i := range out {
		req := httptest.NewRequest("GET", polygonQuote, nil)
		rec := httptest.NewRecorder()
		func() {
			defer func() {
				if recover() != nil {
					out[i] = -1 // reset
				}
			}()
			h.ServeHTTP(rec, req)
			out[i] = rec.Code
		}()
	}
	return out
}

func TestFaultsDeterministic(t *testing.T) {
	f := Faults{Seed: 42, RateLimit: Chance{P: 0.2}, ServerError: Chance{P: 0.1}, Reset: Chance{P: 0.05}, Malformed: Chance{P: 0.1}}
	a := faultSequence(t, New(WithFaults(f)), 200)
	b := faultSequence(t, New(WithFaults(f)), 200)
	require.Equal(t, a, b, "same seed, same faults")
	counts := map[int]int{}
	for _, s := range a {
		counts[s]++
	}
	require.InDelta(t, 40, counts[429], 20)
	require.Positive(t, counts[-1])
	require.Positive(t, counts[200])

	f.Seed = 43
	require.NotEqual(t, a, faultSequence(t, New(WithFaults(f)), 200), "another seed, other faults")

	h := New()
	require.Equal(t, 200, faultSequence(t, h, 1)[0])
	h.SetFaults(Faults{RateLimit: Chance{P: 1}})
	require.Equal(t, Faults{RateLimit: Chance{P: 1}}, h.Faults())
	require.Equal(t, 429, faultSequence(t, h, 1)[0])
	h.SetFaults(Faults{})
	require.Equal(t, 200, faultSequence(t, h, 1)[0])
}

func TestStats(t *testing.T) {
	h := New(WithFaultHeader())
	call(t, h, "GET", polygonQuote, nil)
	call(t, h, "GET", polygonQuote, nil, FaultHeader, "429")
	call(t, h, "GET", "/polygon/v2/last/trade/AAPL", nil)
	st := h.Stats()
	require.Equal(t, PrefixStats{Requests: 3, ByStatus: map[int]int64{200: 1, 429: 1, 401: 1}, Faults: map[string]int64{"429": 1}}, st["polygon"])
	st["polygon"].ByStatus[200] = 99 // a copy
	require.Equal(t, int64(1), h.Stats()["polygon"].ByStatus[200])
	h.ResetStats()
	require.Empty(t, h.Stats())
}

func TestRetryAfterSeconds(t *testing.T) {
	for give, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", time.Second: "1", 1001 * time.Millisecond: "2", 30 * time.Second: "30"} {
		require.Equal(t, want, retryAfterSeconds(give), give.String())
	}
}
