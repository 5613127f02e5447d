package oanda

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/wire"
)

// MaxCandles is the most candles OANDA returns for one request.
const MaxCandles = 5000

// MaxCandleRequests bounds how many requests one Bars call may make
// (MaxCandles candles each); a longer range is refused rather than silently
// truncated.
const MaxCandleRequests = 100

// granularity is the v20 candle granularity of an interval and its length.
func granularity(iv providers.Interval) (string, time.Duration, error) {
	switch iv {
	case providers.Minute:
		return "M1", time.Minute, nil
	case providers.Hour:
		return "H1", time.Hour, nil
	case providers.Day, "":
		return "D", 24 * time.Hour, nil
	case providers.Week:
		return "W", 7 * 24 * time.Hour, nil
	}
	return "", 0, fmt.Errorf("oanda: interval %q: want 1m, 1h, 1d or 1w: %w", iv, providers.ErrUnsupported)
}

// window is one candles request. A zero from or to is left out; count is
// sent when non-zero.
type window struct {
	from, to time.Time
	count    int
}

// candleWindows plans the requests for [from, to] (either may be zero) in
// candles of length step. OANDA refuses a "to" in the future, so an
// open-ended range is asked for with from and count instead.
func candleWindows(from, to, now time.Time, step time.Duration) ([]window, error) {
	if to.After(now) {
		to = time.Time{}
	}
	switch {
	case from.IsZero() && to.IsZero():
		return []window{{}}, nil // OANDA's default: the latest 500 candles
	case from.IsZero():
		return []window{{to: to}}, nil // the 500 candles up to to
	}
	end := to
	if end.IsZero() {
		end = now
	}
	if end.Before(from) {
		return nil, fmt.Errorf("oanda: bars from %s to %s: the range ends before it starts", from.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	span := (MaxCandles - 1) * step
	if n := int64(end.Sub(from)/span) + 1; n > MaxCandleRequests {
		return nil, fmt.Errorf("oanda: bars from %s to %s need %d requests of %d candles; at most %d: narrow the range or widen the interval",
			from.Format(time.RFC3339), end.Format(time.RFC3339), n, MaxCandles, MaxCandleRequests)
	}
	var ws []window
	for s := from; ; s = s.Add(span) {
		e := s.Add(span)
		if !e.Before(end) {
			if to.IsZero() {
				ws = append(ws, window{from: s, count: MaxCandles})
			} else {
				ws = append(ws, window{from: s, to: to})
			}
			return ws, nil
		}
		// Consecutive windows share their boundary candle; the merge drops
		// the repeat.
		ws = append(ws, window{from: s, to: e})
	}
}

// Bars returns mid-price candles of an instrument from
// GET /v3/instruments/{instrument}/candles?price=M, oldest first. Intervals
// 1m, 1h, 1d and 1w map to M1, H1, D and W. A range longer than 5000
// candles is fetched in several requests and merged; candles outside
// [From, To] are dropped, and the last, still-forming candle unless
// Config.IncludeIncomplete is set. With no From the latest 500 candles (up
// to To) are returned. An empty result is an error matching
// providers.ErrNoData.
func (c *Client) Bars(ctx context.Context, q providers.BarQuery) ([]providers.Bar, error) {
	inst, err := instrument(q.Symbol)
	if err != nil {
		return nil, err
	}
	gran, step, err := granularity(q.Interval)
	if err != nil {
		return nil, err
	}
	from, to := q.From.UTC(), q.To.UTC() // a zero time stays zero
	ws, err := candleWindows(from, to, c.now().UTC(), step)
	if err != nil {
		return nil, err
	}
	path := "/v3/instruments/" + url.PathEscape(inst) + "/candles"
	var all []providers.Bar
	for _, w := range ws {
		query := url.Values{"price": {"M"}, "granularity": {gran}}
		if !w.from.IsZero() {
			query.Set("from", w.from.Format(time.RFC3339Nano))
		}
		if !w.to.IsZero() {
			query.Set("to", w.to.Format(time.RFC3339Nano))
		}
		if w.count > 0 {
			query.Set("count", strconv.Itoa(w.count))
		}
		body, err := c.do(ctx, providers.Request{Path: path, Query: query, Op: "bars " + inst})
		if err != nil {
			return nil, err
		}
		bars, err := ParseCandles(body, c.includeIncomplete)
		if err != nil {
			return nil, err
		}
		all = append(all, bars...)
	}
	if len(ws) > 1 {
		all = wire.Ascending(all)
	}
	if all = wire.Clip(all, from, to); len(all) == 0 {
		return nil, fmt.Errorf("oanda: bars %s %s: %w", inst, wire.DescribeRange(q), providers.ErrNoData)
	}
	return all, nil
}

// Quote returns the best bid and ask of an instrument and their mid as
// Price, from GET /v3/accounts/{accountID}/pricing?instruments=.
func (c *Client) Quote(ctx context.Context, symbol string) (providers.Quote, error) {
	inst, err := instrument(symbol)
	if err != nil {
		return providers.Quote{}, err
	}
	path, err := c.accountPath("quote "+inst, "/pricing")
	if err != nil {
		return providers.Quote{}, err
	}
	body, err := c.do(ctx, providers.Request{Path: path, Query: url.Values{"instruments": {inst}}, Op: "quote " + inst})
	if err != nil {
		return providers.Quote{}, err
	}
	quotes, err := ParsePricing(body)
	if err != nil {
		return providers.Quote{}, err
	}
	want := instrumentSymbol(inst)
	for _, q := range quotes {
		if q.Symbol == want {
			return q, nil
		}
	}
	return providers.Quote{}, fmt.Errorf("oanda: quote %s: no price in the answer: %w", inst, providers.ErrNotFound)
}

// LatestCandles returns the latest candles for each candle specification
// ("EUR_USD:M1:BA": instrument, granularity, price components) from
// GET /v3/accounts/{accountID}/candles/latest.
func (c *Client) LatestCandles(ctx context.Context, specs ...string) ([]LatestCandles, error) {
	if len(specs) == 0 {
		return nil, fmt.Errorf("oanda: latest candles: no candle specification")
	}
	for _, s := range specs {
		if strings.Count(s, ":") != 2 || strings.Contains(s, ",") {
			return nil, fmt.Errorf("oanda: latest candles: specification %q: want INSTRUMENT:GRANULARITY:PRICE, e.g. EUR_USD:M1:BA", s)
		}
	}
	path, err := c.accountPath("latest candles", "/candles/latest")
	if err != nil {
		return nil, err
	}
	body, err := c.do(ctx, providers.Request{Path: path, Query: url.Values{"candleSpecifications": {strings.Join(specs, ",")}}, Op: "latest candles"})
	if err != nil {
		return nil, err
	}
	return ParseLatestCandles(body, c.includeIncomplete)
}
