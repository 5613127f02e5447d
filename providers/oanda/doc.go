// Package oanda is a client for the OANDA v20 REST API (forex and CFDs).
//
// Endpoints covered, relative to Config.BaseURL (default the practice host
// https://api-fxpractice.oanda.com; Config.Live selects
// https://api-fxtrade.oanda.com):
//
//   - GET /v3/instruments/{instrument}/candles?price=M&granularity=&from=&to=
//     — bars (Client.Bars, ParseCandles). Ranges longer than 5000 candles
//     are split into several requests and merged.
//   - GET /v3/accounts/{accountID}/candles/latest?candleSpecifications=
//     — the latest candles of several instruments (Client.LatestCandles,
//     ParseLatestCandles).
//   - GET /v3/accounts/{accountID}/pricing?instruments= — quotes
//     (Client.Quote, ParsePricing).
//   - GET /v3/accounts/{accountID}/summary — account state (Client.Account,
//     ParseAccountSummary).
//   - POST /v3/accounts/{accountID}/orders — market and limit orders
//     (Client.PlaceOrder, ParseOrderCreate).
//
// Every request carries "Authorization: Bearer <token>" and
// "Accept-Datetime-Format: RFC3339". The token is registered as a secret of
// the client: it never appears in an error or a log line.
//
// # Incomplete candles
//
// The last candle of a range may still be forming ("complete": false). Bars
// leaves it out unless Config.IncludeIncomplete is set, so that a series is
// stable between calls; the parsers take the choice as an argument.
//
// # Errors
//
// Error answers ({"errorMessage", "errorCode"?}, and for refused orders an
// orderRejectTransaction with its rejectReason) are returned as *APIError,
// which wraps the *providers.StatusError of the answer.
package oanda
