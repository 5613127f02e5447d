package scenarios

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// yahooChartPath is a Yahoo chart request the sandbox answers.
const yahooChartPath = "/yahoo/v8/finance/chart/AAPL?range=5d&interval=1d"

func openTestMarket(t *testing.T, mode Mode) *Market {
	t.Helper()
	m, err := OpenMarket(mode)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m
}

// TestMarketMockAnswers proves a request under a sandbox prefix is answered
// in mock mode, and counted by the sandbox.
func TestMarketMockAnswers(t *testing.T) {
	m := openTestMarket(t, Mock)
	require.Equal(t, MockURL, m.URL())
	require.NotNil(t, m.Transport())
	require.Len(t, m.EngineOptions(), 1)
	c := &http.Client{Transport: m.Transport()}
	resp, err := c.Get(m.URL() + yahooChartPath)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Contains(t, string(body), `"symbol":"AAPL"`)
	require.Equal(t, int64(1), m.Sandbox().Stats()["yahoo"].Requests)
	require.NoError(t, m.Err())
}

// TestMarketMockUnmocked proves that in mock mode a request no responder
// matches fails with an error that matches ErrUnmocked and names its
// method and URL, and that Market.Err reports it once.
func TestMarketMockUnmocked(t *testing.T) {
	tests := []struct {
		name   string
		method string
		url    string
	}{
		{name: "unknown prefix", method: http.MethodGet, url: MockURL + "/nosuchapi/v1/quote?symbol=AAPL"},
		{name: "prefix as part of a name", method: http.MethodGet, url: MockURL + "/yahoofinance/v8/finance/chart/AAPL"},
		{name: "no path", method: http.MethodGet, url: MockURL},
		{name: "another host", method: http.MethodGet, url: "http://api.example.com" + yahooChartPath},
		{name: "https", method: http.MethodGet, url: "https://sandbox.mock" + yahooChartPath},
		{name: "unregistered method", method: http.MethodPatch, url: MockURL + "/coinbase/api/v3/brokerage/orders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := openTestMarket(t, Mock)
			c := &http.Client{Transport: m.Transport()}
			req, err := http.NewRequestWithContext(t.Context(), tt.method, tt.url, nil)
			require.NoError(t, err)
			resp, err := c.Do(req)
			if resp != nil {
				require.NoError(t, resp.Body.Close())
			}
			require.ErrorIs(t, err, ErrUnmocked)
			require.Contains(t, err.Error(), tt.method+" "+tt.url)

			err = m.Err()
			require.ErrorIs(t, err, ErrUnmocked)
			require.Contains(t, err.Error(), "1 request(s) had no responder: "+tt.method+" "+tt.url)
			require.NoError(t, m.Err(), "reported once")
			for prefix, st := range m.Sandbox().Stats() {
				require.Zero(t, st.Requests, "the sandbox saw no request under %s", prefix)
			}
		})
	}
}

// TestMarketMockKeepsFewUnmocked proves Market.Err counts every unmocked
// request but names only the first few.
func TestMarketMockKeepsFewUnmocked(t *testing.T) {
	m := openTestMarket(t, Mock)
	c := &http.Client{Transport: m.Transport()}
	for i := range 2 * maxUnmockedKept {
		resp, err := c.Get(MockURL + "/nowhere/" + strings.Repeat("x", i+1))
		if resp != nil {
			require.NoError(t, resp.Body.Close())
		}
		require.ErrorIs(t, err, ErrUnmocked)
	}
	err := m.Err()
	require.ErrorIs(t, err, ErrUnmocked)
	require.Contains(t, err.Error(), "10 request(s) had no responder")
	require.Equal(t, maxUnmockedKept, strings.Count(err.Error(), "GET "+MockURL+"/nowhere/"))
}

// liveConns measures this process's TCP sockets, listeners included.
func liveConns(t *testing.T) int {
	t.Helper()
	s, err := harness.Measure(t.Context())
	require.NoError(t, err)
	require.GreaterOrEqual(t, s.Conns, 0, "conns are measurable here")
	return s.Conns
}

// TestMarketSockets proves live mode serves over real loopback sockets,
// which the harness sees, and mock mode opens none: not for the market,
// not while a client holds a response.
func TestMarketSockets(t *testing.T) {
	tests := []struct {
		mode         Mode
		wantListener int // sockets the open market adds
		wantHeld     int // at least this many more while a response is held
	}{
		{mode: Mock, wantListener: 0, wantHeld: 0},
		{mode: Live, wantListener: 1, wantHeld: 2}, // the client's and the server's end
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			base := liveConns(t)
			m := openTestMarket(t, tt.mode)
			opened := liveConns(t)
			require.Equal(t, base+tt.wantListener, opened)

			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			rt := m.Transport()
			if rt == nil {
				require.True(t, strings.HasPrefix(m.URL(), "http://127.0.0.1:"), m.URL())
				rt = tr
			}
			c := &http.Client{Transport: rt}
			resp, err := c.Get(m.URL() + yahooChartPath)
			require.NoError(t, err)
			held := liveConns(t)
			_, err = io.Copy(io.Discard, resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, int64(1), m.Sandbox().Stats()["yahoo"].Requests)
			require.NoError(t, m.Err())
			if tt.wantHeld == 0 {
				require.Equal(t, opened, held)
			} else {
				require.GreaterOrEqual(t, held, opened+tt.wantHeld)
			}

			tr.CloseIdleConnections()
			require.NoError(t, m.Close())
			require.NoError(t, m.Close(), "Close is idempotent")
			deadline := time.Now().Add(2 * time.Second)
			n := liveConns(t)
			for n > base && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
				n = liveConns(t)
			}
			require.LessOrEqual(t, n, base, "the market's sockets are closed")
		})
	}
}
