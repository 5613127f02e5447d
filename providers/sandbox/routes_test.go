package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type routeTest struct {
	name   string
	method string // GET when empty
	target string
	body   string
	hdr    []string
	cbAuth bool // sign a Coinbase JWT for the request
	status int
	ctype  string
	// fixture is a recorded response (under testdata/upstream) the answer
	// must have the shape of; skip lists path prefixes allowed to differ.
	fixture string
	skip    []string
	// exact, when set, is the whole expected body.
	exact string
	check func(t *testing.T, body []byte)
}

const bearerX = "Bearer " + Key

func runRoutes(t *testing.T, h *Handler, tests []routeTest) {
	t.Helper()
	key := newKey(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			hdr := tt.hdr
			if tt.cbAuth {
				u, err := url.Parse(tt.target)
				require.NoError(t, err)
				hdr = append(hdr, "Authorization", cbAuth(t, key, method, strings.TrimPrefix(u.Path, "/coinbase")))
			}
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			res, got := call(t, h, method, tt.target, body, hdr...)
			require.Equal(t, tt.status, res.StatusCode, "body: %.300s", got)
			require.Equal(t, tt.ctype, res.Header.Get("Content-Type"))
			require.Equal(t, strconv.Itoa(len(got)), res.Header.Get("Content-Length"))
			if tt.fixture != "" {
				requireShape(t, upstream(t, tt.fixture), got, tt.skip...)
			}
			if tt.exact != "" {
				require.Equal(t, tt.exact, string(got))
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(b, &v), "%.300s", b)
	return v
}

func TestAlphaVantage(t *testing.T) {
	const q = "/alphavantage/query?apikey=" + Key + "&"
	type series map[string]map[string]string
	type daily struct {
		Meta   map[string]string `json:"Meta Data"`
		Series series            `json:"Time Series (Daily)"`
	}
	aapl, err := History("AAPL")
	require.NoError(t, err)
	invalid := func(fn string) string {
		return strings.Replace(string(upstream(t, "alphavantage/error_message_invalid_api_call.json")), "FX_DAILY", fn, 1)
	}
	runRoutes(t, New(), []routeTest{
		{name: "daily compact", target: q + "function=TIME_SERIES_DAILY&symbol=AAPL", status: 200, ctype: ctJSON,
			fixture: "alphavantage/time_series_daily_MSFT_compact.json",
			check: func(t *testing.T, b []byte) {
				d := decode[daily](t, b)
				require.Len(t, d.Series, 100)
				require.Equal(t, "Compact", d.Meta["4. Output Size"])
				last := aapl[len(aapl)-1]
				require.Equal(t, "2018-01-19", d.Meta["3. Last Refreshed"])
				require.Equal(t, "178.610001", d.Series["2018-01-19"]["1. open"])
				require.Equal(t, strconv.FormatFloat(last.Close, 'f', -1, 64), d.Series["2018-01-19"]["4. close"])
				require.Equal(t, "31269600", d.Series["2018-01-19"]["5. volume"])
				require.Contains(t, d.Series, aapl[len(aapl)-100].Time.Format(time.DateOnly))
				require.NotContains(t, d.Series, aapl[len(aapl)-101].Time.Format(time.DateOnly))
			}},
		{name: "daily full", target: q + "function=TIME_SERIES_DAILY&symbol=aapl&outputsize=full", status: 200, ctype: ctJSON,
			fixture: "alphavantage/time_series_daily_IBM.json",
			check: func(t *testing.T, b []byte) {
				d := decode[daily](t, b)
				require.Len(t, d.Series, len(aapl))
				require.Equal(t, "Full size", d.Meta["4. Output Size"])
				require.Equal(t, "2.168571", d.Series["2004-08-19"]["3. low"])
			}},
		{name: "daily adjusted", target: q + "function=TIME_SERIES_DAILY_ADJUSTED&symbol=SPY", status: 200, ctype: ctJSON,
			fixture: "alphavantage/time_series_daily_adjusted_IBM.json",
			check: func(t *testing.T, b []byte) {
				d := decode[daily](t, b)
				// Inside the Yahoo export's span the adjusted close is Yahoo's.
				require.Equal(t, "1.0000", d.Series["2021-03-31"]["8. split coefficient"])
				require.Equal(t, "396.3300", d.Series["2021-03-31"]["5. adjusted close"])
			}},
		{name: "global quote", target: q + "function=GLOBAL_QUOTE&symbol=AAPL", status: 200, ctype: ctJSON,
			fixture: "alphavantage/global_quote_IBM.json",
			check: func(t *testing.T, b []byte) {
				g := decode[map[string]map[string]string](t, b)["Global Quote"]
				require.Equal(t, "178.4600", g["05. price"][:8])
				require.Equal(t, "2018-01-19", g["07. latest trading day"])
				require.Equal(t, "179.259995", g["08. previous close"])
				require.Equal(t, "-0.4463%", g["10. change percent"])
			}},
		{name: "fx daily", target: q + "function=FX_DAILY&from_symbol=EUR&to_symbol=USD", status: 200, ctype: ctJSON,
			fixture: "alphavantage/fx_daily_EUR_USD.json",
			check: func(t *testing.T, b []byte) {
				d := decode[map[string]json.RawMessage](t, b)
				s := decode[series](t, d["Time Series FX (Daily)"])
				require.Len(t, s, 100)
				// Mid of bid 1.14607 and ask 1.14707.
				require.Equal(t, "1.14657", s["2018-12-31"]["4. close"])
			}},
		{name: "exchange rate forex", target: q + "function=CURRENCY_EXCHANGE_RATE&from_currency=EUR&to_currency=USD", status: 200, ctype: ctJSON,
			fixture: "alphavantage/currency_exchange_rate_BTC_CNY.json",
			check: func(t *testing.T, b []byte) {
				r := decode[map[string]map[string]string](t, b)["Realtime Currency Exchange Rate"]
				require.Equal(t, "1.14657000", r["5. Exchange Rate"])
				require.Equal(t, "1.14607000", r["8. Bid Price"])
				require.Equal(t, "1.14707000", r["9. Ask Price"])
			}},
		{name: "exchange rate crypto", target: q + "function=CURRENCY_EXCHANGE_RATE&from_currency=BTC&to_currency=USD", status: 200, ctype: ctJSON,
			fixture: "alphavantage/currency_exchange_rate_BTC_CNY.json"},
		{name: "digital currency", target: q + "function=DIGITAL_CURRENCY_DAILY&symbol=BTC&market=USD", status: 200, ctype: ctJSON,
			fixture: "alphavantage/digital_currency_daily_BTC_EUR.json",
			check: func(t *testing.T, b []byte) {
				d := decode[map[string]json.RawMessage](t, b)
				s := decode[series](t, d["Time Series (Digital Currency Daily)"])
				require.Len(t, s, 1318)
				require.Equal(t, "6253.67000000", s["2018-08-13"]["4. close"])
			}},
		{name: "unknown symbol", target: q + "function=TIME_SERIES_DAILY&symbol=NOPE", status: 200, ctype: ctJSON,
			exact: invalid("TIME_SERIES_DAILY")},
		{name: "crypto as equity", target: q + "function=TIME_SERIES_DAILY&symbol=BTC-USD", status: 200, ctype: ctJSON,
			exact: invalid("TIME_SERIES_DAILY")},
		{name: "unknown pair", target: q + "function=FX_DAILY&from_symbol=GBP&to_symbol=USD", status: 200, ctype: ctJSON,
			exact: invalid("FX_DAILY")},
		{name: "intraday", target: q + "function=TIME_SERIES_INTRADAY&symbol=AAPL&interval=5min", status: 200, ctype: ctJSON,
			exact: invalid("TIME_SERIES_INTRADAY")},
		{name: "unknown function", target: q + "function=NOPE", status: 200, ctype: ctJSON,
			check: func(t *testing.T, b []byte) {
				require.Equal(t, "This API function (NOPE) does not exist.", decode[map[string]string](t, b)["Error Message"])
			}},
		{name: "bad outputsize", target: q + "function=TIME_SERIES_DAILY&symbol=AAPL&outputsize=huge", status: 200, ctype: ctJSON,
			exact: invalid("TIME_SERIES_DAILY")},
		{name: "no apikey", target: "/alphavantage/query?function=TIME_SERIES_DAILY&symbol=AAPL", status: 200, ctype: ctJSON,
			check: func(t *testing.T, b []byte) {
				require.Equal(t, avMissingKey, decode[map[string]string](t, b)["Error Message"])
			}},
		{name: "revoked apikey", target: "/alphavantage/query?function=GLOBAL_QUOTE&symbol=AAPL&apikey=" + RevokedKey, status: 200, ctype: ctJSON,
			check: func(t *testing.T, b []byte) {
				require.Equal(t, avMissingKey, decode[map[string]string](t, b)["Error Message"])
			}},
		{name: "wrong path", target: "/alphavantage/other", status: 404, ctype: ctHTML},
	})
}

func TestCoinbaseExchange(t *testing.T) {
	btc, err := History("BTC-USD")
	require.NoError(t, err)
	runRoutes(t, New(), []routeTest{
		{name: "candles range", target: "/coinbase-exchange/products/BTC-USD/candles?granularity=86400&start=2018-01-01T00:00:00Z&end=2018-01-31T00:00:00Z",
			status: 200, ctype: ctJSONCharset, fixture: "coinbase/exchange_products_BTC-USD_candles_granularity3600.json",
			check: func(t *testing.T, b []byte) {
				rows := decode[[][6]float64](t, b)
				want := historyDates(t, "BTC-USD", "2018-01-01", "2018-01-31")
				require.Len(t, rows, len(want))
				require.Equal(t, want[len(want)-1], time.Unix(int64(rows[0][0]), 0).UTC().Format(time.DateOnly), "newest first")
				require.Equal(t, want[0], time.Unix(int64(rows[len(rows)-1][0]), 0).UTC().Format(time.DateOnly))
			}},
		{name: "candles latest 300", target: "/coinbase-exchange/products/BTC-USD/candles?granularity=86400", status: 200, ctype: ctJSONCharset,
			check: func(t *testing.T, b []byte) {
				rows := decode[[][6]float64](t, b)
				require.Len(t, rows, 300)
				last := btc[len(btc)-1]
				require.Equal(t, [6]float64{float64(last.Time.Unix()), last.Low, last.High, last.Open, last.Close, last.Volume}, rows[0])
			}},
		{name: "candles start only ignored", target: "/coinbase-exchange/products/BTC-USD/candles?granularity=86400&start=2015-01-01T00:00:00Z", status: 200, ctype: ctJSONCharset,
			check: func(t *testing.T, b []byte) { require.Len(t, decode[[][6]float64](t, b), 300) }},
		{name: "candles hourly empty", target: "/coinbase-exchange/products/BTC-USD/candles?granularity=3600&start=2018-01-01T00:00:00Z&end=2018-01-02T00:00:00Z",
			status: 200, ctype: ctJSONCharset, exact: "[]"},
		{name: "candles too many", target: "/coinbase-exchange/products/BTC-USD/candles?granularity=86400&start=2017-01-01T00:00:00Z&end=2018-01-01T00:00:00Z",
			status: 400, ctype: ctJSONCharset, exact: string(upstream(t, "coinbase/exchange_error_400_candles_granularity_too_small.json"))},
		{name: "candles no granularity", target: "/coinbase-exchange/products/BTC-USD/candles", status: 400, ctype: ctJSONCharset,
			exact: `{"message":"Unsupported granularity"}`},
		{name: "candles bad granularity", target: "/coinbase-exchange/products/BTC-USD/candles?granularity=7", status: 400, ctype: ctJSONCharset,
			exact: `{"message":"Unsupported granularity"}`},
		{name: "candles bad start", target: "/coinbase-exchange/products/BTC-USD/candles?granularity=86400&start=yesterday&end=today", status: 400, ctype: ctJSONCharset,
			exact: `{"message":"Invalid start"}`},
		{name: "ticker", target: "/coinbase-exchange/products/BTC-USD/ticker", status: 200, ctype: ctJSONCharset,
			fixture: "coinbase/exchange_products_BTC-USDT_ticker.json", skip: []string{".trade_id"},
			check: func(t *testing.T, b []byte) {
				tk := decode[map[string]any](t, b)
				require.Equal(t, "6253.67", tk["price"])
				require.Equal(t, "2018-08-13T23:59:59.999999Z", tk["time"])
			}},
		{name: "unknown product", target: "/coinbase-exchange/products/DOGE-USD/ticker", status: 404, ctype: ctJSONCharset, exact: `{"message":"NotFound"}`},
		{name: "unknown route", target: "/coinbase-exchange/currencies", status: 404, ctype: ctJSONCharset},
	})
}

func TestCoinbaseAdvanced(t *testing.T) {
	h := New()
	key := newKey(t)
	order := func(body string) []byte {
		_, b := call(t, h, http.MethodPost, "/coinbase/api/v3/brokerage/orders", []byte(body),
			"Authorization", cbAuth(t, key, http.MethodPost, "/api/v3/brokerage/orders"))
		return b
	}
	placed := decode[cbCreateResponse](t, order(`{"client_order_id":"c1","product_id":"BTC-USD","side":"BUY","order_configuration":{"market_market_ioc":{"base_size":"0.5"}}}`))
	require.True(t, placed.Success)
	id := placed.SuccessResponse.OrderID
	var historical struct {
		Orders []json.RawMessage `json:"orders"`
	}
	require.NoError(t, json.Unmarshal(upstream(t, "coinbase/advtrade_orders_historical_batch_FILLED.json"), &historical))
	recordedOrder, err := json.Marshal(map[string]json.RawMessage{"order": historical.Orders[0]})
	require.NoError(t, err)
	runRoutes(t, h, []routeTest{
		{name: "accounts", target: "/coinbase/api/v3/brokerage/accounts", cbAuth: true, status: 200, ctype: ctJSONCharset,
			check: func(t *testing.T, b []byte) {
				a := decode[struct {
					Accounts []cbAccount `json:"accounts"`
					HasNext  bool        `json:"has_next"`
					Size     int         `json:"size"`
				}](t, b)
				require.Len(t, a.Accounts, 2)
				require.Equal(t, 2, a.Size)
				require.Equal(t, "1.5", a.Accounts[0].AvailableBalance.Value, "1 BTC plus the 0.5 bought")
				require.Equal(t, "BTC", a.Accounts[0].Currency)
				// 100000 - 0.5×6253.67 - 0.6% fee.
				require.Equal(t, "96854.40", a.Accounts[1].AvailableBalance.Value)
			}},
		{name: "order by id", target: "/coinbase/api/v3/brokerage/orders/historical/" + id, cbAuth: true, status: 200, ctype: ctJSONCharset,
			fixture: "", check: func(t *testing.T, b []byte) {
				requireShape(t, recordedOrder, b, ".order.cursor")
				o := decode[struct{ Order cbOrder }](t, b).Order
				require.Equal(t, "FILLED", o.Status)
				require.Equal(t, "0.5", o.FilledSize)
				require.Equal(t, "6253.67", o.AverageFilledPrice)
				require.Equal(t, "c1", o.ClientOrderID)
			}},
		{name: "orders batch", target: "/coinbase/api/v3/brokerage/orders/historical/batch?product_ids=BTC-USD", cbAuth: true, status: 200, ctype: ctJSONCharset,
			fixture: "coinbase/advtrade_orders_historical_batch_FILLED.json", skip: []string{".orders[].cursor"}},
		{name: "fills", target: "/coinbase/api/v3/brokerage/orders/historical/fills?order_ids=" + id, cbAuth: true, status: 200, ctype: ctJSONCharset,
			fixture: "coinbase/advtrade_orders_historical_fills.json", skip: []string{".fills[].cursor"},
			check: func(t *testing.T, b []byte) {
				require.Len(t, decode[struct{ Fills []cbFill }](t, b).Fills, 1)
			}},
		{name: "unknown order", target: "/coinbase/api/v3/brokerage/orders/historical/nope", cbAuth: true, status: 404, ctype: ctJSONCharset,
			exact: `{"error":"NOT_FOUND","error_details":"order with this orderID was not found","message":"order with this orderID was not found"}`},
		{name: "no auth", target: "/coinbase/api/v3/brokerage/accounts", status: 401, ctype: ctText, exact: "Unauthorized\n"},
		{name: "not a JWT", target: "/coinbase/api/v3/brokerage/accounts", hdr: []string{"Authorization", bearerX}, status: 401, ctype: ctText},
		{name: "uri of another path", target: "/coinbase/api/v3/brokerage/accounts", status: 401, ctype: ctText,
			hdr: []string{"Authorization", cbAuth(t, key, "GET", "/api/v3/brokerage/orders")}},
		{name: "uri of another method", target: "/coinbase/api/v3/brokerage/accounts", status: 401, ctype: ctText,
			hdr: []string{"Authorization", cbAuth(t, key, "POST", "/api/v3/brokerage/accounts")}},
		{name: "uri with prefix", target: "/coinbase/api/v3/brokerage/accounts", status: 200, ctype: ctJSONCharset,
			hdr: []string{"Authorization", "Bearer " + jwtFor(t, key, "k", "GET 127.0.0.1:9/coinbase/api/v3/brokerage/accounts", time.Now())}},
		{name: "expired", target: "/coinbase/api/v3/brokerage/accounts", status: 401, ctype: ctText,
			hdr: []string{"Authorization", "Bearer " + jwtFor(t, key, "k", "GET api.coinbase.com/api/v3/brokerage/accounts", time.Now().Add(-3*time.Minute))}},
		{name: "revoked key", target: "/coinbase/api/v3/brokerage/accounts", status: 401, ctype: ctText,
			hdr: []string{"Authorization", "Bearer " + jwtFor(t, key, RevokedKey, "GET api.coinbase.com/api/v3/brokerage/accounts", time.Now())}},
	})

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name, body, code, preview string
		}{
			{"unknown product", `{"client_order_id":"c","product_id":"DOGE-USD","side":"BUY","order_configuration":{"market_market_ioc":{"base_size":"1"}}}`, "INVALID_PRODUCT_ID", "UNKNOWN_PREVIEW_FAILURE_REASON"},
			{"zero size", `{"client_order_id":"c","product_id":"BTC-USD","side":"BUY","order_configuration":{"market_market_ioc":{"base_size":"0"}}}`, "INVALID_ARGUMENT", "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL"},
			{"negative size", `{"client_order_id":"c","product_id":"BTC-USD","side":"SELL","order_configuration":{"market_market_ioc":{"base_size":"-1"}}}`, "INVALID_ARGUMENT", "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL"},
			{"bad side", `{"client_order_id":"c","product_id":"BTC-USD","side":"HOLD","order_configuration":{"market_market_ioc":{"base_size":"1"}}}`, "INVALID_SIDE", "UNKNOWN_PREVIEW_FAILURE_REASON"},
			{"too much", `{"client_order_id":"c","product_id":"BTC-USD","side":"SELL","order_configuration":{"market_market_ioc":{"base_size":"1000"}}}`, "INSUFFICIENT_FUND", "PREVIEW_INSUFFICIENT_FUND"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := decode[cbCreateResponse](t, order(tt.body))
				require.False(t, r.Success)
				require.Nil(t, r.SuccessResponse)
				require.Equal(t, tt.code, r.ErrorResponse.Error)
				require.Equal(t, tt.preview, r.ErrorResponse.PreviewFailureReason)
				require.NotEmpty(t, r.OrderConfiguration)
			})
		}
	})

	t.Run("limit order rests", func(t *testing.T) {
		r := decode[cbCreateResponse](t, order(`{"client_order_id":"l","product_id":"BTC-USD","side":"BUY","order_configuration":{"limit_limit_gtc":{"base_size":"0.1","limit_price":"1000","post_only":false}}}`))
		require.True(t, r.Success)
		_, b := call(t, h, "GET", "/coinbase/api/v3/brokerage/orders/historical/"+r.SuccessResponse.OrderID, nil,
			"Authorization", cbAuth(t, key, "GET", "/api/v3/brokerage/orders/historical/"+r.SuccessResponse.OrderID))
		require.Equal(t, "OPEN", decode[struct{ Order cbOrder }](t, b).Order.Status)
	})

	t.Run("quote size", func(t *testing.T) {
		r := decode[cbCreateResponse](t, order(`{"client_order_id":"q","product_id":"BTC-USD","side":"BUY","order_configuration":{"market_market_ioc":{"quote_size":"625.367"}}}`))
		require.True(t, r.Success)
		_, b := call(t, h, "GET", "/coinbase/api/v3/brokerage/orders/historical/"+r.SuccessResponse.OrderID, nil,
			"Authorization", cbAuth(t, key, "GET", "/api/v3/brokerage/orders/historical/"+r.SuccessResponse.OrderID))
		require.Equal(t, "0.1", decode[struct{ Order cbOrder }](t, b).Order.FilledSize)
	})

	t.Run("signature verified with a configured key", func(t *testing.T) {
		hk := New(WithCoinbaseKey(&key.PublicKey))
		res, _ := call(t, hk, "GET", "/coinbase/api/v3/brokerage/accounts", nil, "Authorization", cbAuth(t, key, "GET", "/api/v3/brokerage/accounts"))
		require.Equal(t, 200, res.StatusCode)
		res, _ = call(t, hk, "GET", "/coinbase/api/v3/brokerage/accounts", nil, "Authorization", cbAuth(t, newKey(t), "GET", "/api/v3/brokerage/accounts"))
		require.Equal(t, 401, res.StatusCode)
	})

	t.Run("orders kept are bounded", func(t *testing.T) {
		cb := newCoinbaseVenue(New().core)
		for range cbMaxOrders + 5 {
			cb.store(&cbOrder{OrderID: cb.uuid()}, nil)
		}
		require.Len(t, cb.orders, cbMaxOrders)
		require.Len(t, cb.order, cbMaxOrders)
	})
}

func TestOanda(t *testing.T) {
	h := New()
	eur, err := History("EUR_USD")
	require.NoError(t, err)
	auth := []string{"Authorization", bearerX}
	const acct = "/oanda/v3/accounts/" + OandaAccountID
	runRoutes(t, h, []routeTest{
		{name: "candles ask", target: "/oanda/v3/instruments/EUR_USD/candles?granularity=D&price=A&count=5", hdr: auth, status: 200, ctype: ctJSON,
			fixture: "oanda/v3_instruments_GBP_USD_candles_D_ask.json",
			check: func(t *testing.T, b []byte) {
				c := decode[struct {
					Candles []struct {
						Time string
						Ask  map[string]string
					}
				}](t, b)
				require.Len(t, c.Candles, 5)
				require.Equal(t, "2018-12-31T00:00:00.000000000Z", c.Candles[4].Time)
				require.Equal(t, "1.14707", c.Candles[4].Ask["c"])
			}},
		{name: "candles mid default price", target: "/oanda/v3/instruments/EUR_USD/candles?granularity=D&from=2018-12-24T00:00:00Z&to=2018-12-31T00:00:00Z", hdr: auth, status: 200, ctype: ctJSON,
			check: func(t *testing.T, b []byte) {
				c := decode[struct {
					Candles []struct {
						Time string
						Mid  map[string]string
					}
				}](t, b)
				require.Len(t, c.Candles, len(historyDates(t, "EUR_USD", "2018-12-24", "2018-12-31")))
				last := eur[len(eur)-1]
				require.Equal(t, strconv.FormatFloat(last.Close, 'f', -1, 64), c.Candles[len(c.Candles)-1].Mid["c"])
			}},
		{name: "candles bid ask both", target: "/oanda/v3/instruments/EUR_USD/candles?granularity=D&price=BA&count=1", hdr: auth, status: 200, ctype: ctJSON,
			check: func(t *testing.T, b []byte) {
				require.Contains(t, string(b), `"bid":{"o":"1.14385"`)
				require.Contains(t, string(b), `"ask":{"o":"1.14401"`)
				require.NotContains(t, string(b), `"mid"`)
			}},
		{name: "candles unix times", target: "/oanda/v3/instruments/EUR_USD/candles?granularity=D&count=1", status: 200, ctype: ctJSON,
			hdr:   []string{"Authorization", bearerX, "Accept-Datetime-Format", "UNIX"},
			check: func(t *testing.T, b []byte) { require.Contains(t, string(b), `"time":"1546214400.000000000"`) }},
		{name: "candles hourly empty", target: "/oanda/v3/instruments/EUR_USD/candles?granularity=H1", hdr: auth, status: 200, ctype: ctJSON,
			exact: `{"instrument":"EUR_USD","granularity":"H1","candles":[]}`},
		{name: "candles count and range", target: "/oanda/v3/instruments/EUR_USD/candles?granularity=D&count=5&from=2018-01-01T00:00:00Z&to=2018-02-01T00:00:00Z", hdr: auth, status: 400, ctype: ctJSON},
		{name: "candles bad granularity", target: "/oanda/v3/instruments/EUR_USD/candles?granularity=D2", hdr: auth, status: 400, ctype: ctJSON,
			exact: `{"errorMessage":"Invalid value specified for 'granularity'"}`},
		{name: "candles unknown instrument", target: "/oanda/v3/instruments/GBP_USD/candles?granularity=D", hdr: auth, status: 400, ctype: ctJSON,
			exact: `{"errorMessage":"Invalid value specified for 'instrument'"}`},
		{name: "latest candles", target: acct + "/candles/latest?candleSpecifications=EUR_USD:D:BA,EUR_USD:M1:A", hdr: auth, status: 200, ctype: ctJSON,
			fixture: "oanda/v3_accounts_candles_latest.json",
			check: func(t *testing.T, b []byte) {
				require.Contains(t, string(b), `{"instrument":"EUR_USD","granularity":"M1","candles":[]}`)
				require.Contains(t, string(b), `"time":"2018-12-31T00:00:00.000000000Z","bid":{"o":"1.14385"`)
			}},
		{name: "latest candles unknown", target: acct + "/candles/latest?candleSpecifications=XAU_USD:D:M", hdr: auth, status: 400, ctype: ctJSON},
		{name: "summary", target: acct + "/summary", hdr: auth, status: 200, ctype: ctJSON, fixture: "oanda/v3_accounts_summary.json",
			check: func(t *testing.T, b []byte) {
				require.Contains(t, string(b), `"id":"`+OandaAccountID+`"`)
				require.Contains(t, string(b), `"balance":"100000.0000"`)
			}},
		{name: "pricing", target: acct + "/pricing?instruments=EUR_USD", hdr: auth, status: 200, ctype: ctJSON, fixture: "oanda/v3_accounts_pricing.json",
			check: func(t *testing.T, b []byte) {
				require.Contains(t, string(b), `"bids":[{"price":"1.14607","liquidity":10000000}]`)
				require.Contains(t, string(b), `"tradeable":true`)
			}},
		{name: "pricing unknown", target: acct + "/pricing?instruments=EUR_USD,XAU_USD", hdr: auth, status: 400, ctype: ctJSON,
			exact: `{"errorMessage":"Invalid value specified for 'instruments'"}`},
		{name: "market order", method: "POST", target: acct + "/orders", hdr: auth, status: 201, ctype: ctJSON,
			body:    `{"order":{"type":"MARKET","instrument":"EUR_USD","units":"1000","timeInForce":"FOK","positionFill":"OPEN_ONLY","clientExtensions":{"id":"id","tag":"tag"}}}`,
			fixture: "oanda/v3_accounts_orders_POST_201_market_filled.json",
			check: func(t *testing.T, b []byte) {
				require.Contains(t, string(b), `"price":"1.14707"`, "a buy fills at the ask")
				require.Contains(t, string(b), `"clientOrderID":"id"`)
			}},
		{name: "market sell closes", method: "POST", target: acct + "/orders", hdr: auth, status: 201, ctype: ctJSON,
			body: `{"order":{"type":"MARKET","instrument":"EUR_USD","units":"-1000"}}`,
			check: func(t *testing.T, b []byte) {
				require.Contains(t, string(b), `"tradesClosed":[{"tradeID":"3","units":"-1000","price":"1.14607","realizedPL":"-1.0000"`)
				require.NotContains(t, string(b), "tradeOpened")
			}},
		{name: "summary after round trip", target: acct + "/summary", hdr: auth, status: 200, ctype: ctJSON,
			check: func(t *testing.T, b []byte) {
				require.Contains(t, string(b), `"balance":"99999.0000"`)
				require.Contains(t, string(b), `"openTradeCount":0`)
				require.Contains(t, string(b), `"lastTransactionID":"5"`)
			}},
		{name: "unknown instrument order", method: "POST", target: acct + "/orders", hdr: auth, status: 400, ctype: ctJSON,
			body:    `{"order":{"type":"MARKET","instrument":"XAU_USD","units":"10"}}`,
			fixture: "oanda/v3_accounts_orders_POST_400_rejected.json",
			skip:    []string{".orderRejectTransaction.price", ".orderRejectTransaction.triggerCondition", ".orderRejectTransaction.partialFill"},
			check: func(t *testing.T, b []byte) {
				require.Contains(t, string(b), `"rejectReason":"INSTRUMENT_UNKNOWN"`)
				require.Contains(t, string(b), `"type":"MARKET_ORDER_REJECT"`)
			}},
		{name: "zero units", method: "POST", target: acct + "/orders", hdr: auth, status: 400, ctype: ctJSON,
			body:  `{"order":{"type":"MARKET","instrument":"EUR_USD","units":"0"}}`,
			check: func(t *testing.T, b []byte) { require.Contains(t, string(b), `"errorCode":"UNITS_INVALID"`) }},
		{name: "limit order pending", method: "POST", target: acct + "/orders", hdr: auth, status: 201, ctype: ctJSON,
			body: `{"order":{"type":"LIMIT","instrument":"EUR_USD","units":"10","price":"1.1"}}`,
			check: func(t *testing.T, b []byte) {
				require.Contains(t, string(b), `"type":"LIMIT_ORDER"`)
				require.NotContains(t, string(b), "orderFillTransaction")
			}},
		{name: "no token", target: acct + "/summary", status: 401, ctype: ctJSON,
			exact: `{"errorMessage":"Insufficient authorization to perform request."}`},
		{name: "revoked token", target: acct + "/summary", hdr: []string{"Authorization", "Bearer " + RevokedKey}, status: 401, ctype: ctJSON,
			exact: `{"errorMessage":"Insufficient authorization to perform request."}`},
		{name: "unknown route", target: acct + "/trades", hdr: auth, status: 404, ctype: ctJSON},
	})
}

func TestPolygon(t *testing.T) {
	aapl, err := History("AAPL")
	require.NoError(t, err)
	type aggs struct {
		ResultsCount int
		Results      []struct {
			O, H, L, C, V float64
			T             int64 `json:"t"`
		}
		NextURL string `json:"next_url"`
	}
	const k = "apiKey=" + Key
	runRoutes(t, New(), []routeTest{
		{name: "range", target: "/polygon/v2/aggs/ticker/AAPL/range/1/day/2005-04-01/2005-04-04?" + k, status: 200, ctype: ctJSON,
			fixture: "polygon/v2_aggs_ticker_AAPL_range_1_day_2005-04-01_2005-04-04.json",
			check: func(t *testing.T, b []byte) {
				a := decode[aggs](t, b)
				require.Equal(t, 2, a.ResultsCount)
				// The recording's timestamps: midnight New York, EST then EDT.
				require.Equal(t, int64(1112331600000), a.Results[0].T)
				require.Equal(t, int64(1112587200000), a.Results[1].T)
			}},
		{name: "range desc with limit", target: "/polygon/v2/aggs/ticker/AAPL/range/1/day/2017-01-01/2017-12-31?sort=desc&limit=10&" + k, status: 200, ctype: ctJSON,
			check: func(t *testing.T, b []byte) {
				a := decode[aggs](t, b)
				require.Len(t, a.Results, 10)
				require.Greater(t, a.Results[0].T, a.Results[9].T)
				require.Contains(t, a.NextURL, "/polygon/v2/aggs/ticker/AAPL/range/1/day/2017-01-01/")
			}},
		{name: "range by millis", target: "/polygon/v2/aggs/ticker/AAPL/range/1/day/1516078800000/1516338000000?" + k, status: 200, ctype: ctJSON,
			check: func(t *testing.T, b []byte) {
				a := decode[aggs](t, b)
				require.Len(t, a.Results, 4)
				last := aapl[len(aapl)-1]
				require.Equal(t, last.Close, a.Results[3].C)
				require.Equal(t, last.Volume, a.Results[3].V)
			}},
		{name: "range minute empty", target: "/polygon/v2/aggs/ticker/AAPL/range/1/minute/2017-01-03/2017-01-03?" + k, status: 200, ctype: ctJSON,
			check: func(t *testing.T, b []byte) {
				require.NotContains(t, string(b), `"results":`)
				require.Equal(t, 0, decode[aggs](t, b).ResultsCount)
			}},
		{name: "range unknown ticker", target: "/polygon/v2/aggs/ticker/NOPE/range/1/day/2017-01-03/2017-01-05?" + k, status: 200, ctype: ctJSON,
			check: func(t *testing.T, b []byte) { require.Equal(t, 0, decode[aggs](t, b).ResultsCount) }},
		{name: "range crypto", target: "/polygon/v2/aggs/ticker/X:BTCUSD/range/1/day/2018-08-01/2018-08-13?" + k, status: 200, ctype: ctJSON,
			check: func(t *testing.T, b []byte) { require.Equal(t, 13, decode[aggs](t, b).ResultsCount) }},
		{name: "range bare crypto pair is a stock ticker", target: "/polygon/v2/aggs/ticker/BTCUSD/range/1/day/2018-08-01/2018-08-13?" + k, status: 200, ctype: ctJSON,
			check: func(t *testing.T, b []byte) { require.Equal(t, 0, decode[aggs](t, b).ResultsCount) }},
		{name: "range bad span", target: "/polygon/v2/aggs/ticker/AAPL/range/1/fortnight/2017-01-03/2017-01-05?" + k, status: 400, ctype: ctJSON},
		{name: "last forex quote", target: "/polygon/v1/last_quote/currencies/EUR/USD?" + k, status: 200, ctype: ctJSON,
			check: func(t *testing.T, b []byte) {
				require.Contains(t, string(b), `{"last":{"ask":1.14707,"bid":1.14607,"exchange":48,"timestamp":1546300799999},"request_id":"`)
				require.Contains(t, string(b), `","status":"success","symbol":"EUR/USD"}`)
			}},
		{name: "nbbo", target: "/polygon/v2/last/nbbo/AAPL?" + k, status: 200, ctype: ctJSON, fixture: "polygon/v2_last_nbbo_AAPL.json"},
		{name: "open-close", target: "/polygon/v1/open-close/AAPL/2018-01-19?" + k, status: 200, ctype: ctJSON, fixture: "polygon/v1_open-close_AAPL_2005-04-01.json",
			check: func(t *testing.T, b []byte) {
				require.Contains(t, string(b), `"from":"2018-01-19","symbol":"AAPL","open":178.610001`)
			}},
		{name: "open-close holiday", target: "/polygon/v1/open-close/AAPL/2018-01-15?" + k, status: 404, ctype: ctJSON},
		{name: "prev", target: "/polygon/v2/aggs/ticker/AAPL/prev?" + k, status: 200, ctype: ctJSON, fixture: "polygon/v2_aggs_ticker_AAPL_prev.json"},
		{name: "prev forex", target: "/polygon/v2/aggs/ticker/C:EURUSD/prev?" + k, status: 200, ctype: ctJSON},
		{name: "last trade", target: "/polygon/v2/last/trade/AAPL?" + k, status: 200, ctype: ctJSON, fixture: "polygon/v2_last_trade_AAPL.json",
			check: func(t *testing.T, b []byte) { require.Contains(t, string(b), `"p":178.460007`) }},
		{name: "last trade unknown", target: "/polygon/v2/last/trade/NOPE?" + k, status: 404, ctype: ctJSON,
			check: func(t *testing.T, b []byte) { require.Contains(t, string(b), `"status":"NOT_FOUND"`) }},
		{name: "last crypto", target: "/polygon/v1/last/crypto/BTC/USD?" + k, status: 200, ctype: ctJSON, fixture: "polygon/v1_last_crypto_BTC_USD.json"},
		{name: "bearer", target: "/polygon/v2/last/trade/AAPL", hdr: []string{"Authorization", bearerX}, status: 200, ctype: ctJSON},
		{name: "no key", target: "/polygon/v2/last/trade/AAPL", status: 401, ctype: ctJSON,
			check: func(t *testing.T, b []byte) { require.Contains(t, string(b), `"error":"API Key was not provided"`) }},
		{name: "revoked key", target: "/polygon/v2/last/trade/AAPL?apiKey=" + RevokedKey, status: 401, ctype: ctJSON,
			check: func(t *testing.T, b []byte) { require.Contains(t, string(b), `"error":"Unknown API Key"`) }},
	})
}

// Following next_url pages through a whole range.
func TestPolygonNextURL(t *testing.T) {
	h := New()
	target := "/polygon/v2/aggs/ticker/SPY/range/1/day/1998-01-01/2021-12-31?limit=1000&apiKey=" + Key
	total, pages := 0, 0
	var last int64
	for target != "" {
		pages++
		_, b := call(t, h, "GET", target, nil)
		a := decode[struct {
			Results []struct {
				T int64 `json:"t"`
			}
			NextURL string `json:"next_url"`
		}](t, b)
		for _, r := range a.Results {
			require.Greater(t, r.T, last, "ascending, no repeats")
			last = r.T
		}
		total += len(a.Results)
		target = ""
		if a.NextURL != "" {
			u, err := url.Parse(a.NextURL)
			require.NoError(t, err)
			require.NotContains(t, a.NextURL, "apiKey", "the key is not echoed")
			target = u.RequestURI() + "&apiKey=" + Key
		}
	}
	require.Equal(t, 6, pages)
	require.Equal(t, 5849, total)
}

func TestFinnhub(t *testing.T) {
	const k = "&token=" + Key
	type candles struct {
		C, H, L, O, V []float64
		T             []int64
		S             string
	}
	runRoutes(t, New(), []routeTest{
		{name: "stock candle", target: "/finnhub/api/v1/stock/candle?symbol=AAPL&resolution=D&from=1515974400&to=1516406400" + k, status: 200, ctype: ctJSONCharset,
			fixture: "finnhub/stock_candle_AAPL_D_docexample.json",
			check: func(t *testing.T, b []byte) {
				c := decode[candles](t, b)
				require.Equal(t, "ok", c.S)
				require.Len(t, c.T, len(historyDates(t, "AAPL", "2018-01-15", "2018-01-19")))
				require.Equal(t, int64(1516338000), c.T[len(c.T)-1], "2018-01-19 00:00 New York")
			}},
		{name: "forex candle", target: "/finnhub/api/v1/forex/candle?symbol=OANDA:EUR_USD&resolution=D&from=1546041600&to=1546300800" + k, status: 200, ctype: ctJSONCharset,
			fixture: "finnhub/forex_candle_docexample.json"},
		{name: "crypto candle", target: "/finnhub/api/v1/crypto/candle?symbol=COINBASE:BTC-USD&resolution=D&from=1533945600&to=1534118400" + k, status: 200, ctype: ctJSONCharset,
			check: func(t *testing.T, b []byte) { require.Len(t, decode[candles](t, b).T, 3) }},
		{name: "empty range", target: "/finnhub/api/v1/stock/candle?symbol=AAPL&resolution=D&from=1600000000&to=1600100000" + k, status: 200, ctype: ctJSONCharset,
			exact: `{"s":"no_data"}`},
		{name: "weekly no data", target: "/finnhub/api/v1/stock/candle?symbol=AAPL&resolution=W&from=1515974400&to=1516406400" + k, status: 200, ctype: ctJSONCharset,
			exact: `{"s":"no_data"}`},
		{name: "unknown symbol", target: "/finnhub/api/v1/stock/candle?symbol=NOPE&resolution=D&from=1515974400&to=1516406400" + k, status: 200, ctype: ctJSONCharset,
			exact: `{"s":"no_data"}`},
		{name: "forex symbol needs exchange", target: "/finnhub/api/v1/forex/candle?symbol=EUR_USD&resolution=D&from=1546041600&to=1546300800" + k, status: 200, ctype: ctJSONCharset,
			exact: `{"s":"no_data"}`},
		{name: "bad resolution", target: "/finnhub/api/v1/stock/candle?symbol=AAPL&resolution=2&from=1&to=2" + k, status: 422, ctype: ctJSONCharset},
		{name: "quote", target: "/finnhub/api/v1/quote?symbol=AAPL" + k, status: 200, ctype: ctJSONCharset,
			fixture: "finnhub/quote_docexample_2020.json", skip: []string{".d", ".dp", ".t"},
			exact: `{"c":178.460007,"d":-0.8,"dp":-0.4463,"h":179.580002,"l":177.410004,"o":178.610001,"pc":179.259995,"t":1516395600}`},
		{name: "quote unknown", target: "/finnhub/api/v1/quote?symbol=NOPE" + k, status: 200, ctype: ctJSONCharset,
			exact: `{"c":0,"d":null,"dp":null,"h":0,"l":0,"o":0,"pc":0,"t":0}`},
		{name: "header token", target: "/finnhub/api/v1/quote?symbol=SPY", hdr: []string{"X-Finnhub-Token", Key}, status: 200, ctype: ctJSONCharset},
		{name: "no token", target: "/finnhub/api/v1/quote?symbol=SPY", status: 401, ctype: ctJSONCharset, exact: `{"error":"Please use an API key."}`},
		{name: "revoked token", target: "/finnhub/api/v1/quote?symbol=SPY&token=" + RevokedKey, status: 401, ctype: ctJSONCharset, exact: `{"error":"Invalid API key."}`},
	})
}

func TestYahoo(t *testing.T) {
	type chart struct {
		Chart struct {
			Result []struct {
				Meta      map[string]any
				Timestamp []int64
				Events    map[string]map[string]map[string]any
			}
		}
	}
	runRoutes(t, New(), []routeTest{
		{name: "before listing", target: "/yahoo/v8/finance/chart/AAPL?period1=631152000&period2=631324800&interval=1d&events=div%7Csplit", status: 400, ctype: ctYahoo,
			fixture: "yahoo/v8_chart_error_400_data_doesnt_exist.json",
			check: func(t *testing.T, b []byte) {
				require.Contains(t, string(b), "Data doesn't exist for startDate = 631152000, endDate = 631324800")
			}},
		{name: "after the data", target: "/yahoo/v8/finance/chart/AAPL?period1=1577836800&period2=1578009600&interval=1d&events=div%7Csplit", status: 200, ctype: ctYahoo,
			check: func(t *testing.T, b []byte) { require.Contains(t, string(b), `"indicators":{"quote":[{}]}`) }},
		{name: "equity range", target: "/yahoo/v8/finance/chart/AAPL?period1=1515974400&period2=1516406400&interval=1d", status: 200, ctype: ctYahoo,
			fixture: "yahoo/v8_chart_AAPL_1d_2020-01-01_2020-01-03.json",
			check: func(t *testing.T, b []byte) {
				c := decode[chart](t, b).Chart.Result[0]
				require.Equal(t, []int64{1516113000, 1516199400, 1516285800, 1516372200}, c.Timestamp, "09:30 New York")
			}},
		{name: "splits", target: "/yahoo/v8/finance/chart/AAPL?period1=1401580800&period2=1402617600&interval=1d&events=div|split", status: 200, ctype: ctYahoo,
			fixture: "yahoo/v8_chart_AAPL_1d_2020-08-31_2020-11-07_with_split_dividend.json", skip: []string{".chart.result[].events.dividends"},
			check: func(t *testing.T, b []byte) {
				sp := decode[chart](t, b).Chart.Result[0].Events["splits"]
				require.Len(t, sp, 1)
				require.Equal(t, "7:1", sp["1402320600"]["splitRatio"])
			}},
		{name: "crypto", target: "/yahoo/v8/finance/chart/BTC-USD?period1=1533945600&period2=1534204800&interval=1d", status: 200, ctype: ctYahoo,
			fixture: "yahoo/v8_chart_BTC-USD_1d_2020-01-01_2020-01-03.json",
			check: func(t *testing.T, b []byte) {
				require.Equal(t, []int64{1533945600, 1534032000, 1534118400}, decode[chart](t, b).Chart.Result[0].Timestamp)
			}},
		{name: "currency", target: "/yahoo/v8/finance/chart/EURUSD%3DX?period1=1546041600&period2=1546300800&interval=1d", status: 200, ctype: ctYahoo,
			fixture: "yahoo/v8_chart_EURUSDX_1d_2020-01-01_2020-01-03.json"},
		{name: "by range", target: "/yahoo/v8/finance/chart/SPY?range=5d&interval=1d", status: 200, ctype: ctYahoo,
			check: func(t *testing.T, b []byte) {
				c := decode[chart](t, b).Chart.Result[0]
				require.Len(t, c.Timestamp, len(historyDates(t, "SPY", "2021-03-25", "2021-03-31")))
				require.Equal(t, "5d", c.Meta["range"])
				require.Equal(t, 396.33, c.Meta["regularMarketPrice"])
			}},
		{name: "minute interval empty", target: "/yahoo/v8/finance/chart/AAPL?period1=1515974400&period2=1516406400&interval=1m", status: 200, ctype: ctYahoo,
			fixture: "yahoo/v8_chart_AAPL_1m_2025-02-01_weekend_empty.json", skip: []string{".chart.result[].meta.previousClose", ".chart.result[].meta.scale"}},
		{name: "weekend empty", target: "/yahoo/v8/finance/chart/AAPL?period1=1516406400&period2=1516492800&interval=1d", status: 200, ctype: ctYahoo,
			check: func(t *testing.T, b []byte) { require.Contains(t, string(b), `"indicators":{"quote":[{}]}`) }},
		{name: "unknown symbol", target: "/yahoo/v8/finance/chart/NOPE", status: 404, ctype: ctYahoo,
			exact: string(upstream(t, "yahoo/v8_chart_error_404_no_data_found.json"))},
		{name: "bad interval", target: "/yahoo/v8/finance/chart/AAPL?interval=2d", status: 400, ctype: ctYahoo},
	})
}

func TestReddit(t *testing.T) {
	h := New()
	res, b := call(t, h, http.MethodPost, "/reddit-www/api/v1/access_token", []byte("grant_type=client_credentials"),
		"Content-Type", "application/x-www-form-urlencoded", "Authorization", "Basic "+basic(Key, "secret"))
	require.Equal(t, 200, res.StatusCode)
	tok := decode[struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
	}](t, b)
	require.Equal(t, "bearer", tok.TokenType)
	require.Equal(t, 86400, tok.ExpiresIn)
	auth := []string{"Authorization", "Bearer " + tok.AccessToken}
	type listing struct {
		Kind string
		Data struct {
			After    *string
			Dist     int
			Children []struct {
				Kind string
				Data struct {
					ID, Name, Subreddit, Title, Selftext string
					CreatedUTC                           float64 `json:"created_utc"`
				}
			}
		}
	}
	var askAfter string
	runRoutes(t, h, []routeTest{
		{name: "finance new", target: "/reddit/r/wallstreetbets/new?limit=100", hdr: auth, status: 200, ctype: ctReddit,
			fixture: "reddit/r_test_new_listing_2020.json",
			// The generated posts carry a subset of a 2020 post's keys.
			skip: []string{".data.children[].data.", ".data.modhash"},
			check: func(t *testing.T, b []byte) {
				l := decode[listing](t, b)
				require.Len(t, l.Data.Children, redditGeneratedPerSub)
				require.Nil(t, l.Data.After)
				var symbols = map[string]bool{}
				for i, c := range l.Data.Children {
					require.Equal(t, "wallstreetbets", c.Data.Subreddit)
					if i > 0 {
						require.LessOrEqual(t, c.Data.CreatedUTC, l.Data.Children[i-1].Data.CreatedUTC, "newest first")
					}
					for _, s := range []string{"AAPL", "SPY"} {
						if strings.Contains(c.Data.Title+c.Data.Selftext, s) {
							symbols[s] = true
						}
					}
				}
				require.Len(t, symbols, 2, "posts mention the sandbox symbols")
				// Generated posts' keys are a subset of a recorded post's.
				rec := shape(t, upstream(t, "reddit/r_test_new_listing_2020.json"))
				for p := range shape(t, b) {
					if strings.HasPrefix(p, ".data.children[].data.") {
						require.Contains(t, rec, p)
					}
				}
			}},
		{name: "recorded new page 1", target: "/reddit/r/AskReddit/new.json?limit=10", hdr: auth, status: 200, ctype: ctReddit,
			check: func(t *testing.T, b []byte) {
				l := decode[listing](t, b)
				require.Len(t, l.Data.Children, 10)
				require.Equal(t, "48fbm9", l.Data.Children[0].Data.ID, "the recording's newest post")
				require.Equal(t, "t3_"+l.Data.Children[9].Data.ID, *l.Data.After)
				askAfter = *l.Data.After
				// Recorded posts are served verbatim.
				require.Contains(t, string(b), `"title": "[Serious] Parents of Reddit`[12:])
			}},
		{name: "recorded search", target: "/reddit/r/all/search?q=praw+oauth", hdr: auth, status: 200, ctype: ctReddit,
			fixture: "reddit/r_all_search_praw_2016.json", skip: []string{".data.after", ".data.dist"},
			check: func(t *testing.T, b []byte) { require.NotEmpty(t, decode[listing](t, b).Data.Children) }},
		{name: "search restricted", target: "/reddit/r/stocks/search?q=AAPL&restrict_sr=1&limit=100", hdr: auth, status: 200, ctype: ctReddit,
			check: func(t *testing.T, b []byte) {
				l := decode[listing](t, b)
				require.NotEmpty(t, l.Data.Children)
				for _, c := range l.Data.Children {
					require.Equal(t, "stocks", c.Data.Subreddit)
					require.Contains(t, c.Data.Title+c.Data.Selftext, "AAPL")
				}
			}},
		{name: "multireddit", target: "/reddit/r/stocks+Forex/new?limit=100", hdr: auth, status: 200, ctype: ctReddit,
			check: func(t *testing.T, b []byte) {
				subs := map[string]int{}
				for _, c := range decode[listing](t, b).Data.Children {
					subs[c.Data.Subreddit]++
				}
				require.Equal(t, map[string]int{"stocks": 50, "Forex": 50}, subs)
			}},
		{name: "search or", target: "/reddit/r/all/search?q=" + url.QueryEscape("EUR/USD OR btc") + "&limit=100", hdr: auth, status: 200, ctype: ctReddit,
			check: func(t *testing.T, b []byte) { require.Len(t, decode[listing](t, b).Data.Children, 100) }},
		{name: "unknown subreddit", target: "/reddit/r/nope/new", hdr: auth, status: 404, ctype: ctReddit,
			exact: string(upstream(t, "reddit/error_404_not_found.json"))},
		{name: "no token", target: "/reddit/r/stocks/new", status: 401, ctype: ctReddit, exact: string(redditUnauthorized)},
		{name: "foreign token", target: "/reddit/r/stocks/new", hdr: []string{"Authorization", bearerX}, status: 401, ctype: ctReddit},
		{name: "bad basic auth", method: "POST", target: "/reddit-www/api/v1/access_token", body: "grant_type=client_credentials",
			hdr: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 401, ctype: ctReddit},
		{name: "revoked client", method: "POST", target: "/reddit-www/api/v1/access_token", body: "grant_type=client_credentials",
			hdr: []string{"Content-Type", "application/x-www-form-urlencoded", "Authorization", "Basic " + basic(RevokedKey, "")}, status: 401, ctype: ctReddit},
		{name: "bad grant", method: "POST", target: "/reddit-www/api/v1/access_token", body: "grant_type=magic",
			hdr: []string{"Content-Type", "application/x-www-form-urlencoded", "Authorization", "Basic " + basic(Key, "")}, status: 200, ctype: ctReddit,
			exact: `{"error": "unsupported_grant_type"}`},
	})
	t.Run("recorded new page 2", func(t *testing.T) {
		_, b := call(t, h, "GET", "/reddit/r/askreddit/new?limit=100&after="+askAfter, nil, auth...)
		l := decode[listing](t, b)
		require.Len(t, l.Data.Children, 90)
		require.Nil(t, l.Data.After)
	})
}

func basic(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func TestLLM(t *testing.T) {
	type completion struct {
		ID      string
		Object  string
		Model   string
		Choices []struct {
			Message struct {
				Role, Content string
			}
			FinishReason string `json:"finish_reason"`
		}
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		}
	}
	auth := []string{"Authorization", bearerX}
	const ask = `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are an analyst."},{"role":"user","content":"Should I buy $AAPL or EUR/USD?"}]}`
	var first string
	runRoutes(t, New(), []routeTest{
		{name: "completion", method: "POST", target: "/llm/v1/chat/completions", hdr: auth, body: ask, status: 200, ctype: ctJSON,
			check: func(t *testing.T, b []byte) {
				c := decode[completion](t, b)
				require.Equal(t, "chat.completion", c.Object)
				require.Equal(t, "gpt-4o-mini", c.Model)
				require.Equal(t, "assistant", c.Choices[0].Message.Role)
				require.Equal(t, "stop", c.Choices[0].FinishReason)
				content := c.Choices[0].Message.Content
				require.True(t, strings.HasPrefix(content, "AAPL: last close 178.460007 on 2018-01-19"), content)
				require.Contains(t, content, "EUR_USD: last close 1.14657 on 2018-12-31")
				require.Positive(t, c.Usage.PromptTokens)
				require.Positive(t, c.Usage.CompletionTokens)
				require.Equal(t, c.Usage.PromptTokens+c.Usage.CompletionTokens, c.Usage.TotalTokens)
				first = string(b)
			}},
		{name: "deterministic", method: "POST", target: "/llm/v1/chat/completions", hdr: auth, body: ask, status: 200, ctype: ctJSON,
			check: func(t *testing.T, b []byte) { require.Equal(t, first, string(b)) }},
		{name: "json mode", method: "POST", target: "/llm/v1/chat/completions", hdr: auth, status: 200, ctype: ctJSON,
			body: `{"model":"m","response_format":{"type":"json_object"},"messages":[{"role":"user","content":[{"type":"text","text":"bitcoin outlook"}]}]}`,
			check: func(t *testing.T, b []byte) {
				a := decode[struct {
					Analysis []llmAnalysis
					Summary  string
				}](t, []byte(decode[completion](t, b).Choices[0].Message.Content))
				require.Len(t, a.Analysis, 1)
				require.Equal(t, "BTC-USD", a.Analysis[0].Symbol)
				require.Equal(t, 6253.67, a.Analysis[0].Close)
			}},
		{name: "no symbol", method: "POST", target: "/llm/v1/chat/completions", hdr: auth, status: 200, ctype: ctJSON,
			body:  `{"model":"m","messages":[{"role":"user","content":"hello"}]}`,
			check: func(t *testing.T, b []byte) { require.Contains(t, string(b), "No known symbol found") }},
		{name: "stream", method: "POST", target: "/llm/v1/chat/completions", hdr: auth, status: 200, ctype: "text/event-stream; charset=utf-8",
			body: `{"model":"m","stream":true,"messages":[{"role":"user","content":"SPY"}]}`,
			check: func(t *testing.T, b []byte) {
				require.True(t, strings.HasSuffix(string(b), "data: [DONE]\n\n"))
				require.Contains(t, string(b), `"object":"chat.completion.chunk"`)
			}},
		{name: "no messages", method: "POST", target: "/llm/v1/chat/completions", hdr: auth, body: `{"model":"m"}`, status: 400, ctype: ctJSON,
			exact: `{"error":{"message":"Missing required parameter: 'messages'.","type":"invalid_request_error","param":"messages","code":"missing_required_parameter"}}`},
		{name: "no model", method: "POST", target: "/llm/v1/chat/completions", hdr: auth, body: `{"messages":[]}`, status: 400, ctype: ctJSON},
		{name: "bad json", method: "POST", target: "/llm/v1/chat/completions", hdr: auth, body: `{`, status: 400, ctype: ctJSON},
		{name: "no key", method: "POST", target: "/llm/v1/chat/completions", body: ask, status: 401, ctype: ctJSON,
			check: func(t *testing.T, b []byte) { require.Contains(t, string(b), "You didn't provide an API key") }},
		{name: "revoked key", method: "POST", target: "/llm/v1/chat/completions", hdr: []string{"Authorization", "Bearer " + RevokedKey}, body: ask,
			status: 401, ctype: ctJSON,
			check: func(t *testing.T, b []byte) {
				require.Contains(t, string(b), `"code":"invalid_api_key"`)
				require.NotContains(t, string(b), RevokedKey, "the key is masked")
			}},
		{name: "get", target: "/llm/v1/chat/completions", hdr: auth, status: 405, ctype: ctJSON},
	})
}

func TestUnknownPrefix(t *testing.T) {
	h := New()
	res, b := call(t, h, "GET", "/nope/x", nil)
	require.Equal(t, 404, res.StatusCode)
	require.Equal(t, "404 page not found\n", string(b))
	require.Equal(t, int64(1), h.Stats()["other"].ByStatus[404])
}
