// Package coinbase is a client for two Coinbase APIs behind one Client.
//
// Exchange market data (public, no credentials), at Config.ExchangeURL
// (default https://api.exchange.coinbase.com):
//
//   - GET /products/{product_id}/candles?granularity=&start=&end= — bars
//     (Client.Bars, ParseCandles). Rows are [time, low, high, open, close,
//     volume], newest first, at most 300 per request: longer ranges are split
//     into several requests and merged.
//   - GET /products/{product_id}/ticker — quotes (Client.Quote, ParseTicker).
//
// Advanced Trade (authenticated), at Config.BaseURL (default
// https://api.coinbase.com):
//
//   - GET /api/v3/brokerage/accounts — balances (Client.Account,
//     ParseAccounts), paginated with a cursor.
//   - POST /api/v3/brokerage/orders — order placement (Client.PlaceOrder,
//     ParseCreateOrder). A refused order is an HTTP 200 with "success": false;
//     it is returned as an *OrderError.
//   - GET /api/v3/brokerage/orders/historical/{order_id} — one order
//     (Client.GetOrder, ParseOrder).
//   - GET /api/v3/brokerage/orders/historical/batch — orders
//     (Client.Orders, ParseOrders).
//   - GET /api/v3/brokerage/orders/historical/fills — fills
//     (Client.Fills, ParseFills).
//
// # Authentication
//
// Advanced Trade takes Coinbase Developer Platform (CDP) API keys: the key
// name ("organizations/{org_id}/apiKeys/{key_id}") and its EC P-256 private
// key in PEM form. Every attempt of every request, retries included, carries
// a fresh JWT signed with ES256 ("Authorization: Bearer <jwt>") whose uri
// claim names the method, host and path of that request and which expires
// two minutes after it was made. The private key is registered as a secret of
// the client: it never appears in an error or a log line. Without
// credentials the market-data methods work and the trading methods fail with
// an error matching providers.ErrUnauthorized.
//
// # Closing
//
// A Client holds one providers.Client per API; Close releases both.
package coinbase
