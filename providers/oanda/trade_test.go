package oanda_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/oanda"
)

func TestAccount(t *testing.T) {
	tests := []struct {
		name string
		file string
		want providers.Account
	}{
		{
			name: "2017 summary", file: "v3_accounts_summary.json",
			want: providers.Account{ID: "000-000-0000000-000", Currency: "USD", Balance: 100000, NAV: 100000, UnrealizedPL: 0,
				MarginUsed: 0, MarginAvailable: 100000, Provider: "oanda",
				Balances: []providers.Balance{{Currency: "USD", Total: 100000, Available: 100000, Hold: 0}}},
		},
		{
			name: "2023 summary with dividendAdjustment", file: "v3_accounts_summary_2023.json",
			want: providers.Account{ID: "123-321-12121212-2332", Currency: "AUD", Balance: 9794.7546, NAV: 9794.7546, UnrealizedPL: 0,
				MarginUsed: 0, MarginAvailable: 9794.7546, Provider: "oanda",
				Balances: []providers.Balance{{Currency: "AUD", Total: 9794.7546, Available: 9794.7546, Hold: 0}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMock(t)
			var rec providertest.Recorder
			mt.RegisterResponder(http.MethodGet, acctURL+"/summary", rec.Wrap(respond(200, fixture(t, tt.file))))
			got, err := c.Account(t.Context())
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			reqs, _ := rec.Requests()
			requireHeaders(t, reqs[0])
		})
	}
}

func TestAccountErrors(t *testing.T) {
	tests := []struct {
		name      string
		responder httpmock.Responder
		wantErr   error
		wantText  string
		wantCalls int
	}{
		{name: "401", responder: respond(401, err401), wantErr: providers.ErrUnauthorized, wantText: "oanda: unauthorized (HTTP 401): Insufficient authorization to perform request. [RequestID 24514834665124128]", wantCalls: 1},
		{name: "404 with code", responder: respond(404, []byte(`{"errorCode":"ACCOUNT_NOT_FOUND","errorMessage":"The account specified does not exist"}`)), wantErr: providers.ErrNotFound, wantText: "ACCOUNT_NOT_FOUND: The account specified does not exist", wantCalls: 1},
		{name: "400 with reject transactions", responder: respond(400, fixture(t, "v3_accounts_positions_close_PUT_400.json")), wantErr: providers.ErrUpstream,
			wantText: "CLOSEOUT_POSITION_DOESNT_EXIST: The Position requested to be closed out does not exist (reject reason CLOSEOUT_POSITION_REJECT,CLOSEOUT_POSITION_DOESNT_EXIST)", wantCalls: 1},
		{name: "account missing", responder: respond(200, []byte(`{"lastTransactionID":"1"}`)), wantErr: providers.ErrDecode, wantText: "decode account: field missing", wantCalls: 1},
		{name: "balance not a decimal", responder: respond(200, []byte(`{"account":{"id":"1","currency":"USD","balance":"a lot","NAV":"1"}}`)), wantErr: providers.ErrDecode, wantText: "account.balance", wantCalls: 1},
		{name: "balance a number", responder: respond(200, []byte(`{"account":{"id":"1","currency":"USD","balance":100,"NAV":"1"}}`)), wantErr: providers.ErrDecode, wantText: "account.balance", wantCalls: 1},
		{name: "empty body", responder: respond(200, nil), wantErr: providers.ErrDecode, wantText: "empty body", wantCalls: 1},
		{name: "HTML page with 200", responder: htmlResponder(200), wantErr: providers.ErrUpstream, wantText: "HTML instead of JSON", wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMock(t)
			mt.RegisterResponder(http.MethodGet, acctURL+"/summary", tt.responder)
			_, err := c.Account(t.Context())
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorContains(t, err, tt.wantText)
			require.Equal(t, tt.wantCalls, mt.GetTotalCallCount())
		})
	}
}

func TestPlaceOrder(t *testing.T) {
	buy1000 := providers.OrderRequest{Symbol: "EUR_USD", Side: providers.Buy, Type: providers.Market, Quantity: 1000, ClientOrderID: "id"}
	marketBody := map[string]any{"order": map[string]any{"type": "MARKET", "instrument": "EUR_USD", "units": "1000",
		"timeInForce": "FOK", "positionFill": "DEFAULT", "clientExtensions": map[string]any{"id": "id"}}}
	created := time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		give      providers.OrderRequest
		responder httpmock.Responder
		want      providers.Order
		wantBody  map[string]any
		wantErr   error
		wantText  string
		wantCalls int
	}{
		{
			name: "market buy filled (201)", give: buy1000, responder: respond(201, fixture(t, "v3_accounts_orders_POST_201_market_filled.json")),
			want: providers.Order{ID: "1", ClientOrderID: "id", Symbol: "EUR_USD", Side: providers.Buy, Type: providers.Market, Status: providers.OrderFilled,
				Quantity: 1000, FilledQuantity: 1000, AvgPrice: 1.16555, Fees: 0, Created: created, Provider: "oanda"},
			wantBody: marketBody, wantCalls: 1,
		},
		{
			name: "market halted: cancelled, no error", give: buy1000, responder: respond(201, fixture(t, "v3_accounts_orders_POST_201_cancelled_market_halted.json")),
			want: providers.Order{ID: "1", ClientOrderID: "id", Symbol: "EUR_USD", Side: providers.Buy, Type: providers.Market, Status: providers.OrderCancelled,
				Quantity: 1000, Reason: "MARKET_HALTED", Created: created, Provider: "oanda"},
			wantBody: marketBody, wantCalls: 1,
		},
		{
			name: "rejected (400)", give: providers.OrderRequest{Symbol: "GBP_USD", Side: providers.Sell, Type: providers.Limit, Quantity: 101, LimitPrice: 1.33687666666666, ClientOrderID: "c1"},
			responder: respond(400, fixture(t, "v3_accounts_orders_POST_400_rejected.json")),
			want: providers.Order{ClientOrderID: "c1", Symbol: "GBP_USD", Side: providers.Sell, Type: providers.Limit, Status: providers.OrderRejected,
				Quantity: 101, Reason: "PRICE_PRECISION_EXCEEDED", Provider: "oanda"},
			wantBody: map[string]any{"order": map[string]any{"type": "LIMIT", "instrument": "GBP_USD", "units": "-101", "price": "1.33687666666666",
				"timeInForce": "GTC", "positionFill": "DEFAULT", "clientExtensions": map[string]any{"id": "c1"}}},
			wantErr: oanda.ErrInvalidOrder, wantText: "PRICE_PRECISION_EXCEEDED: The price specified contains more precision than is allowed for the instrument", wantCalls: 1,
		},
		{
			name: "insufficient margin (400)", give: buy1000,
			responder: respond(400, []byte(`{"orderRejectTransaction":{"type":"MARKET_ORDER_REJECT","instrument":"EUR_USD","units":"1000","rejectReason":"INSUFFICIENT_MARGIN","id":"3","time":"2019-01-01T00:00:00.000000000Z"},"relatedTransactionIDs":["3"],"lastTransactionID":"3","errorMessage":"Insufficient margin to fill the order","errorCode":"INSUFFICIENT_MARGIN"}`)),
			want: providers.Order{ClientOrderID: "id", Symbol: "EUR_USD", Side: providers.Buy, Type: providers.Market, Status: providers.OrderRejected,
				Quantity: 1000, Reason: "INSUFFICIENT_MARGIN", Provider: "oanda"},
			wantBody: marketBody, wantErr: oanda.ErrInsufficientFunds, wantText: "Insufficient margin", wantCalls: 1,
		},
		{
			name: "500 is not retried", give: buy1000, responder: respond(500, []byte(`{"errorMessage":"Internal server error"}`)),
			wantBody: marketBody, wantErr: providers.ErrUpstream, wantText: "Internal server error", wantCalls: 1,
		},
		{
			name: "429 is retried", give: buy1000,
			responder: respond(429, []byte(`{"errorMessage":"Too many requests"}`)).Then(respond(201, fixture(t, "v3_accounts_orders_POST_201_market_filled.json"))),
			want: providers.Order{ID: "1", ClientOrderID: "id", Symbol: "EUR_USD", Side: providers.Buy, Type: providers.Market, Status: providers.OrderFilled,
				Quantity: 1000, FilledQuantity: 1000, AvgPrice: 1.16555, Fees: 0, Created: created, Provider: "oanda"},
			wantBody: marketBody, wantCalls: 2,
		},
		{name: "HTML 502 page", give: buy1000, responder: htmlResponder(502), wantBody: marketBody, wantErr: providers.ErrUpstream, wantText: "502 Bad Gateway", wantCalls: 1},
		{name: "malformed answer", give: buy1000, responder: respond(201, []byte(`{"orderCreateTransaction":{"type":`)), wantBody: marketBody, wantErr: providers.ErrDecode, wantCalls: 1},
		{name: "zero quantity", give: providers.OrderRequest{Symbol: "EUR_USD", Side: providers.Buy}, wantErr: oanda.ErrInvalidOrder, wantText: "quantity 0"},
		{name: "limit without price", give: providers.OrderRequest{Symbol: "EUR_USD", Side: providers.Buy, Type: providers.Limit, Quantity: 1}, wantErr: oanda.ErrInvalidOrder},
		{name: "crypto symbol", give: providers.OrderRequest{Symbol: "BTC-USD", Side: providers.Buy, Quantity: 1}, wantErr: providers.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMock(t)
			var rec providertest.Recorder
			if tt.responder != nil {
				mt.RegisterResponder(http.MethodPost, acctURL+"/orders", rec.Wrap(tt.responder))
			}
			got, err := c.PlaceOrder(t.Context(), tt.give)
			require.ErrorIs(t, err, tt.wantErr)
			if err != nil {
				require.ErrorContains(t, err, tt.wantText)
			}
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantCalls, mt.GetTotalCallCount())
			reqs, bodies := rec.Requests()
			for i := range reqs {
				requireHeaders(t, reqs[i])
				require.Equal(t, "application/json", reqs[i].Header.Get("Content-Type"))
				var body map[string]any
				require.NoError(t, json.Unmarshal(bodies[i], &body))
				require.Equal(t, tt.wantBody, body)
			}
		})
	}
}

func TestRejectDetails(t *testing.T) {
	c, mt := newMock(t)
	mt.RegisterResponder(http.MethodPost, acctURL+"/orders", respond(400, fixture(t, "v3_accounts_orders_POST_400_rejected.json")))
	_, err := c.PlaceOrder(t.Context(), providers.OrderRequest{Symbol: "GBP_USD", Side: providers.Buy, Quantity: 101, Type: providers.Limit, LimitPrice: 1.3})
	var ae *oanda.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "PRICE_PRECISION_EXCEEDED", ae.Code)
	require.Equal(t, "PRICE_PRECISION_EXCEEDED", ae.RejectReason)
	require.Equal(t, "The price specified contains more precision than is allowed for the instrument", ae.Message)
	require.Equal(t, "24514834665124128", ae.RequestID)
	require.Equal(t, 400, ae.Err.Status)
	require.ErrorIs(t, err, providers.ErrUpstream)
	require.NotErrorIs(t, err, oanda.ErrInsufficientFunds)
	require.False(t, providers.Retryable(err))
}

func TestPlaceOrderGeneratesClientOrderID(t *testing.T) {
	c, mt := newMock(t)
	var rec providertest.Recorder
	mt.RegisterResponder(http.MethodPost, acctURL+"/orders", rec.Wrap(respond(201, fixture(t, "v3_accounts_orders_POST_201_market_filled.json"))))
	_, err := c.PlaceOrder(t.Context(), providers.OrderRequest{Symbol: "EUR_USD", Side: providers.Sell, Quantity: 250})
	require.NoError(t, err)
	_, bodies := rec.Requests()
	var body struct {
		Order struct {
			Units            string `json:"units"`
			ClientExtensions struct {
				ID string `json:"id"`
			} `json:"clientExtensions"`
		} `json:"order"`
	}
	require.NoError(t, json.Unmarshal(bodies[0], &body))
	require.Equal(t, "-250", body.Order.Units)
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, body.Order.ClientExtensions.ID)
}
