package coinbase_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/coinbase"
	"github.com/leakgate/leakgate/providers/internal/providertest"
)

const (
	accountsURL = trURL + "/api/v3/brokerage/accounts"
	ordersURL   = trURL + "/api/v3/brokerage/orders"
	// The order of the recorded batch fixture.
	fixtureOrderID  = "01b6e467-b659-432f-9490-c7cefe949564"
	fixtureClientID = "a0f970a2-05fa-4e1f-9517-f6702c33cfd1"
	orderURL        = trURL + "/api/v3/brokerage/orders/historical/" + fixtureOrderID
)

func TestAccount(t *testing.T) {
	c, mt := newMock(t)
	page1, page2 := local(t, "advtrade_accounts_page1.json"), local(t, "advtrade_accounts_page2.json")
	var rec providertest.Recorder
	mt.RegisterResponder(http.MethodGet, accountsURL, rec.Wrap(func(req *http.Request) (*http.Response, error) {
		if req.URL.Query().Get("cursor") == "789100" {
			return providertest.RespondJSON(200, page2)(req)
		}
		return providertest.RespondJSON(200, page1)(req)
	}))
	acct, err := c.Account(t.Context())
	require.NoError(t, err)
	require.Equal(t, "b87a2d3f-8a1e-49b3-a4ea-402d8c389aca", acct.ID)
	require.Equal(t, "coinbase", acct.Provider)
	require.Equal(t, "USD", acct.Currency)
	require.Equal(t, 1025.75, acct.Balance, "USD available 1000.50 + hold 25.25")
	require.Len(t, acct.Balances, 3)
	want := []providers.Balance{
		{Currency: "BTC", Total: 1.25, Available: 1.23, Hold: 0.02},
		{Currency: "USD", Total: 1025.75, Available: 1000.50, Hold: 25.25},
		{Currency: "ETH", Total: 0.5, Available: 0.5, Hold: 0},
	}
	for i, w := range want {
		got := acct.Balances[i]
		require.Equal(t, w.Currency, got.Currency)
		require.InDelta(t, w.Total, got.Total, 1e-12)
		require.Equal(t, w.Available, got.Available)
		require.Equal(t, w.Hold, got.Hold)
	}

	reqs, _ := rec.Requests()
	require.Len(t, reqs, 2)
	for i, r := range reqs {
		require.Equal(t, "250", r.URL.Query().Get("limit"), "request %d", i)
		verifyJWT(t, testKeyPub(), r, "GET api.coinbase.com/api/v3/brokerage/accounts")
	}
	require.Empty(t, reqs[0].URL.Query().Get("cursor"))
	require.Equal(t, "789100", reqs[1].URL.Query().Get("cursor"))
}

func TestAccountErrors(t *testing.T) {
	page1 := local(t, "advtrade_accounts_page1.json")
	tests := []struct {
		name      string
		responder httpmock.Responder
		wantErr   error
		wantText  string
		wantCalls int
	}{
		{name: "401 JSON error", responder: providertest.RespondJSON(401, local(t, "advtrade_error_401.json")), wantErr: providers.ErrUnauthorized, wantText: "UNAUTHENTICATED: Unauthenticated", wantCalls: 1},
		{name: "401 plain text", responder: providertest.RespondJSON(401, []byte("Unauthorized\n")), wantErr: providers.ErrUnauthorized, wantText: "HTTP 401", wantCalls: 1},
		{name: "403 permission", responder: providertest.RespondJSON(403, []byte(`{"error":"PERMISSION_DENIED","error_details":"Missing required scopes","message":"Missing required scopes"}`)), wantErr: providers.ErrUnauthorized, wantText: "PERMISSION_DENIED: Missing required scopes", wantCalls: 1},
		{name: "malformed JSON", responder: providertest.RespondJSON(200, page1[:40]), wantErr: providers.ErrDecode, wantCalls: 1},
		{name: "accounts missing", responder: providertest.RespondJSON(200, []byte(`{"has_next":false}`)), wantErr: providers.ErrDecode, wantText: "decode accounts: field missing", wantCalls: 1},
		{name: "balance not a number", responder: providertest.RespondJSON(200, []byte(`{"accounts":[{"currency":"BTC","available_balance":{"value":"lots"}}]}`)), wantErr: providers.ErrDecode, wantText: "accounts[0].available_balance.value", wantCalls: 1},
		{name: "HTML 503 page", responder: htmlResponder(503), wantErr: providers.ErrUpstream, wantText: "HTML page", wantCalls: 3},
		{name: "cursor repeats", responder: providertest.RespondJSON(200, page1), wantErr: providers.ErrDecode, wantText: "repeats", wantCalls: 2},
		{name: "has_next without cursor", responder: providertest.RespondJSON(200, []byte(`{"accounts":[],"has_next":true,"cursor":""}`)), wantErr: providers.ErrDecode, wantText: "cursor is empty", wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMock(t)
			mt.RegisterResponder(http.MethodGet, accountsURL, tt.responder)
			_, err := c.Account(t.Context())
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorContains(t, err, tt.wantText)
			require.Equal(t, tt.wantCalls, mt.GetTotalCallCount())
		})
	}
}

func TestAccountPagesBounded(t *testing.T) {
	c, mt := newMock(t)
	n := 0
	mt.RegisterResponder(http.MethodGet, accountsURL, func(req *http.Request) (*http.Response, error) {
		n++
		body := `{"accounts":[],"has_next":true,"cursor":"c` + strings.Repeat("x", n) + `"}`
		return httpmock.NewStringResponse(200, body), nil
	})
	_, err := c.Account(t.Context())
	require.ErrorIs(t, err, providers.ErrUpstream)
	require.ErrorContains(t, err, "more than 20 pages")
	require.Equal(t, coinbase.MaxAccountPages, mt.GetTotalCallCount())
}

// TestFreshJWTPerAttempt proves the Authorizer runs per attempt: a retried
// request carries a new, valid JWT.
func TestFreshJWTPerAttempt(t *testing.T) {
	c, mt := newMock(t)
	var rec providertest.Recorder
	mt.RegisterResponder(http.MethodGet, accountsURL, rec.Wrap(
		providertest.RespondJSON(503, []byte(`{"error":"UNAVAILABLE","message":"try again"}`)).Then(providertest.RespondJSON(200, local(t, "advtrade_accounts_page2.json")))))
	acct, err := c.Account(t.Context())
	require.NoError(t, err)
	require.Len(t, acct.Balances, 1)
	reqs, _ := rec.Requests()
	require.Len(t, reqs, 2)
	a := verifyJWT(t, testKeyPub(), reqs[0], "GET api.coinbase.com/api/v3/brokerage/accounts")
	b := verifyJWT(t, testKeyPub(), reqs[1], "GET api.coinbase.com/api/v3/brokerage/accounts")
	require.NotEqual(t, a.Header.Nonce, b.Header.Nonce)
	require.NotEqual(t, reqs[0].Header.Get("Authorization"), reqs[1].Header.Get("Authorization"))
}

func TestNoCredentials(t *testing.T) {
	mt := httpmock.NewMockTransport()
	c, err := coinbase.New(coinbase.Config{}, testOptions(mt)...)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Account(t.Context())
	require.ErrorIs(t, err, providers.ErrUnauthorized)
	require.ErrorContains(t, err, "no API key configured")
	_, err = c.PlaceOrder(t.Context(), providers.OrderRequest{Symbol: "BTC-USD", Side: providers.Buy, Quantity: 1})
	require.ErrorIs(t, err, providers.ErrUnauthorized)
	_, err = c.GetOrder(t.Context(), "x")
	require.ErrorIs(t, err, providers.ErrUnauthorized)
	_, err = c.Orders(t.Context(), coinbase.OrdersQuery{})
	require.ErrorIs(t, err, providers.ErrUnauthorized)
	_, err = c.Fills(t.Context(), coinbase.FillsQuery{})
	require.ErrorIs(t, err, providers.ErrUnauthorized)
	require.Zero(t, mt.GetTotalCallCount())
}

// filledOrder is the order of the recorded batch fixture
// (advtrade_orders_historical_batch_FILLED.json).
var filledOrder = providers.Order{
	ID: fixtureOrderID, ClientOrderID: fixtureClientID, Symbol: "ADA-USDT",
	Side: providers.Sell, Type: providers.Market, Status: providers.OrderFilled,
	Quantity: 10, FilledQuantity: 10, AvgPrice: 0.392, Fees: 0.03136,
	Created:  time.Date(2023, 11, 26, 10, 19, 47, 423220000, time.UTC),
	Provider: "coinbase",
}

func TestPlaceOrder(t *testing.T) {
	sell10 := providers.OrderRequest{Symbol: "ADA-USDT", Side: providers.Sell, Type: providers.Market, Quantity: 10, ClientOrderID: fixtureClientID}
	marketBody := map[string]any{
		"client_order_id": fixtureClientID, "product_id": "ADA-USDT", "side": "SELL",
		"order_configuration": map[string]any{"market_market_ioc": map[string]any{"base_size": "10"}},
	}
	rejected := providers.Order{ClientOrderID: fixtureClientID, Symbol: "ADA-USDT", Side: providers.Sell, Type: providers.Market,
		Status: providers.OrderRejected, Quantity: 10, Provider: "coinbase", Reason: "INSUFFICIENT_FUND"}
	tests := []struct {
		name      string
		give      providers.OrderRequest
		create    httpmock.Responder
		get       httpmock.Responder
		want      providers.Order
		wantBody  map[string]any
		wantErr   error
		wantText  string
		wantPosts int
		wantGets  int
	}{
		{
			name: "market sell filled", give: sell10,
			create: providertest.RespondJSON(200, local(t, "advtrade_create_order_success.json")), get: providertest.RespondJSON(200, local(t, "advtrade_order_FILLED.json")),
			want: filledOrder, wantBody: marketBody, wantPosts: 1, wantGets: 1,
		},
		{
			name: "insufficient funds (HTTP 200, success false)", give: sell10,
			create: providertest.RespondJSON(200, local(t, "advtrade_create_order_insufficient_fund.json")),
			want:   rejected, wantBody: marketBody, wantErr: coinbase.ErrInsufficientFunds,
			wantText: "order rejected: INSUFFICIENT_FUND: Insufficient balance in source account", wantPosts: 1,
		},
		{
			name:   "invalid limit price",
			give:   providers.OrderRequest{Symbol: "BTC-USD", Side: providers.Buy, Type: providers.Limit, Quantity: 0.001, LimitPrice: 10000, ClientOrderID: "c1"},
			create: providertest.RespondJSON(200, local(t, "advtrade_create_order_invalid_limit_price.json")),
			want: providers.Order{ClientOrderID: "c1", Symbol: "BTC-USD", Side: providers.Buy, Type: providers.Limit, Status: providers.OrderRejected,
				Quantity: 0.001, Provider: "coinbase", Reason: "INVALID_LIMIT_PRICE_POST_ONLY"},
			wantBody: map[string]any{"client_order_id": "c1", "product_id": "BTC-USD", "side": "BUY",
				"order_configuration": map[string]any{"limit_limit_gtc": map[string]any{"base_size": "0.001", "limit_price": "10000", "post_only": false}}},
			wantErr: coinbase.ErrInvalidOrder, wantText: "INVALID_LIMIT_PRICE_POST_ONLY: Invalid limit price for post only order (limit price would cross the book)", wantPosts: 1,
		},
		{
			name: "500 is not retried", give: sell10, create: providertest.RespondJSON(500, []byte(`{"error":"INTERNAL","message":"internal error"}`)),
			wantBody: marketBody, wantErr: providers.ErrUpstream, wantText: "INTERNAL: internal error", wantPosts: 1,
		},
		{
			name: "429 is retried with the same client order id", give: sell10,
			create: providertest.RespondJSON(429, []byte(`{"error":"RATE_LIMIT_EXCEEDED","message":"Too many requests"}`)).Then(providertest.RespondJSON(200, local(t, "advtrade_create_order_success.json"))),
			get:    providertest.RespondJSON(200, local(t, "advtrade_order_FILLED.json")), want: filledOrder, wantBody: marketBody, wantPosts: 2, wantGets: 1,
		},
		{
			name: "follow-up read fails", give: sell10,
			create: providertest.RespondJSON(200, local(t, "advtrade_create_order_success.json")), get: providertest.RespondJSON(404, []byte(`{"error":"NOT_FOUND","message":"order not found"}`)),
			want: providers.Order{ID: fixtureOrderID, ClientOrderID: fixtureClientID, Symbol: "ADA-USDT", Side: providers.Sell, Type: providers.Market,
				Status: providers.OrderPending, Quantity: 10, Provider: "coinbase"},
			wantBody: marketBody, wantErr: providers.ErrNotFound, wantText: "was placed, but reading its status failed", wantPosts: 1, wantGets: 1,
		},
		{
			name: "HTML page with 200", give: sell10, create: htmlResponder(200),
			wantBody: marketBody, wantErr: providers.ErrUpstream, wantText: "HTML instead of JSON", wantPosts: 1,
		},
		{
			name: "malformed answer", give: sell10, create: providertest.RespondJSON(200, []byte(`{"success":true,"success_response":{"order_id":`)),
			wantBody: marketBody, wantErr: providers.ErrDecode, wantPosts: 1,
		},
		{name: "zero quantity", give: providers.OrderRequest{Symbol: "BTC-USD", Side: providers.Buy}, wantErr: coinbase.ErrInvalidOrder, wantText: "quantity 0"},
		{name: "unknown side", give: providers.OrderRequest{Symbol: "BTC-USD", Side: "HOLD", Quantity: 1}, wantErr: coinbase.ErrInvalidOrder, wantText: `side "HOLD"`},
		{name: "limit without price", give: providers.OrderRequest{Symbol: "BTC-USD", Side: providers.Buy, Type: providers.Limit, Quantity: 1}, wantErr: coinbase.ErrInvalidOrder, wantText: "limit price 0"},
		{name: "equity symbol", give: providers.OrderRequest{Symbol: "AAPL", Side: providers.Buy, Quantity: 1}, wantErr: providers.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMock(t)
			var posts, gets providertest.Recorder
			if tt.create != nil {
				mt.RegisterResponder(http.MethodPost, ordersURL, posts.Wrap(tt.create))
			}
			if tt.get != nil {
				mt.RegisterResponder(http.MethodGet, orderURL, gets.Wrap(tt.get))
			}
			got, err := c.PlaceOrder(t.Context(), tt.give)
			require.ErrorIs(t, err, tt.wantErr)
			if err != nil {
				require.ErrorContains(t, err, tt.wantText)
			}
			require.Equal(t, tt.want, got)

			preqs, pbodies := posts.Requests()
			require.Len(t, preqs, tt.wantPosts)
			for i := range preqs {
				var body map[string]any
				require.NoError(t, json.Unmarshal(pbodies[i], &body))
				require.Equal(t, tt.wantBody, body)
				require.Equal(t, "application/json", preqs[i].Header.Get("Content-Type"))
				verifyJWT(t, testKeyPub(), preqs[i], "POST api.coinbase.com/api/v3/brokerage/orders")
			}
			greqs, _ := gets.Requests()
			require.Len(t, greqs, tt.wantGets)
			for _, r := range greqs {
				verifyJWT(t, testKeyPub(), r, "GET api.coinbase.com/api/v3/brokerage/orders/historical/"+fixtureOrderID)
			}
		})
	}
}

func TestOrderErrorDetails(t *testing.T) {
	_, err := coinbase.ParseCreateOrder(local(t, "advtrade_create_order_insufficient_fund.json"))
	var oe *coinbase.OrderError
	require.True(t, errors.As(err, &oe))
	require.Equal(t, "INSUFFICIENT_FUND", oe.Reason)
	require.Equal(t, "Insufficient balance in source account", oe.Message)
	require.Equal(t, "PREVIEW_INSUFFICIENT_FUND", oe.PreviewFailureReason)
	require.Equal(t, "UNKNOWN_FAILURE_REASON", oe.FailureReason)
	require.ErrorIs(t, err, providers.ErrUpstream)
	require.ErrorIs(t, err, coinbase.ErrInsufficientFunds)
	require.NotErrorIs(t, err, coinbase.ErrInvalidOrder)
	require.Equal(t, "order rejected: INSUFFICIENT_FUND: Insufficient balance in source account [PREVIEW_INSUFFICIENT_FUND]", err.Error())
}

func TestPlaceOrderGeneratesClientOrderID(t *testing.T) {
	c, mt := newMock(t)
	var posts providertest.Recorder
	mt.RegisterResponder(http.MethodPost, ordersURL, posts.Wrap(providertest.RespondJSON(200, local(t, "advtrade_create_order_insufficient_fund.json"))))
	_, err := c.PlaceOrder(t.Context(), providers.OrderRequest{Symbol: "BTC-USD", Side: providers.Buy, Quantity: 0.5})
	require.ErrorIs(t, err, coinbase.ErrInsufficientFunds)
	_, bodies := posts.Requests()
	require.Len(t, bodies, 1)
	var body struct {
		ClientOrderID string `json:"client_order_id"`
	}
	require.NoError(t, json.Unmarshal(bodies[0], &body))
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, body.ClientOrderID)
}

func TestGetOrder(t *testing.T) {
	c, mt := newMock(t)
	mt.RegisterResponder(http.MethodGet, orderURL, providertest.RespondJSON(200, local(t, "advtrade_order_FILLED.json")))
	mt.RegisterResponder(http.MethodGet, trURL+"/api/v3/brokerage/orders/historical/nope", providertest.RespondJSON(404, []byte(`{"error":"NOT_FOUND","message":"order with this orderID was not found"}`)))
	got, err := c.GetOrder(t.Context(), fixtureOrderID)
	require.NoError(t, err)
	require.Equal(t, filledOrder, got)
	_, err = c.GetOrder(t.Context(), "nope")
	require.ErrorIs(t, err, providers.ErrNotFound)
	require.ErrorContains(t, err, "order with this orderID was not found")
	_, err = c.GetOrder(t.Context(), "")
	require.ErrorContains(t, err, "empty order id")
}

func TestOrdersAndFills(t *testing.T) {
	c, mt := newMock(t)
	var orders, fills providertest.Recorder
	mt.RegisterResponder(http.MethodGet, trURL+"/api/v3/brokerage/orders/historical/batch", orders.Wrap(providertest.RespondJSON(200, fixture(t, "advtrade_orders_historical_batch_FILLED.json"))))
	mt.RegisterResponder(http.MethodGet, trURL+"/api/v3/brokerage/orders/historical/fills", fills.Wrap(providertest.RespondJSON(200, fixture(t, "advtrade_orders_historical_fills.json"))))

	page, err := c.Orders(t.Context(), coinbase.OrdersQuery{Symbol: "ADA-USDT", Statuses: []string{"FILLED"}, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, coinbase.OrdersPage{Orders: []providers.Order{filledOrder}, HasNext: true, Cursor: "748478308"}, page)
	reqs, _ := orders.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "ADA-USDT", reqs[0].URL.Query().Get("product_ids"))
	require.Equal(t, "FILLED", reqs[0].URL.Query().Get("order_status"))
	require.Equal(t, "1", reqs[0].URL.Query().Get("limit"))
	verifyJWT(t, testKeyPub(), reqs[0], "GET api.coinbase.com/api/v3/brokerage/orders/historical/batch")

	fp, err := c.Fills(t.Context(), coinbase.FillsQuery{OrderID: fixtureOrderID, Symbol: "ADA-USDT", Limit: 1, Cursor: "x"})
	require.NoError(t, err)
	require.Equal(t, coinbase.FillsPage{Cursor: "114994851", Fills: []coinbase.Fill{{
		EntryID: "dc7424ac5193601ae273cf704ece1667987d8c0b1077faa5fe3213e8e9efbd30",
		TradeID: "19fc7eee-f4b4-40a7-8104-033da1db5311", OrderID: fixtureOrderID, Symbol: "ADA-USDT", Side: providers.Sell,
		Price: 0.392, Size: 10, Commission: 0.03136, Liquidity: "TAKER",
		Time: time.Date(2023, 11, 26, 10, 19, 47, 504000000, time.UTC),
	}}}, fp)
	reqs, _ = fills.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, fixtureOrderID, reqs[0].URL.Query().Get("order_ids"))
	require.Equal(t, "ADA-USDT", reqs[0].URL.Query().Get("product_ids"))
	require.Equal(t, "x", reqs[0].URL.Query().Get("cursor"))
	verifyJWT(t, testKeyPub(), reqs[0], "GET api.coinbase.com/api/v3/brokerage/orders/historical/fills")
}

// TestSecretsRedacted: an upstream that echoes key material back (a
// misbehaving proxy) must not get it into an error or a log line.
func TestSecretsRedacted(t *testing.T) {
	_, pemKey := testKey()
	line := strings.Split(pemKey, "\n")[1]
	var logs providertest.SyncBuffer
	mt := httpmock.NewMockTransport()
	c, err := coinbase.New(coinbase.Config{KeyName: testKeyName, PrivateKey: pemKey},
		testOptions(mt, providers.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))...)
	require.NoError(t, err)
	defer c.Close()
	mt.RegisterResponder(http.MethodGet, accountsURL, providertest.RespondJSON(500, []byte(`{"error":"INTERNAL","message":"cannot use key `+line+`"}`)))
	_, err = c.Account(t.Context())
	require.ErrorIs(t, err, providers.ErrUpstream)
	require.NotContains(t, err.Error(), line)
	require.Contains(t, err.Error(), providers.Redacted)
	var se *providers.StatusError
	require.True(t, errors.As(err, &se))
	require.NotContains(t, se.Message, line)
	require.NotContains(t, logs.String(), line)
	require.NotEmpty(t, logs.String(), "retries were logged")
}
