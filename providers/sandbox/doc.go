// Package sandbox serves recorded market data in the wire format of every
// API the providers tree has a client for, so that a client whose base URL
// is <sandbox>/<prefix> works exactly as against the real host: same paths,
// query parameters, authentication, JSON shapes, status codes and error
// bodies (see data/SOURCES.md for the recordings and what is generated).
//
// One dataset has three uses: the embedded, keyless default data source of
// the ffe CLI (Handler.Transport, no sockets), the live endpoint of the leak
// harness (Start, a loopback server) and the responses of httpmock in mock
// mode (the same Transport).
//
// # Shape
//
// Handler is a router. It splits the prefix off each request's path, draws
// the request's fault, counts it in the per-prefix statistics and hands it
// to the venue registered for the prefix (or answers 404 for a path under
// no prefix). A venue is one small unexported type per upstream API, in its
// own file (alphavantageVenue in alphavantage.go, coinbaseVenue in
// coinbase.go, …): its routes, its wire format, its own rate-limit and 500
// answers, and its own state where the API has any (Coinbase's account
// and orders, OANDA's account and positions). Everything the venues share
// lives once: the recorded data and the replay clock and id sequence over
// it (core.go, data.go), fault injection (faults.go), statistics
// (stats.go), and the reply and JSON helpers (reply.go, jsonw.go). The
// exported surface is small: the Prefix constants and Prefixes, New and its
// options, Handler's faults, statistics and clock methods and its
// Transport, and Server.
//
// # Imports
//
// The package imports the standard library and the providers core package
// (Bar, symbol normalisation, sentinel errors), nothing else: not the
// provider client packages it imitates, nor engine, scenarios or harness,
// which import it.
//
// # Data
//
// Four daily histories are embedded (Symbols, History): AAPL 2004-08-19 to
// 2018-01-19 and SPY 1998-01-02 to 2021-03-31 (equities), BTC-USD
// 2014-12-01 to 2018-08-13 (crypto) and EUR_USD 2007-01-01 to 2018-12-31
// (forex, OANDA bid and ask bars; the bars are their mid, without volume).
// History stamps every bar 00:00 UTC of its trading day; each API stamps
// the same bar its own way, as the real one does (see Time stamps).
//
// # Routes
//
// Each prefix stands for the real host named beside it:
//
//	/alphavantage       www.alphavantage.co       GET /query?function=
//	    TIME_SERIES_DAILY, TIME_SERIES_DAILY_ADJUSTED (outputsize compact:
//	    the latest 100 bars, or full), GLOBAL_QUOTE, FX_DAILY,
//	    CURRENCY_EXCHANGE_RATE, DIGITAL_CURRENCY_DAILY (2024+ shape)
//	/coinbase-exchange  api.exchange.coinbase.com GET /products/{id}/candles, /products/{id}/ticker
//	/coinbase           api.coinbase.com          GET /api/v3/brokerage/accounts,
//	    POST /api/v3/brokerage/orders, GET /api/v3/brokerage/orders/historical/{id},
//	    /orders/historical/batch, /orders/historical/fills
//	/oanda              api-fxpractice.oanda.com  GET /v3/instruments/{inst}/candles,
//	    /v3/accounts/{id}/summary, /v3/accounts/{id}/pricing,
//	    /v3/accounts/{id}/candles/latest, POST /v3/accounts/{id}/orders
//	/polygon            api.polygon.io            GET /v2/aggs/ticker/{T}/range/{mult}/{span}/{from}/{to},
//	    /v2/aggs/ticker/{T}/prev, /v2/last/trade/{T}, /v2/last/nbbo/{T},
//	    /v1/last/crypto/{from}/{to}, /v1/last_quote/currencies/{from}/{to},
//	    /v1/open-close/{T}/{date}
//	/finnhub            finnhub.io                GET /api/v1/stock/candle, /api/v1/forex/candle,
//	    /api/v1/crypto/candle, /api/v1/quote
//	/yahoo              query2.finance.yahoo.com  GET /v8/finance/chart/{symbol}
//	/reddit-www         www.reddit.com            POST /api/v1/access_token
//	/reddit             oauth.reddit.com          GET /r/{sub}/new, /r/{sub}/search (".json" optional)
//	/llm                api.openai.com            POST /v1/chat/completions
//
// The symbols are spelled as each API spells them: AAPL and SPY; BTC-USD
// (Coinbase, Yahoo), X:BTCUSD (Polygon), COINBASE:BTC-USD (Finnhub),
// BTC/USD (Alpha Vantage from/to codes); EUR_USD (OANDA), C:EURUSD
// (Polygon), OANDA:EUR_USD (Finnhub), EURUSD=X (Yahoo), EUR/USD (Alpha
// Vantage). An unknown symbol gets the API's real not-found answer: Alpha
// Vantage's "Invalid API call" (HTTP 200), Coinbase's 404 NotFound,
// OANDA's 400 invalid instrument (and a rejected order), Polygon's empty
// aggregates or 404 NOT_FOUND, Finnhub's {"s":"no_data"} or zeroed quote,
// Yahoo's 404 "No data found, symbol may be delisted".
//
// Only daily bars exist. Other intervals answer the API's empty shape:
// Coinbase an empty array, OANDA an empty candle list, Polygon no results,
// Finnhub {"s":"no_data"}, Yahoo a chart with meta and no bars; Alpha
// Vantage's intraday, weekly and monthly functions answer "Invalid API
// call".
//
// Ranges follow each API: Coinbase start and end inclusive, at most 300
// candles, both or neither; OANDA from and to inclusive, or count (default
// 500, at most 5000) from either end; Polygon from and to dates (or Unix
// milliseconds) inclusive, sort, limit (a cut answer carries next_url);
// Finnhub from and to Unix seconds inclusive; Yahoo period1 inclusive and
// period2 exclusive, or range.
//
// # Time stamps
//
// Daily bars are stamped as the real APIs stamp them: Polygon and Finnhub
// at 00:00 New York for equities, Yahoo at the 09:30 New York open for
// equities, Coinbase, OANDA and every crypto or forex bar at 00:00 UTC.
// (The real OANDA aligns daily candles to 17:00 New York unless asked for
// dailyAlignment=0 and alignmentTimezone=UTC; the recorded EUR_USD bars are
// UTC days, so the sandbox serves them as such whatever the parameters.)
// New York's offset follows the US daylight-saving rules, without tzdata.
//
// # Credentials
//
// Every route checks the credentials the real API requires, where it
// requires them: Alpha Vantage's apikey, Polygon's apiKey or bearer token,
// Finnhub's token or X-Finnhub-Token, OANDA's and OpenAI's bearer token,
// Coinbase Advanced Trade's ES256 JWT (well-formed, unexpired, its uri claim
// naming the request's method and path; its signature is verified only with
// WithCoinbaseKey), Reddit's basic auth at the token endpoint and the
// bearer token it issued on the listings. Any non-empty key is valid; Key
// is the one the ffe CLI uses, CoinbaseKeyName and CoinbasePrivateKey a
// published key pair for Advanced Trade. RevokedKey (as key, token, client
// id or JWT key name) gets the API's real unauthorized answer.
//
// # State
//
// Coinbase Advanced Trade has an account (100000 USD and 1 BTC): market
// orders fill at the current close plus a 0.6% fee and move the balances,
// limit orders rest open; the last 1000 orders are kept for lookup. OANDA
// has an account of 100000 USD with one net position per instrument:
// market orders fill at the closing ask (buy) or bid (sell) and realise
// profit and loss when they reduce the position.
//
// # Clock
//
// By default the sandbox's "now" is the end of each series: every bar is
// served and quotes are the last close. WithReplay starts the clock at a
// date instead: routes serve only the bars up to it and quote the latest of
// them. The clock advances with Tick, Advance or SetDate (StepManual), or
// after every quote request to the quoted symbol's next bar
// (StepPerQuote), so an agent loop or a price monitor sees prices move.
// Everything is deterministic: the same requests get the same answers.
//
// # Faults
//
// WithFaults and SetFaults inject faults for fault and leak tests: added
// latency, 429s with Retry-After in each API's rate-limit shape, 5xx
// answers, truncated bodies, slow bodies and connection resets, each
// optionally limited to one prefix, drawn from a generator seeded by
// Faults.Seed. WithFaultHeader lets one request ask for a fault with the
// X-Sandbox-Fault header. Stats counts requests, answers by status and
// faults by prefix.
//
// # Mock mode
//
// Transport's RoundTrip method has the type of an httpmock.Responder, so
// httpmock serves the sandbox with
//
//	mt := httpmock.NewMockTransport()
//	mt.RegisterNoResponder(sandbox.New().Transport().RoundTrip)
//
// and a client built with providers.WithTransport(mt) and a base URL of
// "http://<any host>/<prefix>".
//
// # Goroutines
//
// A Handler starts no goroutines, and neither does its Transport: a slow
// body trickles out in the reader's own goroutine. A Server owns one
// goroutine (plus net/http's per connection); Close ends them all.
package sandbox
