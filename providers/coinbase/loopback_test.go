package coinbase_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/coinbase"
	"github.com/leakgate/leakgate/providers/internal/providertest"
)

// upstream serves the recorded answers over HTTP under the sandbox's
// prefixes: /coinbase-exchange for the Exchange, /coinbase for Advanced
// Trade. It records the Authorization headers it saw.
type upstream struct {
	t     *testing.T
	files map[string][]byte

	mu    sync.Mutex
	auths map[string][]*http.Request // path -> requests
}

func newUpstream(t *testing.T) *upstream {
	return &upstream{t: t, auths: map[string][]*http.Request{}, files: map[string][]byte{
		"candles":  fixture(t, "exchange_products_BTC-USD_candles_granularity3600.json"),
		"ticker":   fixture(t, "exchange_products_BTC-USDT_ticker.json"),
		"accounts": local(t, "advtrade_accounts_page2.json"),
		"create":   local(t, "advtrade_create_order_success.json"),
		"order":    local(t, "advtrade_order_FILLED.json"),
	}}
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/coinbase/") {
		u.mu.Lock()
		u.auths[r.URL.Path] = append(u.auths[r.URL.Path], r.Clone(r.Context()))
		u.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	var body []byte
	switch p := r.URL.Path; {
	case r.Method == http.MethodGet && p == "/coinbase-exchange/products/BTC-USD/candles":
		body = u.files["candles"]
	case r.Method == http.MethodGet && p == "/coinbase-exchange/products/BTC-USD/ticker":
		body = u.files["ticker"]
	case r.Method == http.MethodGet && p == "/coinbase/api/v3/brokerage/accounts":
		body = u.files["accounts"]
	case r.Method == http.MethodPost && p == "/coinbase/api/v3/brokerage/orders":
		io.Copy(io.Discard, r.Body)
		body = u.files["create"]
	case r.Method == http.MethodGet && p == "/coinbase/api/v3/brokerage/orders/historical/"+fixtureOrderID:
		body = u.files["order"]
	default:
		w.WriteHeader(http.StatusNotFound)
		body = []byte(`{"message":"NotFound"}`)
	}
	w.Write(body)
}

func newLoopbackClient(baseURL string, opts ...providers.Option) (*coinbase.Client, error) {
	_, pemKey := testKey()
	return coinbase.New(coinbase.Config{
		ExchangeURL: baseURL + "/coinbase-exchange",
		BaseURL:     baseURL + "/coinbase",
		KeyName:     testKeyName,
		PrivateKey:  pemKey,
	}, providertest.Options(opts...)...)
}

// TestCloseReleasesEverything runs every method over a loopback server and
// proves Close leaves no goroutine and no connection behind and that the
// unclosed tracker stays silent for a closed client.
func TestCloseReleasesEverything(t *testing.T) {
	up := newUpstream(t)
	var host string
	providertest.CheckClose(t, up,
		func(baseURL string) (io.Closer, error) {
			host = strings.TrimPrefix(baseURL, "http://")
			return newLoopbackClient(baseURL)
		},
		func(cl io.Closer) {
			c := cl.(*coinbase.Client)
			ctx := t.Context()
			bars, err := c.Bars(ctx, providers.BarQuery{Symbol: "BTC-USD", Interval: providers.Hour})
			require.NoError(t, err)
			require.Len(t, bars, 169)
			q, err := c.Quote(ctx, "BTC-USD")
			require.NoError(t, err)
			require.Equal(t, 73367.8, q.Price)
			acct, err := c.Account(ctx)
			require.NoError(t, err)
			require.Equal(t, "ETH", acct.Balances[0].Currency)
			o, err := c.PlaceOrder(ctx, providers.OrderRequest{Symbol: "ADA-USDT", Side: providers.Sell, Quantity: 10, ClientOrderID: fixtureClientID})
			require.NoError(t, err)
			require.Equal(t, providers.OrderFilled, o.Status)
			_, err = c.Quote(ctx, "ETH-USD")
			require.ErrorIs(t, err, providers.ErrNotFound)
		})

	// The JWT's uri claim names the host and path the request really went
	// to, prefix included.
	up.mu.Lock()
	defer up.mu.Unlock()
	for path, reqs := range up.auths {
		for _, r := range reqs {
			verifyJWT(t, testKeyPub(), r, r.Method+" "+host+path)
		}
	}
	require.Len(t, up.auths, 3, "accounts, orders, order")
}

func TestUnclosedTracker(t *testing.T) {
	srv := providertest.NewServer(t, newUpstream(t))
	// Both core clients (Exchange and Advanced Trade) are reported.
	providertest.CheckUnclosedTrackerN(t, "coinbase", 2, func(logger *slog.Logger) (io.Closer, error) {
		c, err := newLoopbackClient(srv.URL, providers.WithLogger(logger))
		if err != nil {
			return nil, err
		}
		_, err = c.Quote(t.Context(), "BTC-USD")
		return c, err
	})
}
