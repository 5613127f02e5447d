package oanda_test

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/oanda"
)

// upstream serves the recorded answers over HTTP under the sandbox's /oanda
// prefix, checking the bearer token like OANDA.
func upstream(t *testing.T) http.Handler {
	files := map[string][]byte{
		"GET /oanda/v3/instruments/GBP_USD/candles":               fixture(t, "v3_instruments_GBP_USD_candles_D_ask.json"),
		"GET /oanda/v3/accounts/" + accountID + "/pricing":        fixture(t, "v3_accounts_pricing.json"),
		"GET /oanda/v3/accounts/" + accountID + "/summary":        fixture(t, "v3_accounts_summary.json"),
		"GET /oanda/v3/accounts/" + accountID + "/candles/latest": fixture(t, "v3_accounts_candles_latest.json"),
		"POST /oanda/v3/accounts/" + accountID + "/orders":        fixture(t, "v3_accounts_orders_POST_201_market_filled.json"),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("RequestID", "42445612591956348")
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write(err401)
			return
		}
		body, ok := files[r.Method+" "+r.URL.Path]
		switch {
		case !ok:
			w.WriteHeader(http.StatusNotFound)
			body = err404
		case r.Method == http.MethodPost:
			w.WriteHeader(http.StatusCreated)
		}
		w.Write(body)
	})
}

func newLoopbackClient(baseURL string, opts ...providers.Option) (*oanda.Client, error) {
	return oanda.New(oanda.Config{BaseURL: baseURL + "/oanda", Token: testToken, AccountID: accountID},
		providertest.Options(opts...)...)
}

// TestCloseReleasesEverything runs every method over a loopback server and
// proves Close leaves no goroutine and no connection behind and that the
// unclosed tracker stays silent for a closed client.
func TestCloseReleasesEverything(t *testing.T) {
	providertest.CheckClose(t, upstream(t),
		func(baseURL string) (io.Closer, error) { return newLoopbackClient(baseURL) },
		func(cl io.Closer) {
			c := cl.(*oanda.Client)
			ctx := t.Context()
			bars, err := c.Bars(ctx, providers.BarQuery{Symbol: "GBP_USD", Interval: providers.Day})
			require.NoError(t, err)
			require.Len(t, bars, 99)
			q, err := c.Quote(ctx, "EUR_USD")
			require.NoError(t, err)
			require.Equal(t, 1.29415, q.Price)
			acct, err := c.Account(ctx)
			require.NoError(t, err)
			require.Equal(t, 100000.0, acct.NAV)
			latest, err := c.LatestCandles(ctx, "USD_JPY:M1:A")
			require.NoError(t, err)
			require.Len(t, latest, 7)
			o, err := c.PlaceOrder(ctx, providers.OrderRequest{Symbol: "EUR_USD", Side: providers.Buy, Quantity: 1000})
			require.NoError(t, err)
			require.Equal(t, providers.OrderFilled, o.Status)
			_, err = c.Quote(ctx, "USD_CHF")
			require.ErrorIs(t, err, providers.ErrNotFound)
			_, err = c.Bars(ctx, providers.BarQuery{Symbol: "USD_CHF"})
			require.ErrorIs(t, err, providers.ErrNotFound)
		})
}

func TestUnclosedTracker(t *testing.T) {
	srv := providertest.NewServer(t, upstream(t))
	providertest.CheckUnclosedTracker(t, "oanda", func(logger *slog.Logger) (io.Closer, error) {
		c, err := newLoopbackClient(srv.URL, providers.WithLogger(logger))
		if err != nil {
			return nil, err
		}
		_, err = c.Account(t.Context())
		return c, err
	})
}
