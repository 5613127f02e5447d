// Package alphavantage is a client of the Alpha Vantage API
// (https://www.alphavantage.co/documentation/). Every call is
// GET /query?function=…&apikey=…; the functions covered are:
//
//   - TIME_SERIES_DAILY and TIME_SERIES_DAILY_ADJUSTED (outputsize compact
//     or full): equity daily bars
//   - GLOBAL_QUOTE: equity quotes
//   - FX_DAILY (from_symbol, to_symbol): forex daily bars, without volume
//   - DIGITAL_CURRENCY_DAILY (symbol, market): crypto daily bars, in the
//     2024+ shape and the legacy "1a. open (CNY)" one
//   - CURRENCY_EXCHANGE_RATE (from_currency, to_currency): forex and crypto
//     quotes, in the nine-field shape and the seven-field one of 2017–2018
//
// The parsers (ParseDailySeries, ParseDailyAdjusted, ParseFXDaily,
// ParseDigitalCurrencyDaily, ParseGlobalQuote, ParseExchangeRate) are pure
// functions over a response body. Daily bars are dated 00:00 UTC of their
// trading date: Alpha Vantage sends dates, not instants.
//
// # Errors
//
// Alpha Vantage answers HTTP 200 even for errors, with a body holding a
// single top-level key; the client detects them by key:
//
//   - "Note" (the 2018–2023 per-minute limit): providers.ErrRateLimited,
//     retried with backoff.
//   - "Information": the daily quota ("… per day") is
//     providers.ErrRateLimited with RetryAfter DailyLimitRetryAfter (a day),
//     which is longer than the client may wait, so the request fails at once
//     instead of retrying against a quota that will not refill within it; a
//     per-second or per-minute wording (the key's use before 2019, and the
//     burst limit's "more sparingly (1 request per second)" since 2024) is
//     retried like "Note"; "This is a premium endpoint" or an invalid API
//     key is providers.ErrUnauthorized.
//   - "Error Message": providers.ErrNotFound for an invalid symbol or call,
//     providers.ErrUnauthorized when it names the apikey.
//
// An HTML page (a proxy's error page) is providers.ErrUpstream, retried
// when its status is 5xx.
//
// # Rate limit
//
// The default limit is the free tier's: 5 requests per minute (one every
// 12 seconds, burst 1), set with DefaultRateLimit and DefaultBurst. Premium
// keys raise it with providers.WithRateLimit. The free tier's daily quota
// (25 requests) is not enforced client-side; it surfaces as the
// "Information" error above.
package alphavantage

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fastjson"
	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers"
)

// Name is the provider name used in errors, logs and quotes.
const Name = "alphavantage"

// DefaultBaseURL is the real API's base URL; the client appends /query.
const DefaultBaseURL = "https://www.alphavantage.co"

// Default rate limit: the free tier's 5 requests per minute.
var (
	DefaultRateLimit = rate.Every(12 * time.Second)
	DefaultBurst     = 1
)

// DailyLimitRetryAfter is the RetryAfter of the daily-quota error. Alpha
// Vantage does not say when the quota refills; a day is longer than any
// sensible providers.WithMaxRetryAfter, so the core fails fast.
const DailyLimitRetryAfter = 24 * time.Hour

// Output sizes of the time-series functions.
const (
	// OutputCompact is the latest 100 data points.
	OutputCompact = "compact"
	// OutputFull is the whole history (a premium option for some functions).
	OutputFull = "full"
)

// compactSpan is how far back a compact answer reaches for certain: 100
// trading days are about 140 calendar days; holidays take a few more.
const compactSpan = 130 * 24 * time.Hour

// Config configures a Client.
type Config struct {
	// BaseURL defaults to DefaultBaseURL. A sandbox serves the API under a
	// prefix, e.g. "http://127.0.0.1:8080/alphavantage".
	BaseURL string
	// APIKey is required. It is sent as the apikey query parameter and never
	// appears in errors or logs.
	APIKey string
	// Adjusted makes Bars call TIME_SERIES_DAILY_ADJUSTED (a premium
	// function) instead of TIME_SERIES_DAILY for equities; the bars keep the
	// raw OHLC. AdjustedBars always calls it.
	Adjusted bool
	// OutputSize is OutputCompact, OutputFull, or empty to choose by the
	// query: compact when the oldest bar asked for (From, or To when From is
	// zero) is within about 130 days or the range is open, else full.
	OutputSize string
}

// Client is an Alpha Vantage client. It is safe for concurrent use; call
// Close when done.
type Client struct {
	core *providers.Client
	cfg  Config
}

var _ providers.MarketData = (*Client)(nil)

// New returns a client for cfg. The default rate limit (DefaultRateLimit,
// DefaultBurst) comes before opts, so opts may override it.
func New(cfg Config, opts ...providers.Option) (*Client, error) {
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, fmt.Errorf("%s: Config.APIKey is required (claim a free key at https://www.alphavantage.co/support/#api-key)", Name)
	}
	if strings.ContainsAny(cfg.APIKey, " \t\r\n") {
		return nil, fmt.Errorf("%s: Config.APIKey contains white space", Name)
	}
	switch cfg.OutputSize {
	case "", OutputCompact, OutputFull:
	default:
		return nil, fmt.Errorf("%s: Config.OutputSize %q: want %q, %q or empty", Name, cfg.OutputSize, OutputCompact, OutputFull)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	c := &Client{cfg: cfg}
	all := slices.Concat([]providers.Option{providers.WithRateLimit(DefaultRateLimit, DefaultBurst)},
		opts, []providers.Option{providers.WithSecrets(cfg.APIKey)})
	core, err := providers.NewClient(Name, cfg.BaseURL, c.classify, nil, all...)
	if err != nil {
		return nil, err
	}
	c.core = core
	return c, nil
}

// Name returns "alphavantage".
func (c *Client) Name() string { return Name }

// Classes returns equity, forex and crypto.
func (c *Client) Classes() []providers.AssetClass {
	return []providers.AssetClass{providers.Equity, providers.Forex, providers.Crypto}
}

// Close releases the client's connections. It is idempotent.
func (c *Client) Close() error { return c.core.Close() }

// Bars returns daily bars of q.Symbol dated from q.From's to q.To's UTC
// date (inclusive), ascending: TIME_SERIES_DAILY (or _ADJUSTED, see Config.Adjusted) for
// equities, FX_DAILY for forex, DIGITAL_CURRENCY_DAILY for crypto. Only the
// daily interval is offered; others match providers.ErrUnsupported.
func (c *Client) Bars(ctx context.Context, q providers.BarQuery) ([]providers.Bar, error) {
	sym, class, err := c.checkQuery(q)
	if err != nil {
		return nil, err
	}
	params := url.Values{}
	var parse func([]byte) ([]providers.Bar, error)
	switch class {
	case providers.Equity:
		params.Set("function", "TIME_SERIES_DAILY")
		if c.cfg.Adjusted {
			params.Set("function", "TIME_SERIES_DAILY_ADJUSTED")
		}
		params.Set("symbol", sym)
		params.Set("outputsize", c.outputSize(q))
		parse = ParseDailySeries
	case providers.Forex:
		base, quote, _ := providers.SplitPair(sym)
		params.Set("function", "FX_DAILY")
		params.Set("from_symbol", base)
		params.Set("to_symbol", quote)
		params.Set("outputsize", c.outputSize(q))
		parse = ParseFXDaily
	case providers.Crypto:
		base, quote, _ := providers.SplitPair(sym)
		params.Set("function", "DIGITAL_CURRENCY_DAILY")
		params.Set("symbol", base)
		params.Set("market", quote)
		parse = ParseDigitalCurrencyDaily
	}
	body, err := c.get(ctx, "bars "+sym, params)
	if err != nil {
		return nil, err
	}
	bars, err := parse(body)
	if err != nil {
		return nil, fmt.Errorf("bars %s: %w", sym, err)
	}
	bars = inRange(bars, q.From, q.To, func(b providers.Bar) time.Time { return b.Time })
	if len(bars) == 0 {
		return nil, fmt.Errorf("%s: bars %s: %w between %s and %s", Name, sym, providers.ErrNoData, fmtTime(q.From), fmtTime(q.To))
	}
	return bars, nil
}

// AdjustedBars returns TIME_SERIES_DAILY_ADJUSTED bars of an equity, with
// adjusted close, dividend and split coefficient, filtered like Bars.
func (c *Client) AdjustedBars(ctx context.Context, q providers.BarQuery) ([]AdjustedBar, error) {
	sym, class, err := c.checkQuery(q)
	if err != nil {
		return nil, err
	}
	if class != providers.Equity {
		return nil, fmt.Errorf("%s: adjusted bars %s: %w: only equities have adjusted series", Name, sym, providers.ErrUnsupported)
	}
	params := url.Values{"function": {"TIME_SERIES_DAILY_ADJUSTED"}, "symbol": {sym}, "outputsize": {c.outputSize(q)}}
	body, err := c.get(ctx, "adjusted bars "+sym, params)
	if err != nil {
		return nil, err
	}
	bars, err := ParseDailyAdjusted(body)
	if err != nil {
		return nil, fmt.Errorf("adjusted bars %s: %w", sym, err)
	}
	bars = inRange(bars, q.From, q.To, func(b AdjustedBar) time.Time { return b.Time })
	if len(bars) == 0 {
		return nil, fmt.Errorf("%s: adjusted bars %s: %w between %s and %s", Name, sym, providers.ErrNoData, fmtTime(q.From), fmtTime(q.To))
	}
	return bars, nil
}

// Quote returns the latest price: GLOBAL_QUOTE for equities,
// CURRENCY_EXCHANGE_RATE for forex and crypto pairs (Bid and Ask set when
// Alpha Vantage reports them).
func (c *Client) Quote(ctx context.Context, symbol string) (providers.Quote, error) {
	sym, class, err := providers.NormalizeSymbol(symbol)
	if err != nil {
		return providers.Quote{}, fmt.Errorf("%s: quote: %w", Name, err)
	}
	if class == providers.Equity {
		body, err := c.get(ctx, "quote "+sym, url.Values{"function": {"GLOBAL_QUOTE"}, "symbol": {sym}})
		if err != nil {
			return providers.Quote{}, err
		}
		gq, err := ParseGlobalQuote(body)
		if err != nil {
			return providers.Quote{}, fmt.Errorf("quote %s: %w", sym, err)
		}
		q := gq.Quote()
		q.Symbol = sym
		return q, nil
	}
	base, quote, _ := providers.SplitPair(sym)
	body, err := c.get(ctx, "quote "+sym, url.Values{
		"function": {"CURRENCY_EXCHANGE_RATE"}, "from_currency": {base}, "to_currency": {quote}})
	if err != nil {
		return providers.Quote{}, err
	}
	x, err := ParseExchangeRate(body)
	if err != nil {
		return providers.Quote{}, fmt.Errorf("quote %s: %w", sym, err)
	}
	return providers.Quote{Symbol: sym, Class: class, Price: x.Rate, Bid: x.Bid, Ask: x.Ask, Time: x.Time, Provider: Name}, nil
}

func (c *Client) checkQuery(q providers.BarQuery) (string, providers.AssetClass, error) {
	sym, class, err := providers.NormalizeSymbol(q.Symbol)
	if err != nil {
		return "", "", fmt.Errorf("%s: bars: %w", Name, err)
	}
	if q.Interval != "" && q.Interval != providers.Day {
		return "", "", fmt.Errorf("%s: bars %s: %w: interval %q (only daily bars)", Name, sym, providers.ErrUnsupported, q.Interval)
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return "", "", fmt.Errorf("%s: bars %s: To %s is before From %s", Name, sym, fmtTime(q.To), fmtTime(q.From))
	}
	return sym, class, nil
}

// outputSize chooses the output size that holds q's range. A compact answer
// holds only the latest 100 bars, so a range that starts, or with an open
// start ends, before that needs the full history.
func (c *Client) outputSize(q providers.BarQuery) string {
	if c.cfg.OutputSize != "" {
		return c.cfg.OutputSize
	}
	oldest := q.From
	if oldest.IsZero() {
		oldest = q.To
	}
	if oldest.IsZero() || time.Since(oldest) <= compactSpan {
		return OutputCompact
	}
	return OutputFull
}

// get calls /query with params and the API key.
func (c *Client) get(ctx context.Context, op string, params url.Values) ([]byte, error) {
	params.Set("apikey", c.cfg.APIKey)
	resp, err := c.core.Do(ctx, providers.Request{Path: "/query", Query: params, Op: op})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// inRange keeps the bars dated from From's date to To's date, inclusive:
// bars are dates, so the time of day of the bounds does not matter.
func inRange[T any](bars []T, from, to time.Time, at func(T) time.Time) []T {
	if from.IsZero() && to.IsZero() {
		return bars
	}
	if !from.IsZero() {
		y, m, d := from.UTC().Date()
		from = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	out := bars[:0]
	for _, b := range bars {
		t := at(b)
		if (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to)) {
			out = append(out, b)
		}
	}
	return out
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "(open)"
	}
	return t.UTC().Format(time.RFC3339)
}

// errorKeys are the top-level keys of Alpha Vantage's error answers.
var errorKeys = [...]string{"Note", "Information", "Error Message"}

var quotedErrorKeys = [...][]byte{[]byte(`"Note"`), []byte(`"Information"`), []byte(`"Error Message"`)}

// dataKeys are top-level keys that only success answers carry.
var dataKeys = [...]string{keyMetaData, keyGlobalQuote, keyExchangeRate, keyDailySeries, keyFXSeries, keyDigitalDaily}

// classify maps Alpha Vantage's error answers, which arrive as HTTP 200, to
// typed errors. It is the core's providers.Classifier.
func (c *Client) classify(resp *providers.Response) error {
	if b := bytes.TrimSpace(resp.Body); len(b) > 0 && b[0] == '<' {
		return c.core.NewStatusError(resp, providers.ErrUpstream, providers.Excerpt(resp.Body))
	}
	be, ok := ClassifyBody(resp.Body)
	if !ok {
		return nil
	}
	se := c.core.NewStatusError(resp, be.Kind, be.Message)
	if be.RetryAfter > se.RetryAfter {
		se.RetryAfter = be.RetryAfter
	}
	return se
}

// BodyError is an error answer recognised in a response body.
type BodyError struct {
	// Key is the answer's top-level key: "Note", "Information" or
	// "Error Message".
	Key string
	// Kind is the sentinel the answer maps to.
	Kind error
	// Message is the upstream's text.
	Message string
	// RetryAfter is DailyLimitRetryAfter for the daily quota, else zero.
	RetryAfter time.Duration
}

// ClassifyBody reports whether body is one of Alpha Vantage's error answers
// and describes it. Error answers are recognised by their top-level key,
// whatever the HTTP status; a body that also carries data is not one.
func ClassifyBody(body []byte) (BodyError, bool) {
	found := false
	for _, k := range quotedErrorKeys {
		if bytes.Contains(body, k) {
			found = true
			break
		}
	}
	if !found {
		return BodyError{}, false
	}
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(body)
	if err != nil {
		return BodyError{}, false
	}
	root, err := v.Object()
	if err != nil {
		return BodyError{}, false
	}
	for _, k := range dataKeys {
		if root.Get(k) != nil {
			return BodyError{}, false
		}
	}
	for _, k := range errorKeys {
		if ev := root.Get(k); ev != nil {
			return classifyMessage(k, messageOf(ev)), true
		}
	}
	return BodyError{}, false
}

func messageOf(v *fastjson.Value) string {
	if s, err := v.StringBytes(); err == nil {
		return string(s)
	}
	return v.String()
}

// classifyMessage maps an error answer's key and text to a sentinel.
func classifyMessage(key, msg string) BodyError {
	be := BodyError{Key: key, Message: msg}
	be.RetryAfter, be.Kind = kindOf(key, msg)
	return be
}

func kindOf(key, msg string) (retryAfter time.Duration, kind error) {
	m := strings.ToLower(msg)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(m, w) {
				return true
			}
		}
		return false
	}
	switch key {
	case "Note":
		return 0, providers.ErrRateLimited
	case "Information":
		switch {
		case has("is a premium"):
			// "This is a premium endpoint …". Other answers offer the
			// premium plans too ("… unlock all premium endpoints"), so
			// the offer alone does not make one.
			return 0, providers.ErrUnauthorized
		case has("call frequency", "per minute", "per second", "sparingly", "call volume"):
			// Short-window limits (the 2018 wording came under this key
			// and names the daily quota too, as does the 2024 per-second
			// burst one): worth a retry.
			return 0, providers.ErrRateLimited
		case has("per day", "daily"):
			return DailyLimitRetryAfter, providers.ErrRateLimited
		case has("rate limit"):
			return 0, providers.ErrRateLimited
		case has("apikey", "api key"):
			return 0, providers.ErrUnauthorized
		}
		return 0, providers.ErrUpstream
	default: // "Error Message"
		if has("apikey", "api key") {
			return 0, providers.ErrUnauthorized
		}
		return 0, providers.ErrNotFound
	}
}
