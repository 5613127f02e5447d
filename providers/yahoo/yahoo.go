// Package yahoo is a client of Yahoo Finance's unofficial v8 chart API, a
// keyless source of bars and latest prices for equities, crypto pairs and
// forex pairs.
//
// Endpoint covered:
//
//	GET /v8/finance/chart/{symbol}?interval=1d&period1=…&period2=…&events=div|split
//
// Bars, Chart and Quote all read this one endpoint: Chart exposes the whole
// answer (bars, adjusted closes, splits, dividends and the instrument's
// meta), Bars its bars, and Quote the latest price from the meta.
//
// Symbols are spelled the Yahoo way on the wire: "AAPL", "BRK-B" for
// BRK.B, "BTC-USD", and "EURUSD=X" for EUR_USD.
//
// The API has no documentation and no published rate limit; the client
// defaults to a conservative 2 requests per second.
package yahoo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/leakinject"
)

// name is the provider name in errors, logs and the unclosed tracker.
const name = "yahoo"

// DefaultBaseURL is the host the client talks to when Config.BaseURL is
// empty.
const DefaultBaseURL = "https://query2.finance.yahoo.com"

// DefaultUserAgent is sent unless the caller sets providers.WithUserAgent:
// Yahoo throttles requests whose User-Agent looks like a bare library.
const DefaultUserAgent = "Mozilla/5.0 (compatible; leakgate-providers/1)"

// DefaultRate and DefaultBurst are the client's default rate limit: Yahoo
// publishes none and throttles bursts, so the client stays well below what
// browsers send.
const (
	DefaultRate  rate.Limit = 2
	DefaultBurst int        = 2
)

// quoteWindow is how far back Quote asks for daily bars: enough to hold
// the previous session across a long weekend.
const quoteWindow = 10 * 24 * time.Hour

// defaultRange is the span Bars asks for when the query leaves From open.
const defaultRange = 365 * 24 * time.Hour

// Config configures a Client.
type Config struct {
	// BaseURL is the API root; empty means DefaultBaseURL. A path is kept,
	// so "http://127.0.0.1:8080/yahoo" serves the sandbox's recordings.
	BaseURL string
}

// Client reads charts from Yahoo Finance. It is safe for concurrent use;
// call Close when done.
type Client struct {
	core *providers.Client
	now  func() time.Time
	// base and opts are core's base URL and options.
	base string
	opts []providers.Option
}

var _ providers.MarketData = (*Client)(nil)

// New returns a Client. The defaults (rate limit, User-Agent) come first,
// so opts override them.
func New(cfg Config, opts ...providers.Option) (*Client, error) {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	c := &Client{now: time.Now}
	all := append([]providers.Option{
		providers.WithRateLimit(DefaultRate, DefaultBurst),
		providers.WithUserAgent(DefaultUserAgent),
	}, opts...)
	core, err := providers.NewClient(name, base, classify, nil, all...)
	if err != nil {
		return nil, err
	}
	c.core = core
	c.base, c.opts = base, all
	return c, nil
}

// Name returns "yahoo".
func (c *Client) Name() string { return name }

// Classes returns equity, crypto and forex: Yahoo charts all three.
func (c *Client) Classes() []providers.AssetClass {
	return []providers.AssetClass{providers.Equity, providers.Crypto, providers.Forex}
}

// Close releases the client's connections. It is idempotent.
func (c *Client) Close() error { return c.core.Close() }

// Bars returns the bars of q in ascending order (see Chart.Bars for how
// holes and timestamps are handled). A zero To means now; a zero From means
// one year before To. An empty range matches providers.ErrNoData.
func (c *Client) Bars(ctx context.Context, q providers.BarQuery) ([]providers.Bar, error) {
	ch, err := c.Chart(ctx, q)
	if err != nil {
		return nil, err
	}
	return ch.Bars, nil
}

// Chart returns the whole chart of q: bars, adjusted closes, splits,
// dividends and meta. When the range holds no bars the error matches
// providers.ErrNoData and the returned Chart still carries the Meta.
func (c *Client) Chart(ctx context.Context, q providers.BarQuery) (Chart, error) {
	sym, class, err := providers.NormalizeSymbol(q.Symbol)
	if err != nil {
		return Chart{}, fmt.Errorf("%s: %w", name, err)
	}
	interval, err := yahooInterval(q.Interval)
	if err != nil {
		return Chart{}, err
	}
	to := q.To
	if to.IsZero() {
		to = c.now()
	}
	from := q.From
	if from.IsZero() {
		from = to.Add(-defaultRange)
	}
	if !from.Before(to) {
		return Chart{}, fmt.Errorf("%s: bars of %s: From %s is not before To %s", name, sym, from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return c.chart(ctx, sym, class, interval, from, to, "bars "+sym)
}

// Quote returns the latest price of symbol from the chart meta:
// regularMarketPrice, the session's high, low and volume, and the previous
// close (the meta's previousClose when Yahoo sends it, otherwise the close of
// the session before the last bar, otherwise chartPreviousClose).
func (c *Client) Quote(ctx context.Context, symbol string) (providers.Quote, error) {
	sym, class, err := providers.NormalizeSymbol(symbol)
	if err != nil {
		return providers.Quote{}, fmt.Errorf("%s: %w", name, err)
	}
	to := c.now()
	ch, err := c.chart(ctx, sym, class, "1d", to.Add(-quoteWindow), to, "quote "+sym)
	if err != nil && !errors.Is(err, providers.ErrNoData) {
		return providers.Quote{}, err
	}
	m := ch.Meta
	q := providers.Quote{
		Symbol: sym, Class: class, Provider: name,
		Price: m.RegularMarketPrice, High: m.RegularMarketDayHigh, Low: m.RegularMarketDayLow,
		Volume: m.RegularMarketVolume, Time: m.RegularMarketTime,
	}
	n := len(ch.Bars)
	switch {
	case m.PreviousClose != 0:
		q.PrevClose = m.PreviousClose
	case n >= 2:
		q.PrevClose = ch.Bars[n-2].Close
	default:
		q.PrevClose = m.ChartPreviousClose
	}
	if n > 0 {
		last := ch.Bars[n-1]
		q.Open = last.Open
		if q.Price == 0 {
			q.Price = last.Close
		}
		if q.Time.IsZero() {
			q.Time = last.Time
		}
	}
	if q.Price == 0 {
		return providers.Quote{}, fmt.Errorf("%s: quote %s: chart meta has no regularMarketPrice: %w", name, sym, providers.ErrNoData)
	}
	return q, nil
}

func (c *Client) chart(ctx context.Context, sym string, class providers.AssetClass, interval string, from, to time.Time, op string) (Chart, error) {
	core := c.core
	if leakinject.On(leakinject.ClientPerRequest) {
		// The leak (BUG-040's session per call): a new client, with a
		// transport of its own, for every request, never closed.
		var err error
		if core, err = providers.NewClient(name, c.base, classify, nil, c.opts...); err != nil {
			return Chart{}, err
		}
	}
	resp, err := core.Do(ctx, providers.Request{
		Path: "/v8/finance/chart/" + url.PathEscape(toYahoo(sym, class)),
		Query: url.Values{
			"interval": {interval},
			"period1":  {strconv.FormatInt(from.Unix(), 10)},
			"period2":  {strconv.FormatInt(to.Unix(), 10)},
			"events":   {"div|split"},
		},
		Op: op,
	})
	if err != nil {
		if _, bare := err.(*providers.StatusError); bare {
			// The core wraps transport errors with the operation but
			// returns error answers as they are.
			err = fmt.Errorf("%s: %s: %w", name, op, err)
		}
		return Chart{}, err
	}
	ch, err := ParseChart(resp.Body)
	ch.Symbol = sym
	if err != nil {
		return ch, fmt.Errorf("%s: %s: %w", name, op, err)
	}
	return ch, nil
}

// classify maps Yahoo's error answers: the JSON envelope
// {"chart":{"error":{"code","description"}}} (also under "finance") at any
// status, and an HTML page where JSON was expected.
func classify(resp *providers.Response) error {
	if resp.Status < 400 {
		if isHTML(resp.Body) {
			return &providers.StatusError{Provider: name, Status: resp.Status, Kind: providers.ErrUpstream,
				Message: providers.Excerpt(resp.Body)}
		}
		if !hasErrorObject(resp.Body) {
			return nil // the common case: no second parse of a large body
		}
	}
	d := getDecoder()
	defer putDecoder(d)
	root, err := d.p.ParseBytes(resp.Body)
	if err != nil {
		return nil // not JSON: the status decides (an HTML 502 becomes ErrUpstream)
	}
	if se := envelopeError(root, resp.Status); se != nil {
		se.RetryAfter = providers.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return se
	}
	return nil
}

// hasErrorObject reports whether the last "error" key of body holds an
// object; success bodies end with "error":null.
func hasErrorObject(body []byte) bool {
	key := []byte(`"error"`)
	i := bytes.LastIndex(body, key)
	if i < 0 {
		return false
	}
	rest := bytes.TrimLeft(body[i+len(key):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	return len(rest) > 0 && rest[0] == '{'
}

// yahooInterval spells an interval the way the chart API takes it.
func yahooInterval(i providers.Interval) (string, error) {
	switch i {
	case providers.Minute:
		return "1m", nil
	case providers.Hour:
		return "60m", nil
	case providers.Day, "":
		return "1d", nil
	case providers.Week:
		return "1wk", nil
	}
	return "", fmt.Errorf("%s: interval %q: %w", name, i, providers.ErrUnsupported)
}

// toYahoo spells a normalised symbol the Yahoo way.
func toYahoo(sym string, class providers.AssetClass) string {
	switch class {
	case providers.Forex:
		base, quote, _ := providers.SplitPair(sym)
		return base + quote + "=X"
	case providers.Equity:
		return strings.ReplaceAll(sym, ".", "-") // BRK.B is BRK-B
	}
	return sym
}

// normalise turns Yahoo's spelling back into a normalised symbol, or ""
// when it has none.
func normalise(ysym string, class providers.AssetClass) string {
	if ysym == "" {
		return ""
	}
	if class == providers.Equity && strings.Count(ysym, "-") == 1 {
		if s, c, err := providers.NormalizeSymbol(strings.ReplaceAll(ysym, "-", ".")); err == nil && c == providers.Equity {
			return s
		}
	}
	s, _, err := providers.NormalizeSymbol(ysym)
	if err != nil {
		return ""
	}
	return s
}
