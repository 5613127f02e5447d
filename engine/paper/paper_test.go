package paper

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/engine/store"
	"github.com/leakgate/leakgate/providers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type quotes map[string]providers.Quote

func (q quotes) Quote(_ context.Context, s string) (providers.Quote, error) {
	v, ok := q[s]
	if !ok {
		return v, providers.ErrNotFound
	}
	return v, nil
}

func newBroker(t *testing.T, q quotes, o Options) (*Broker, *store.Store) {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), store.FileName))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	o.Now = func() time.Time { return time.Date(2024, 1, 2, 15, 0, 0, 0, time.UTC) }
	b, err := New(t.Context(), st, q, o)
	require.NoError(t, err)
	return b, st
}

func TestOrders(t *testing.T) {
	q := quotes{
		"AAPL":    {Symbol: "AAPL", Price: 100},
		"BTC-USD": {Symbol: "BTC-USD", Price: 20_000, Bid: 19_990, Ask: 20_010},
		"EUR_JPY": {Symbol: "EUR_JPY", Price: 150},
		"NAN":     {Symbol: "NAN", Price: math.NaN(), Provider: "bad"},
	}
	tests := []struct {
		name       string
		give       providers.OrderRequest
		wantStatus providers.OrderStatus
		wantPrice  float64
		wantFee    float64
		wantReason string
		wantErr    string
	}{
		{name: "buy at quote plus slippage", give: providers.OrderRequest{Symbol: "aapl", Side: providers.Buy, Quantity: 10},
			wantStatus: providers.OrderFilled, wantPrice: 100.1, wantFee: 10 * 100.1 * 0.002},
		{name: "buy crypto at ask", give: providers.OrderRequest{Symbol: "BTC-USD", Side: providers.Buy, Quantity: 0.5},
			wantStatus: providers.OrderFilled, wantPrice: 20_010 * 1.001, wantFee: 0.5 * 20_010 * 1.001 * 0.002},
		{name: "sell at bid minus slippage", give: providers.OrderRequest{Symbol: "BTC-USD", Side: providers.Sell, Quantity: 0.25},
			wantStatus: providers.OrderFilled, wantPrice: 19_990 * 0.999, wantFee: 0.25 * 19_990 * 0.999 * 0.002},
		{name: "too expensive", give: providers.OrderRequest{Symbol: "AAPL", Side: providers.Buy, Quantity: 1e6},
			wantStatus: providers.OrderRejected, wantReason: "needs"},
		{name: "no short", give: providers.OrderRequest{Symbol: "AAPL", Side: providers.Sell, Quantity: 11},
			wantStatus: providers.OrderRejected, wantReason: "does not short"},
		{name: "other currency", give: providers.OrderRequest{Symbol: "EUR_JPY", Side: providers.Buy, Quantity: 1},
			wantStatus: providers.OrderRejected, wantReason: "quoted in JPY"},
		{name: "limit not marketable", give: providers.OrderRequest{Symbol: "AAPL", Side: providers.Buy, Type: providers.Limit, Quantity: 1, LimitPrice: 99},
			wantStatus: providers.OrderRejected, wantReason: "not marketable"},
		{name: "limit marketable", give: providers.OrderRequest{Symbol: "AAPL", Side: providers.Buy, Type: providers.Limit, Quantity: 1, LimitPrice: 101},
			wantStatus: providers.OrderFilled, wantPrice: 101, wantFee: 101 * 0.002},
		{name: "NaN quote", give: providers.OrderRequest{Symbol: "NAN", Side: providers.Buy, Quantity: 1}, wantErr: "not a positive number"},
		{name: "unknown symbol", give: providers.OrderRequest{Symbol: "MSFT", Side: providers.Buy, Quantity: 1}, wantErr: "not found"},
		{name: "zero quantity", give: providers.OrderRequest{Symbol: "AAPL", Side: providers.Buy}, wantErr: "positive number"},
	}
	b, _ := newBroker(t, q, Options{FeeBps: 20, SlippageBps: 10})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := b.PlaceOrder(t.Context(), tt.give)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantStatus, o.Status, o.Reason)
			require.InDelta(t, tt.wantPrice, o.AvgPrice, 1e-9)
			require.InDelta(t, tt.wantFee, o.Fees, 1e-9)
			require.Contains(t, o.Reason, tt.wantReason)
			require.Equal(t, Name, o.Provider)
		})
	}
}

func TestAccount(t *testing.T) {
	q := quotes{"AAPL": {Symbol: "AAPL", Price: 100}}
	b, st := newBroker(t, q, Options{StartingCash: 10_000})
	ctx := t.Context()
	o, err := b.PlaceOrder(ctx, providers.OrderRequest{Symbol: "AAPL", Side: providers.Buy, Quantity: 10})
	require.NoError(t, err)
	require.Equal(t, providers.OrderFilled, o.Status)
	q["AAPL"] = providers.Quote{Symbol: "AAPL", Price: 110}
	a, err := b.Account(ctx)
	require.NoError(t, err)
	require.InDelta(t, 9_000, a.Balance, 1e-9)
	require.InDelta(t, 10_100, a.NAV, 1e-9)
	require.InDelta(t, 100, a.UnrealizedPL, 1e-9)
	require.Equal(t, []providers.Balance{{Currency: "USD", Total: 9000, Available: 9000}, {Currency: "AAPL", Total: 10, Available: 10}}, a.Balances)

	// A second broker on the same store sees the same account.
	b2, err := New(ctx, st, q, Options{StartingCash: 1})
	require.NoError(t, err)
	a2, err := b2.Account(ctx)
	require.NoError(t, err)
	require.Equal(t, a, a2)

	require.NoError(t, b.Close())
	require.NoError(t, b.Close())
	_, err = b.PlaceOrder(ctx, providers.OrderRequest{Symbol: "AAPL", Side: providers.Buy, Quantity: 1})
	require.ErrorIs(t, err, providers.ErrClosed)
}
