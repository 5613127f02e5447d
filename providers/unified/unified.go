// Package unified routes market-data requests to an ordered list of
// providers per asset class, falling back to the next provider when one
// fails (rate limited, upstream error, timeout, a plan or symbol it does not
// cover). Answers are kept in a bounded
// TTL cache, and concurrent identical requests are collapsed into one
// upstream call.
//
// A Provider owns its children: Close closes each of them exactly once, even
// when one serves several asset classes.
package unified

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/leakgate/leakgate/providers"
)

// Routes lists, per asset class, the providers to try in order.
type Routes map[providers.AssetClass][]providers.MarketData

// Option configures a Provider.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	barsTTL, quoteTTL time.Duration
	maxEntries        int
	callTimeout       time.Duration
	now               func() time.Time
	logger            *slog.Logger
}

// Defaults of a Provider's cache.
const (
	DefaultBarsTTL    = 5 * time.Minute
	DefaultQuoteTTL   = 5 * time.Second
	DefaultMaxEntries = 1024
	// DefaultCallTimeout bounds one shared upstream call, fallbacks
	// included, whether or not anyone still waits for it.
	DefaultCallTimeout = 2 * time.Minute
)

// WithCallTimeout bounds one shared upstream call, fallbacks included.
func WithCallTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) { o.callTimeout = d })
}

// unixNano is t's Unix time in nanoseconds, and 0 for the zero Time (whose
// UnixNano is undefined).
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// WithTTL sets how long bars and quotes stay cached. Zero disables caching of
// that kind.
func WithTTL(bars, quote time.Duration) Option {
	return optionFunc(func(o *options) { o.barsTTL, o.quoteTTL = bars, quote })
}

// WithMaxEntries bounds the cache; the least recently used entry is evicted
// first.
func WithMaxEntries(n int) Option {
	return optionFunc(func(o *options) { o.maxEntries = n })
}

// WithClock sets the time source of the cache, for tests.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) { o.now = now })
}

// WithLogger sets where fallbacks are logged (at debug level).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) { o.logger = l })
}

// Stats counts what a Provider did since it was made. Collapsed counts the
// callers whose request shared one upstream call with another caller's
// (the first of them included).
type Stats struct {
	Hits, Misses, Fallbacks, Collapsed uint64
}

// Provider is a providers.MarketData over several providers.
type Provider struct {
	routes   Routes
	children []providers.MarketData // each once, in first-seen order
	classes  []providers.AssetClass
	opts     options
	cache    *cache
	group    singleflight.Group

	hits, misses, fallbacks, collapsed atomic.Uint64

	// mu orders the start of shared calls against Close, so that Close can
	// wait for every call it did not prevent.
	mu        sync.RWMutex
	calls     sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool
}

var _ providers.MarketData = (*Provider)(nil)

// New returns a Provider over routes. Every provider in routes must serve the
// class it is listed under. The Provider takes ownership of them: Close
// closes each once.
func New(routes Routes, opts ...Option) (*Provider, error) {
	o := options{barsTTL: DefaultBarsTTL, quoteTTL: DefaultQuoteTTL, maxEntries: DefaultMaxEntries,
		callTimeout: DefaultCallTimeout, now: time.Now}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	if o.maxEntries < 1 {
		return nil, fmt.Errorf("unified: max entries %d: want at least 1", o.maxEntries)
	}
	p := &Provider{routes: Routes{}, opts: o, cache: newCache(o.maxEntries)}
	seen := map[providers.MarketData]bool{}
	for _, class := range []providers.AssetClass{providers.Equity, providers.Crypto, providers.Forex} {
		list := routes[class]
		if len(list) == 0 {
			continue
		}
		for _, md := range list {
			if md == nil {
				return nil, fmt.Errorf("unified: nil provider in the %s route", class)
			}
			if !providers.Serves(md, class) {
				return nil, fmt.Errorf("unified: %s does not serve %s; remove it from that route", md.Name(), class)
			}
			if !seen[md] {
				seen[md] = true
				p.children = append(p.children, md)
			}
		}
		p.routes[class] = append([]providers.MarketData(nil), list...)
		p.classes = append(p.classes, class)
	}
	for class := range routes {
		if !class.Valid() {
			return nil, fmt.Errorf("unified: unknown asset class %q in routes", class)
		}
	}
	return p, nil
}

// Name implements providers.MarketData.
func (p *Provider) Name() string { return "unified" }

// Classes returns the asset classes that have a route.
func (p *Provider) Classes() []providers.AssetClass { return p.classes }

// Stats returns the cache and fallback counters.
func (p *Provider) Stats() Stats {
	return Stats{Hits: p.hits.Load(), Misses: p.misses.Load(), Fallbacks: p.fallbacks.Load(), Collapsed: p.collapsed.Load()}
}

// CacheLen returns how many answers the cache holds, expired ones not yet
// evicted included: never more than the bound set with WithMaxEntries.
func (p *Provider) CacheLen() int { return p.cache.len() }

// Bars returns bars for q from the first provider of the symbol's class that
// answers, or from the cache. The returned slice is shared with the cache and
// with concurrent callers: do not modify it.
func (p *Provider) Bars(ctx context.Context, q providers.BarQuery) ([]providers.Bar, error) {
	sym, class, err := providers.NormalizeSymbol(q.Symbol)
	if err != nil {
		return nil, err
	}
	q.Symbol = sym
	if q.Interval == "" {
		q.Interval = providers.Day
	}
	k := key{kind: kindBars, symbol: sym, interval: q.Interval, from: unixNano(q.From), to: unixNano(q.To)}
	if v, ok := p.lookup(k); ok {
		return v.bars, nil
	}
	v, err := p.fetch(ctx, k, class, p.opts.barsTTL, func(ctx context.Context, md providers.MarketData) (value, error) {
		bars, err := md.Bars(ctx, q)
		return value{bars: bars}, err
	})
	return v.bars, err
}

// Quote returns the latest quote of symbol from the first provider of its
// class that answers, or from the cache.
func (p *Provider) Quote(ctx context.Context, symbol string) (providers.Quote, error) {
	sym, class, err := providers.NormalizeSymbol(symbol)
	if err != nil {
		return providers.Quote{}, err
	}
	k := key{kind: kindQuote, symbol: sym}
	if v, ok := p.lookup(k); ok {
		return v.quote, nil
	}
	v, err := p.fetch(ctx, k, class, p.opts.quoteTTL, func(ctx context.Context, md providers.MarketData) (value, error) {
		q, err := md.Quote(ctx, sym)
		return value{quote: q}, err
	})
	return v.quote, err
}

func (p *Provider) lookup(k key) (value, bool) {
	if p.closed.Load() {
		return value{}, false
	}
	v, ok := p.cache.get(k, p.opts.now())
	if ok {
		p.hits.Add(1)
	}
	return v, ok
}

// fetch asks the class's providers in order, collapsing concurrent identical
// requests, and caches a success for ttl.
func (p *Provider) fetch(ctx context.Context, k key, class providers.AssetClass, ttl time.Duration,
	call func(context.Context, providers.MarketData) (value, error)) (value, error) {
	if p.closed.Load() {
		return value{}, fmt.Errorf("unified: %w", providers.ErrClosed)
	}
	p.misses.Add(1)
	list := p.routes[class]
	if len(list) == 0 {
		return value{}, fmt.Errorf("unified: no provider configured for %s (%s): %w", class, k.symbol, providers.ErrUnsupported)
	}
	// The shared call runs under a context detached from any one caller's
	// cancellation, so one caller giving up does not fail the others; each
	// caller still stops waiting when its own context ends.
	ch := p.group.DoChan(k.String(), func() (any, error) {
		p.mu.RLock()
		if p.closed.Load() {
			p.mu.RUnlock()
			return value{}, fmt.Errorf("unified: %w", providers.ErrClosed)
		}
		p.calls.Add(1)
		p.mu.RUnlock()
		defer p.calls.Done()
		// Bounded even when every caller has given up.
		shared, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.callTimeout)
		defer cancel()
		v, err := p.tryEach(shared, list, call)
		if err == nil && ttl > 0 {
			p.cache.put(k, v, p.opts.now().Add(ttl))
		}
		return v, err
	})
	select {
	case r := <-ch:
		if r.Shared {
			p.collapsed.Add(1)
		}
		if r.Err != nil {
			return value{}, r.Err
		}
		return r.Val.(value), nil
	case <-ctx.Done():
		return value{}, fmt.Errorf("unified: %s: %w", k.symbol, ctx.Err())
	}
}

// tryEach calls the providers in order until one succeeds or fails with an
// error no other provider can fix.
func (p *Provider) tryEach(ctx context.Context, list []providers.MarketData,
	call func(context.Context, providers.MarketData) (value, error)) (value, error) {
	var errs []error
	for i, md := range list {
		v, err := call(ctx, md)
		if err == nil {
			return v, nil
		}
		errs = append(errs, err)
		if !fallsBack(err) || i == len(list)-1 {
			break
		}
		p.fallbacks.Add(1)
		p.opts.logger.Debug("unified: falling back", "from", md.Name(), "to", list[i+1].Name(), "err", err)
	}
	if len(errs) == 1 {
		return value{}, errs[0]
	}
	return value{}, errors.Join(errs...)
}

// fallsBack reports whether another provider may answer where this one
// failed. Every provider failure qualifies — rate limits, upstream errors and
// timeouts, and also a plan that does not cover the endpoint (unauthorized),
// a symbol or range one provider lacks (not found, no data) and malformed
// answers — since the errors of all providers tried are returned together
// when none answers. Only a bad symbol, a closed client and the caller's own
// cancellation end the search.
func fallsBack(err error) bool {
	return !errors.Is(err, providers.ErrBadSymbol) && !errors.Is(err, providers.ErrClosed) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// Close closes every child provider exactly once, waits for shared calls in
// flight to return, and joins the children's errors. It is idempotent and
// safe to call concurrently; later calls return the first result.
func (p *Provider) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed.Store(true)
		p.mu.Unlock()
		var errs []error
		for _, md := range p.children {
			if err := md.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close %s: %w", md.Name(), err))
			}
		}
		// Closing the children ends their requests in flight; the shared
		// calls waiting on them return promptly.
		p.calls.Wait()
		p.cache.clear()
		p.closeErr = errors.Join(errs...)
	})
	return p.closeErr
}
