// Package polygon is a client of the Polygon.io REST API
// (https://polygon.io/docs). The endpoints covered are:
//
//   - GET /v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to}
//     (aggregates: bars, following next_url for a bounded number of pages)
//   - GET /v2/aggs/ticker/{ticker}/prev (the previous day's bar)
//   - GET /v2/last/trade/{ticker} (last stock trade)
//   - GET /v1/last/crypto/{from}/{to} (last crypto trade)
//   - GET /v1/last_quote/currencies/{from}/{to} (last forex quote)
//   - GET /v2/last/nbbo/{ticker} (last stock bid and offer)
//   - GET /v1/open-close/{ticker}/{date} (a stock's daily open and close)
//
// Symbols map to Polygon tickers as "AAPL" → "AAPL", "BTC-USD" →
// "X:BTCUSD", "EUR_USD" → "C:EURUSD". The API key is sent as
// "Authorization: Bearer", never in a URL. Bar times are the aggregate
// window starts Polygon reports (a US equity's daily bar starts at
// midnight New York time), in UTC.
//
// The parsers (ParseAggs, ParseLastTrade, ParseLastCryptoTrade,
// ParseLastForexQuote, ParseLastNBBO, ParseOpenClose) are pure functions
// over a response body.
//
// # Errors
//
// Error answers are {"status":"ERROR"|"NOT_AUTHORIZED"|"NOT_FOUND",
// "request_id", "error"|"message"}; their message is kept. 401 and 403
// (NOT_AUTHORIZED: the plan does not cover the data) are
// providers.ErrUnauthorized, 404 providers.ErrNotFound, 429
// providers.ErrRateLimited (retried), 5xx and HTML pages
// providers.ErrUpstream. An aggregates range without results is
// providers.ErrNoData.
//
// # Rate limit
//
// The default limit is the free (Basic) plan's 5 requests per minute: one
// every 12 seconds, burst 1 (DefaultRateLimit, DefaultBurst). Paid plans
// are unlimited; lift it with providers.WithRateLimit(rate.Inf, 1).
package polygon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fastjson"
	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers"
)

// Name is the provider name used in errors, logs and quotes.
const Name = "polygon"

// DefaultBaseURL is the real API's base URL.
const DefaultBaseURL = "https://api.polygon.io"

// Default rate limit: the free plan's 5 requests per minute.
var (
	DefaultRateLimit = rate.Every(12 * time.Second)
	DefaultBurst     = 1
)

// DefaultMaxPages bounds how many aggregates pages one Bars call follows.
const DefaultMaxPages = 10

// pageLimit is the limit query parameter of aggregates requests: the
// largest page Polygon serves.
const pageLimit = "50000"

// defaultSpan is how far back Bars reaches when the query's From is zero.
const defaultSpan = 2 // years

// Config configures a Client.
type Config struct {
	// BaseURL defaults to DefaultBaseURL. A sandbox serves the API under a
	// prefix, e.g. "http://127.0.0.1:8080/polygon".
	BaseURL string
	// APIKey is required. It is sent as "Authorization: Bearer" and never
	// appears in errors or logs.
	APIKey string
	// Unadjusted asks for bars not adjusted for splits (adjusted=false).
	Unadjusted bool
	// MaxPages bounds the next_url pages one Bars call follows; zero means
	// DefaultMaxPages.
	MaxPages int
}

// Client is a Polygon.io client. It is safe for concurrent use; call Close
// when done.
type Client struct {
	core     *providers.Client
	cfg      Config
	basePath string
	// noLast records, per asset class, that the plan does not cover the
	// last-trade endpoint, so Quote goes straight to the previous close.
	noLast [3]atomic.Bool
}

var _ providers.MarketData = (*Client)(nil)

// New returns a client for cfg. The default rate limit (DefaultRateLimit,
// DefaultBurst) comes before opts, so opts may override it.
func New(cfg Config, opts ...providers.Option) (*Client, error) {
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, fmt.Errorf("%s: Config.APIKey is required (see https://polygon.io/dashboard/keys)", Name)
	}
	if strings.ContainsAny(cfg.APIKey, " \t\r\n") {
		return nil, fmt.Errorf("%s: Config.APIKey contains white space", Name)
	}
	if cfg.MaxPages < 0 {
		return nil, fmt.Errorf("%s: Config.MaxPages %d is negative", Name, cfg.MaxPages)
	}
	if cfg.MaxPages == 0 {
		cfg.MaxPages = DefaultMaxPages
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	c := &Client{cfg: cfg}
	if u, err := url.Parse(cfg.BaseURL); err == nil {
		c.basePath = strings.TrimSuffix(u.EscapedPath(), "/")
	}
	all := slices.Concat([]providers.Option{providers.WithRateLimit(DefaultRateLimit, DefaultBurst)},
		opts, []providers.Option{providers.WithSecrets(cfg.APIKey)})
	auth := func(req *http.Request, _ []byte) error {
		req.Header.Set("Authorization", "Bearer "+cfg.APIKey)
		return nil
	}
	core, err := providers.NewClient(Name, cfg.BaseURL, c.classify, auth, all...)
	if err != nil {
		return nil, err
	}
	c.core = core
	return c, nil
}

// Name returns "polygon".
func (c *Client) Name() string { return Name }

// Classes returns equity, crypto and forex.
func (c *Client) Classes() []providers.AssetClass {
	return []providers.AssetClass{providers.Equity, providers.Crypto, providers.Forex}
}

// Close releases the client's connections. It is idempotent.
func (c *Client) Close() error { return c.core.Close() }

// ticker returns Polygon's ticker for a symbol.
func ticker(symbol string) (sym, tick string, class providers.AssetClass, err error) {
	sym, class, err = providers.NormalizeSymbol(symbol)
	if err != nil {
		return "", "", "", fmt.Errorf("%s: %w", Name, err)
	}
	switch class {
	case providers.Crypto:
		base, quote, _ := providers.SplitPair(sym)
		return sym, "X:" + base + quote, class, nil
	case providers.Forex:
		base, quote, _ := providers.SplitPair(sym)
		return sym, "C:" + base + quote, class, nil
	}
	return sym, sym, class, nil
}

func timespan(i providers.Interval) (string, bool) {
	switch i {
	case providers.Minute:
		return "minute", true
	case providers.Hour:
		return "hour", true
	case "", providers.Day:
		return "day", true
	case providers.Week:
		return "week", true
	}
	return "", false
}

// Bars returns aggregates of q.Symbol between q.From and q.To, ascending.
// A zero To is now; a zero From is two years before To (the free plan's
// history). Daily and weekly ranges are whole UTC dates: a bar dated on
// To's date is included. next_url pages are followed against BaseURL (its
// host is ignored, so the key never goes elsewhere), at most
// Config.MaxPages of them; a range needing more matches
// providers.ErrUnsupported, so a caller can narrow it or try another
// provider.
func (c *Client) Bars(ctx context.Context, q providers.BarQuery) ([]providers.Bar, error) {
	sym, tick, _, err := ticker(q.Symbol)
	if err != nil {
		return nil, fmt.Errorf("bars: %w", err)
	}
	span, ok := timespan(q.Interval)
	if !ok {
		return nil, fmt.Errorf("%s: bars %s: %w: interval %q", Name, sym, providers.ErrUnsupported, q.Interval)
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
		return nil, fmt.Errorf("%s: bars %s: To %s is before From %s", Name, sym, to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	op := "bars " + sym
	path := fmt.Sprintf("/v2/aggs/ticker/%s/range/1/%s/%s/%s", url.PathEscape(tick), span,
		from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly))
	query := url.Values{"adjusted": {strconv.FormatBool(!c.cfg.Unadjusted)}, "sort": {"asc"}, "limit": {pageLimit}}
	var bars []providers.Bar
	for page := 1; ; page++ {
		resp, err := c.core.Do(ctx, providers.Request{Path: path, Query: query, Op: op})
		if err != nil {
			return nil, err
		}
		a, err := ParseAggs(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		bars = append(bars, a.Bars...)
		if a.NextURL == "" {
			break
		}
		if page == c.cfg.MaxPages {
			return nil, fmt.Errorf("%s: %s: %w: more than %d pages of aggregates (Config.MaxPages); narrow the range",
				Name, op, providers.ErrUnsupported, c.cfg.MaxPages)
		}
		if path, query, err = c.nextPage(a.NextURL); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	bars = sortBars(bars)
	lo, hi := q.From, q.To
	if span == "day" || span == "week" {
		lo, hi = startOfDay(lo), endOfDay(hi)
	}
	bars = inRange(bars, lo, hi)
	if len(bars) == 0 {
		return nil, fmt.Errorf("%s: %s: %w between %s and %s", Name, op, providers.ErrNoData,
			from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly))
	}
	return bars, nil
}

// nextPage turns a next_url into a request relative to BaseURL.
func (c *Client) nextPage(next string) (string, url.Values, error) {
	u, err := url.Parse(next)
	if err != nil {
		// url.Error quotes the whole URL, which may carry the key.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return "", nil, providers.Decodef(Name, "next_url", "%v", err)
	}
	p := u.EscapedPath()
	if c.basePath != "" && strings.HasPrefix(p, c.basePath+"/") {
		p = p[len(c.basePath):]
	}
	if !strings.HasPrefix(p, "/v2/aggs/") {
		return "", nil, providers.Decodef(Name, "next_url", "path %q is not an aggregates path", p)
	}
	q := u.Query()
	q.Del("apiKey")
	return p, q, nil
}

func startOfDay(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func endOfDay(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return startOfDay(t).Add(24*time.Hour - time.Nanosecond)
}

func inRange(bars []providers.Bar, from, to time.Time) []providers.Bar {
	out := bars[:0]
	for _, b := range bars {
		if (from.IsZero() || !b.Time.Before(from)) && (to.IsZero() || !b.Time.After(to)) {
			out = append(out, b)
		}
	}
	return out
}

// PrevClose returns the previous trading day's bar of symbol
// (/v2/aggs/ticker/{ticker}/prev).
func (c *Client) PrevClose(ctx context.Context, symbol string) (providers.Bar, error) {
	sym, tick, _, err := ticker(symbol)
	if err != nil {
		return providers.Bar{}, fmt.Errorf("previous close: %w", err)
	}
	return c.prevClose(ctx, sym, tick)
}

func (c *Client) prevClose(ctx context.Context, sym, tick string) (providers.Bar, error) {
	op := "previous close " + sym
	resp, err := c.core.Do(ctx, providers.Request{
		Path: "/v2/aggs/ticker/" + url.PathEscape(tick) + "/prev", Op: op,
		Query: url.Values{"adjusted": {strconv.FormatBool(!c.cfg.Unadjusted)}},
	})
	if err != nil {
		return providers.Bar{}, err
	}
	a, err := ParseAggs(resp.Body)
	if err != nil {
		return providers.Bar{}, fmt.Errorf("%s: %w", op, err)
	}
	if len(a.Bars) == 0 {
		return providers.Bar{}, fmt.Errorf("%s: %s: %w", Name, op, providers.ErrNoData)
	}
	return a.Bars[len(a.Bars)-1], nil
}

// LastTrade returns the last trade of a stock (/v2/last/trade/{ticker}) or
// a crypto pair (/v1/last/crypto/{from}/{to}). Forex has quotes, not
// trades: it matches providers.ErrUnsupported.
func (c *Client) LastTrade(ctx context.Context, symbol string) (Trade, error) {
	sym, tick, class, err := ticker(symbol)
	if err != nil {
		return Trade{}, fmt.Errorf("last trade: %w", err)
	}
	op := "last trade " + sym
	var req providers.Request
	var parse func([]byte) (Trade, error)
	switch class {
	case providers.Equity:
		req, parse = providers.Request{Path: "/v2/last/trade/" + url.PathEscape(tick), Op: op}, ParseLastTrade
	case providers.Crypto:
		base, quote, _ := providers.SplitPair(sym)
		req, parse = providers.Request{Path: "/v1/last/crypto/" + base + "/" + quote, Op: op}, ParseLastCryptoTrade
	default:
		return Trade{}, fmt.Errorf("%s: %s: %w: forex pairs have quotes, not trades", Name, op, providers.ErrUnsupported)
	}
	resp, err := c.core.Do(ctx, req)
	if err != nil {
		return Trade{}, err
	}
	t, err := parse(resp.Body)
	if err != nil {
		return Trade{}, fmt.Errorf("%s: %w", op, err)
	}
	return t, nil
}

// LastNBBO returns the last national best bid and offer of a stock
// (/v2/last/nbbo/{ticker}).
func (c *Client) LastNBBO(ctx context.Context, symbol string) (NBBO, error) {
	sym, tick, class, err := ticker(symbol)
	if err != nil {
		return NBBO{}, fmt.Errorf("last NBBO: %w", err)
	}
	op := "last NBBO " + sym
	if class != providers.Equity {
		return NBBO{}, fmt.Errorf("%s: %s: %w: NBBO is for stocks", Name, op, providers.ErrUnsupported)
	}
	resp, err := c.core.Do(ctx, providers.Request{Path: "/v2/last/nbbo/" + url.PathEscape(tick), Op: op})
	if err != nil {
		return NBBO{}, err
	}
	q, err := ParseLastNBBO(resp.Body)
	if err != nil {
		return NBBO{}, fmt.Errorf("%s: %w", op, err)
	}
	return q, nil
}

// DailyOpenClose returns a stock's open, close and extended-hours prices on
// date (/v1/open-close/{ticker}/{date}, its UTC date).
func (c *Client) DailyOpenClose(ctx context.Context, symbol string, date time.Time) (OpenClose, error) {
	sym, tick, class, err := ticker(symbol)
	if err != nil {
		return OpenClose{}, fmt.Errorf("open-close: %w", err)
	}
	d := date.UTC().Format(time.DateOnly)
	op := "open-close " + sym + " " + d
	if class != providers.Equity {
		return OpenClose{}, fmt.Errorf("%s: %s: %w: open-close is for stocks", Name, op, providers.ErrUnsupported)
	}
	resp, err := c.core.Do(ctx, providers.Request{
		Path: "/v1/open-close/" + url.PathEscape(tick) + "/" + d, Op: op,
		Query: url.Values{"adjusted": {strconv.FormatBool(!c.cfg.Unadjusted)}},
	})
	if err != nil {
		return OpenClose{}, err
	}
	oc, err := ParseOpenClose(resp.Body)
	if err != nil {
		return OpenClose{}, fmt.Errorf("%s: %w", op, err)
	}
	if oc.Symbol != "" {
		if s, _, err := providers.NormalizeSymbol(oc.Symbol); err == nil {
			oc.Symbol = s
		}
	}
	return oc, nil
}

// Quote returns the latest price: the last trade of a stock or crypto pair,
// the mid of the last quote of a forex pair (Bid and Ask set). Where the
// plan does not cover those endpoints (403, as on the free plan) it falls
// back to the previous day's bar (Price is its close) and goes straight
// there from then on; a 404 from them falls back for this call only.
func (c *Client) Quote(ctx context.Context, symbol string) (providers.Quote, error) {
	sym, tick, class, err := ticker(symbol)
	if err != nil {
		return providers.Quote{}, fmt.Errorf("quote: %w", err)
	}
	flag := &c.noLast[classIndex(class)]
	if !flag.Load() {
		q, err := c.lastQuote(ctx, sym, class)
		switch {
		case errors.Is(err, providers.ErrUnauthorized):
			flag.Store(true)
		case !errors.Is(err, providers.ErrNotFound):
			return q, err
		}
	}
	b, err := c.prevClose(ctx, sym, tick)
	if err != nil {
		return providers.Quote{}, err
	}
	return providers.Quote{Symbol: sym, Class: class, Price: b.Close, Open: b.Open, High: b.High, Low: b.Low,
		Volume: b.Volume, Time: b.Time, Provider: Name}, nil
}

func classIndex(c providers.AssetClass) int {
	switch c {
	case providers.Crypto:
		return 1
	case providers.Forex:
		return 2
	}
	return 0
}

func (c *Client) lastQuote(ctx context.Context, sym string, class providers.AssetClass) (providers.Quote, error) {
	if class == providers.Forex {
		base, quote, _ := providers.SplitPair(sym)
		op := "quote " + sym
		resp, err := c.core.Do(ctx, providers.Request{Path: "/v1/last_quote/currencies/" + base + "/" + quote, Op: op})
		if err != nil {
			return providers.Quote{}, err
		}
		fq, err := ParseLastForexQuote(resp.Body)
		if err != nil {
			return providers.Quote{}, fmt.Errorf("%s: %w", op, err)
		}
		return providers.Quote{Symbol: sym, Class: class, Price: (fq.Bid + fq.Ask) / 2, Bid: fq.Bid, Ask: fq.Ask,
			Time: fq.Time, Provider: Name}, nil
	}
	t, err := c.LastTrade(ctx, sym)
	if err != nil {
		return providers.Quote{}, err
	}
	return providers.Quote{Symbol: sym, Class: class, Price: t.Price, Time: t.Time, Provider: Name}, nil
}

// smallBody is the size under which a 200 answer is checked for an error
// status; error answers are a few hundred bytes, data pages far larger.
const smallBody = 4 << 10

// classify maps Polygon's error answers to typed errors, keeping their
// message. It is the core's providers.Classifier.
func (c *Client) classify(resp *providers.Response) error {
	if b := bytes.TrimSpace(resp.Body); len(b) > 0 && b[0] == '<' {
		return c.core.NewStatusError(resp, providers.ErrUpstream, providers.Excerpt(resp.Body))
	}
	if resp.Status < 400 && len(resp.Body) > smallBody {
		return nil
	}
	status, msg, isErr := ErrorBody(resp.Body)
	if resp.Status < 400 && !isErr {
		return nil
	}
	kind := providers.KindForStatus(resp.Status)
	switch status {
	case "NOT_AUTHORIZED":
		kind = providers.ErrUnauthorized
	case "NOT_FOUND":
		kind = providers.ErrNotFound
	}
	if msg == "" {
		msg = providers.Excerpt(resp.Body)
	}
	return c.core.NewStatusError(resp, kind, msg)
}

// ErrorBody reports whether body is a Polygon error answer, and its status
// and message ("error" or "message", whichever it carries).
func ErrorBody(body []byte) (status, message string, ok bool) {
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(body)
	if err != nil || v.Type() != fastjson.TypeObject {
		return "", "", false
	}
	return errorOf(v)
}
