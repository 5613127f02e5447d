// Package finnhub is a client of the Finnhub API (https://finnhub.io/docs/api).
// The endpoints covered are:
//
//   - GET /api/v1/stock/candle?symbol&resolution&from&to: equity bars
//   - GET /api/v1/forex/candle?symbol&resolution&from&to: forex bars, for
//     symbols such as "OANDA:EUR_USD"
//   - GET /api/v1/crypto/candle?symbol&resolution&from&to: crypto bars, for
//     symbols such as "COINBASE:BTC-USD"
//   - GET /api/v1/quote?symbol: equity quotes, in the 2020 shape (c, h, l,
//     o, pc) and the current one (adding d, dp, which may be null, and t)
//
// The API key is sent in the X-Finnhub-Token header, never in a URL.
// Candles are parallel arrays; ParseCandles and ParseQuote are pure
// functions over a response body. Bar times are the candle times Finnhub
// reports, in UTC; the query's From and To are sent as Unix seconds and
// bound the bars exactly, as the API does.
//
// # Errors
//
// Error answers are {"error": "…"}; their message is kept. 401 and 403
// ("You don't have access to this resource.", the candle endpoints being
// premium since 2024) are providers.ErrUnauthorized, 429
// providers.ErrRateLimited (retried), 5xx and HTML pages
// providers.ErrUpstream. {"s":"no_data"} is providers.ErrNoData; a quote of
// all zeros (an unknown symbol) is providers.ErrNotFound.
//
// # Rate limit
//
// The free plan allows 60 requests a minute and caps bursts at 30 a second.
// The default limit (DefaultRateLimit, DefaultBurst) is a burst of 10 and
// then 50 a minute, so no window of a minute holds more than 60 requests
// and no second more than 30.
package finnhub

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"
	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers"
)

// Name is the provider name used in errors, logs and quotes.
const Name = "finnhub"

// DefaultBaseURL is the real API's base URL; paths start with /api/v1.
const DefaultBaseURL = "https://finnhub.io"

// Default rate limit: a burst of 10, refilled at 50 a minute.
var (
	DefaultRateLimit = rate.Limit(50.0 / 60)
	DefaultBurst     = 10
)

// Default exchange prefixes of forex and crypto symbols.
const (
	DefaultForexExchange  = "OANDA"
	DefaultCryptoExchange = "COINBASE"
)

// defaultSpan is how far back Bars reaches when the query's From is zero.
const defaultSpan = 1 // year

// Config configures a Client.
type Config struct {
	// BaseURL defaults to DefaultBaseURL. A sandbox serves the API under a
	// prefix, e.g. "http://127.0.0.1:8080/finnhub".
	BaseURL string
	// APIKey is required. It is sent as the X-Finnhub-Token header and never
	// appears in errors or logs.
	APIKey string
	// ForexExchange prefixes forex symbols ("OANDA:EUR_USD"); empty means
	// DefaultForexExchange.
	ForexExchange string
	// CryptoExchange prefixes crypto symbols ("COINBASE:BTC-USD"); empty
	// means DefaultCryptoExchange. The pair keeps its dash, as Coinbase
	// spells it.
	CryptoExchange string
}

// Client is a Finnhub client. It is safe for concurrent use; call Close
// when done.
type Client struct {
	core *providers.Client
	cfg  Config
}

var _ providers.MarketData = (*Client)(nil)

// New returns a client for cfg. The default rate limit (DefaultRateLimit,
// DefaultBurst) comes before opts, so opts may override it.
func New(cfg Config, opts ...providers.Option) (*Client, error) {
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, fmt.Errorf("%s: Config.APIKey is required (register at https://finnhub.io/register)", Name)
	}
	if strings.ContainsAny(cfg.APIKey, " \t\r\n") {
		return nil, fmt.Errorf("%s: Config.APIKey contains white space", Name)
	}
	if cfg.ForexExchange == "" {
		cfg.ForexExchange = DefaultForexExchange
	}
	if cfg.CryptoExchange == "" {
		cfg.CryptoExchange = DefaultCryptoExchange
	}
	if strings.ContainsAny(cfg.ForexExchange, ":/ ") {
		return nil, fmt.Errorf("%s: Config.ForexExchange %q: want a name such as %q", Name, cfg.ForexExchange, DefaultForexExchange)
	}
	if strings.ContainsAny(cfg.CryptoExchange, ":/ ") {
		return nil, fmt.Errorf("%s: Config.CryptoExchange %q: want a name such as %q", Name, cfg.CryptoExchange, DefaultCryptoExchange)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	c := &Client{cfg: cfg}
	all := slices.Concat([]providers.Option{providers.WithRateLimit(DefaultRateLimit, DefaultBurst)},
		opts, []providers.Option{providers.WithSecrets(cfg.APIKey)})
	auth := func(req *http.Request, _ []byte) error {
		req.Header.Set("X-Finnhub-Token", cfg.APIKey)
		return nil
	}
	core, err := providers.NewClient(Name, cfg.BaseURL, c.classify, auth, all...)
	if err != nil {
		return nil, err
	}
	c.core = core
	return c, nil
}

// Name returns "finnhub".
func (c *Client) Name() string { return Name }

// Classes returns equity, forex and crypto.
func (c *Client) Classes() []providers.AssetClass {
	return []providers.AssetClass{providers.Equity, providers.Forex, providers.Crypto}
}

// Close releases the client's connections. It is idempotent.
func (c *Client) Close() error { return c.core.Close() }

func resolution(i providers.Interval) (string, bool) {
	switch i {
	case providers.Minute:
		return "1", true
	case providers.Hour:
		return "60", true
	case "", providers.Day:
		return "D", true
	case providers.Week:
		return "W", true
	}
	return "", false
}

// Bars returns candles of q.Symbol with times between q.From and q.To,
// ascending: /stock/candle for equities, /forex/candle for forex,
// /crypto/candle for crypto. A zero To is now; a zero From is a year
// before To.
func (c *Client) Bars(ctx context.Context, q providers.BarQuery) ([]providers.Bar, error) {
	sym, class, err := providers.NormalizeSymbol(q.Symbol)
	if err != nil {
		return nil, fmt.Errorf("%s: bars: %w", Name, err)
	}
	op := "bars " + sym
	res, ok := resolution(q.Interval)
	if !ok {
		return nil, fmt.Errorf("%s: %s: %w: interval %q", Name, op, providers.ErrUnsupported, q.Interval)
	}
	var path, upstream string
	switch class { // NormalizeSymbol returns one of the three classes
	case providers.Equity:
		path, upstream = "/api/v1/stock/candle", sym
	case providers.Forex:
		path, upstream = "/api/v1/forex/candle", c.cfg.ForexExchange+":"+sym
	case providers.Crypto:
		path, upstream = "/api/v1/crypto/candle", c.cfg.CryptoExchange+":"+sym
	}
	to := q.To
	if to.IsZero() {
		to = time.Now()
	}
	from := q.From
	if from.IsZero() {
		from = to.AddDate(-defaultSpan, 0, 0)
	}
	if to.Before(from) {
		return nil, fmt.Errorf("%s: %s: To %s is before From %s", Name, op, to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	resp, err := c.core.Do(ctx, providers.Request{Path: path, Op: op, Query: url.Values{
		"symbol": {upstream}, "resolution": {res},
		"from": {strconv.FormatInt(from.Unix(), 10)}, "to": {strconv.FormatInt(to.Unix(), 10)},
	}})
	if err != nil {
		return nil, err
	}
	bars, err := ParseCandles(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out := bars[:0]
	for _, b := range bars {
		if !b.Time.Before(from.Truncate(time.Second)) && !b.Time.After(to) {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %s: %w between %s and %s", Name, op, providers.ErrNoData,
			from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	return out, nil
}

// Quote returns the latest price of an equity (/quote). Other asset classes
// match providers.ErrUnsupported.
func (c *Client) Quote(ctx context.Context, symbol string) (providers.Quote, error) {
	sym, class, err := providers.NormalizeSymbol(symbol)
	if err != nil {
		return providers.Quote{}, fmt.Errorf("%s: quote: %w", Name, err)
	}
	op := "quote " + sym
	if class != providers.Equity {
		return providers.Quote{}, fmt.Errorf("%s: %s: %w: quotes are for equities", Name, op, providers.ErrUnsupported)
	}
	resp, err := c.core.Do(ctx, providers.Request{Path: "/api/v1/quote", Op: op, Query: url.Values{"symbol": {sym}}})
	if err != nil {
		return providers.Quote{}, err
	}
	q, err := ParseQuote(resp.Body)
	if err != nil {
		return providers.Quote{}, fmt.Errorf("%s: %w", op, err)
	}
	q.Symbol = sym
	return q, nil
}

// smallBody is the size under which a 200 answer is checked for an error
// message; error answers are short, candle answers far larger.
const smallBody = 4 << 10

// classify maps Finnhub's error answers to typed errors, keeping their
// message. It is the core's providers.Classifier.
func (c *Client) classify(resp *providers.Response) error {
	if b := bytes.TrimSpace(resp.Body); len(b) > 0 && b[0] == '<' {
		return c.core.NewStatusError(resp, providers.ErrUpstream, providers.Excerpt(resp.Body))
	}
	if resp.Status < 400 && len(resp.Body) > smallBody {
		return nil
	}
	msg, isErr := ErrorMessage(resp.Body)
	if resp.Status < 400 {
		if !isErr {
			return nil
		}
		return c.core.NewStatusError(resp, kindOfMessage(msg), msg)
	}
	if msg == "" {
		msg = providers.Excerpt(resp.Body)
	}
	return c.core.NewStatusError(resp, providers.KindForStatus(resp.Status), msg)
}

// kindOfMessage classifies an error answer that came with HTTP 200.
func kindOfMessage(msg string) error {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "limit"):
		return providers.ErrRateLimited
	case strings.Contains(m, "access") || strings.Contains(m, "api key") || strings.Contains(m, "token"):
		return providers.ErrUnauthorized
	case strings.Contains(m, "symbol"):
		return providers.ErrNotFound
	}
	return providers.ErrUpstream
}

// ErrorMessage reports whether body is a Finnhub error answer
// {"error": "…"}, and its message.
func ErrorMessage(body []byte) (string, bool) {
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(body)
	if err != nil || v.Type() != fastjson.TypeObject {
		return "", false
	}
	return errorOf(v)
}
