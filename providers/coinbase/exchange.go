package coinbase

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/wire"
)

// MaxCandles is the most candles the Exchange returns for one request.
const MaxCandles = 300

// MaxCandleRequests bounds how many requests one Bars call may make
// (MaxCandles rows each); a longer range is refused rather than silently
// truncated.
const MaxCandleRequests = 100

// classifyExchange turns Exchange error bodies ({"message":"…"}) and HTML
// pages into *providers.StatusError.
func classifyExchange(pc *providers.Client, r *providers.Response) error {
	if r.Status < 400 {
		if wire.IsHTML(r) {
			return pc.NewStatusError(r, providers.ErrUpstream, "HTML instead of JSON: "+providers.Excerpt(r.Body))
		}
		return nil
	}
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(r.Body, &e) == nil && e.Message != "" {
		return pc.NewStatusError(r, providers.KindForStatus(r.Status), e.Message)
	}
	return nil // the core maps the status and quotes the body
}

// granularity is the Exchange candle width for an interval, in seconds.
func granularity(iv providers.Interval) (int64, error) {
	switch iv {
	case providers.Minute:
		return 60, nil
	case providers.Hour:
		return 3600, nil
	case providers.Day, "":
		return 86400, nil
	}
	return 0, fmt.Errorf("coinbase: interval %q: the Exchange offers 1m, 1h and 1d candles: %w", iv, providers.ErrUnsupported)
}

// window is one candles request: [start, end], both inclusive.
type window struct{ start, end time.Time }

// candleWindows splits [from, to] into requests of at most MaxCandles
// buckets of g seconds. A zero to means now; a zero from means MaxCandles
// buckets before to. Both zero is one request without a range (the
// Exchange's latest 300).
func candleWindows(from, to, now time.Time, g int64) ([]window, error) {
	if from.IsZero() && to.IsZero() {
		return []window{{}}, nil
	}
	step := time.Duration(g) * time.Second
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-(MaxCandles - 1) * step)
	}
	if to.Before(from) {
		return nil, fmt.Errorf("coinbase: bars from %s to %s: the range ends before it starts", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	span := (MaxCandles - 1) * step
	n := int64(to.Sub(from)/(span+step)) + 1
	if n > MaxCandleRequests {
		return nil, fmt.Errorf("coinbase: bars from %s to %s need %d requests of %d candles; at most %d: narrow the range or widen the interval",
			from.Format(time.RFC3339), to.Format(time.RFC3339), n, MaxCandles, MaxCandleRequests)
	}
	ws := make([]window, 0, n)
	for s := from; !s.After(to); s = s.Add(span + step) {
		ws = append(ws, window{start: s, end: minTime(s.Add(span), to)})
	}
	return ws, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Bars returns candles of a crypto pair from GET /products/{id}/candles,
// oldest first. Intervals 1m, 1h and 1d are supported. A range longer than
// 300 candles is fetched in several requests and merged; candles the
// Exchange returns outside [From, To] are dropped. An empty result is an
// error matching providers.ErrNoData.
func (c *Client) Bars(ctx context.Context, q providers.BarQuery) ([]providers.Bar, error) {
	sym, err := cryptoSymbol(q.Symbol)
	if err != nil {
		return nil, err
	}
	g, err := granularity(q.Interval)
	if err != nil {
		return nil, err
	}
	from, to := q.From.UTC(), q.To.UTC() // a zero time stays zero
	ws, err := candleWindows(from, to, c.now().UTC(), g)
	if err != nil {
		return nil, err
	}
	path := "/products/" + url.PathEscape(sym) + "/candles"
	var all []providers.Bar
	for _, w := range ws {
		query := url.Values{"granularity": {strconv.FormatInt(g, 10)}}
		if !w.start.IsZero() {
			query.Set("start", w.start.Format(time.RFC3339))
			query.Set("end", w.end.Format(time.RFC3339))
		}
		resp, err := c.exchange.Do(ctx, providers.Request{Path: path, Query: query, Op: "bars " + sym})
		if err != nil {
			return nil, err
		}
		bars, err := ParseCandles(resp.Body)
		if err != nil {
			return nil, err
		}
		all = append(all, bars...)
	}
	if len(ws) > 1 {
		all = wire.Ascending(all)
	}
	if all = wire.Clip(all, from, to); len(all) == 0 {
		return nil, fmt.Errorf("coinbase: bars %s %s: %w", sym, wire.DescribeRange(q), providers.ErrNoData)
	}
	return all, nil
}

// Quote returns the latest trade price, best bid and ask and 24-hour volume
// of a crypto pair from GET /products/{id}/ticker.
func (c *Client) Quote(ctx context.Context, symbol string) (providers.Quote, error) {
	sym, err := cryptoSymbol(symbol)
	if err != nil {
		return providers.Quote{}, err
	}
	resp, err := c.exchange.Do(ctx, providers.Request{Path: "/products/" + url.PathEscape(sym) + "/ticker", Op: "quote " + sym})
	if err != nil {
		return providers.Quote{}, err
	}
	q, err := ParseTicker(resp.Body)
	if err != nil {
		return providers.Quote{}, err
	}
	q.Symbol, q.Class, q.Provider = sym, providers.Crypto, ProviderName
	return q, nil
}
