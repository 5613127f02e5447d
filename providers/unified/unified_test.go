package unified_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/unified"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fake is a scripted MarketData.
type fake struct {
	name    string
	classes []providers.AssetClass
	err     error         // returned by every call when set
	delay   time.Duration // each call waits this long (or until ctx ends)
	price   float64

	calls  atomic.Int32
	closes atomic.Int32
}

func (f *fake) Name() string                    { return f.name }
func (f *fake) Classes() []providers.AssetClass { return f.classes }
func (f *fake) Close() error                    { f.closes.Add(1); return nil }

func (f *fake) wait(ctx context.Context) error {
	f.calls.Add(1)
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return f.err
}

func (f *fake) Bars(ctx context.Context, q providers.BarQuery) ([]providers.Bar, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	return []providers.Bar{{Close: f.price}}, nil
}

func (f *fake) Quote(ctx context.Context, sym string) (providers.Quote, error) {
	if err := f.wait(ctx); err != nil {
		return providers.Quote{}, err
	}
	return providers.Quote{Symbol: sym, Price: f.price, Provider: f.name}, nil
}

var equity = []providers.AssetClass{providers.Equity}

func statusErr(kind error) error {
	return &providers.StatusError{Provider: "x", Status: 500, Kind: kind}
}

func TestFallback(t *testing.T) {
	tests := []struct {
		name       string
		firstErr   error
		wantFrom   string
		wantErr    error
		wantSecond int32
	}{
		{name: "first answers", firstErr: nil, wantFrom: "a", wantSecond: 0},
		{name: "rate limited falls back", firstErr: statusErr(providers.ErrRateLimited), wantFrom: "b", wantSecond: 1},
		{name: "upstream error falls back", firstErr: statusErr(providers.ErrUpstream), wantFrom: "b", wantSecond: 1},
		{name: "timeout falls back", firstErr: fmt.Errorf("a: %w", providers.ErrTimeout), wantFrom: "b", wantSecond: 1},
		{name: "not found falls back", firstErr: statusErr(providers.ErrNotFound), wantFrom: "b", wantSecond: 1},
		{name: "plan not covering it falls back", firstErr: statusErr(providers.ErrUnauthorized), wantFrom: "b", wantSecond: 1},
		{name: "closed does not", firstErr: fmt.Errorf("a: %w", providers.ErrClosed), wantErr: providers.ErrClosed},
		{name: "bad symbol does not", firstErr: fmt.Errorf("a: %w", providers.ErrBadSymbol), wantErr: providers.ErrBadSymbol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &fake{name: "a", classes: equity, err: tt.firstErr, price: 1}
			b := &fake{name: "b", classes: equity, price: 2}
			p, err := unified.New(unified.Routes{providers.Equity: {a, b}}, unified.WithLogger(slog.New(slog.DiscardHandler)))
			require.NoError(t, err)
			defer p.Close()
			q, err := p.Quote(t.Context(), "aapl")
			require.ErrorIs(t, err, tt.wantErr)
			require.Equal(t, tt.wantFrom, q.Provider)
			require.Equal(t, tt.wantSecond, b.calls.Load())
		})
	}
}

func TestAllFailJoinsErrors(t *testing.T) {
	a := &fake{name: "a", classes: equity, err: statusErr(providers.ErrRateLimited)}
	b := &fake{name: "b", classes: equity, err: statusErr(providers.ErrUpstream)}
	p, err := unified.New(unified.Routes{providers.Equity: {a, b}})
	require.NoError(t, err)
	defer p.Close()
	_, err = p.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL"})
	require.ErrorIs(t, err, providers.ErrRateLimited)
	require.ErrorIs(t, err, providers.ErrUpstream)
}

func TestRoutesByClass(t *testing.T) {
	eq := &fake{name: "eq", classes: equity, price: 1}
	cr := &fake{name: "cr", classes: []providers.AssetClass{providers.Crypto}, price: 2}
	p, err := unified.New(unified.Routes{providers.Equity: {eq}, providers.Crypto: {cr}})
	require.NoError(t, err)
	defer p.Close()
	_, err = p.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL"}) // zero From and To
	require.NoError(t, err)
	q, err := p.Quote(t.Context(), "btc/usd")
	require.NoError(t, err)
	require.Equal(t, "cr", q.Provider)
	require.Equal(t, "BTC-USD", q.Symbol)
	_, err = p.Quote(t.Context(), "EUR_USD")
	require.ErrorIs(t, err, providers.ErrUnsupported)
	_, err = p.Quote(t.Context(), "not a symbol")
	require.ErrorIs(t, err, providers.ErrBadSymbol)
}

func TestNewRejectsMisroutedProvider(t *testing.T) {
	_, err := unified.New(unified.Routes{providers.Forex: {&fake{name: "eq", classes: equity}}})
	require.ErrorContains(t, err, "eq does not serve forex")
	_, err = unified.New(unified.Routes{"bonds": {&fake{name: "eq", classes: equity}}})
	require.ErrorContains(t, err, `unknown asset class "bonds"`)
}

func TestCacheTTLAndBound(t *testing.T) {
	now := time.Unix(0, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	a := &fake{name: "a", classes: equity, price: 1}
	p, err := unified.New(unified.Routes{providers.Equity: {a}},
		unified.WithClock(clock), unified.WithTTL(time.Minute, time.Second), unified.WithMaxEntries(2))
	require.NoError(t, err)
	defer p.Close()
	ctx := t.Context()

	for range 3 {
		_, err := p.Quote(ctx, "AAPL")
		require.NoError(t, err)
	}
	require.Equal(t, int32(1), a.calls.Load(), "quotes within the TTL come from the cache")
	advance(2 * time.Second)
	_, err = p.Quote(ctx, "AAPL")
	require.NoError(t, err)
	require.Equal(t, int32(2), a.calls.Load(), "an expired quote is fetched again")

	// Two more keys evict the least recently used (the AAPL quote).
	_, err = p.Bars(ctx, providers.BarQuery{Symbol: "AAPL"})
	require.NoError(t, err)
	_, err = p.Bars(ctx, providers.BarQuery{Symbol: "MSFT"})
	require.NoError(t, err)
	_, err = p.Quote(ctx, "AAPL")
	require.NoError(t, err)
	require.Equal(t, int32(5), a.calls.Load(), "the cache holds at most 2 entries")
	st := p.Stats()
	require.Equal(t, uint64(2), st.Hits)
	require.Equal(t, uint64(5), st.Misses)
}

func TestErrorsAreNotCached(t *testing.T) {
	a := &fake{name: "a", classes: equity, err: statusErr(providers.ErrNotFound)}
	p, err := unified.New(unified.Routes{providers.Equity: {a}})
	require.NoError(t, err)
	defer p.Close()
	for range 2 {
		_, err := p.Quote(t.Context(), "AAPL")
		require.ErrorIs(t, err, providers.ErrNotFound)
	}
	require.Equal(t, int32(2), a.calls.Load())
}

func TestSharedCallIsBounded(t *testing.T) {
	a := &fake{name: "a", classes: equity, delay: time.Hour}
	p, err := unified.New(unified.Routes{providers.Equity: {a}}, unified.WithCallTimeout(20*time.Millisecond))
	require.NoError(t, err)
	defer p.Close()
	_, err = p.Quote(t.Context(), "AAPL")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestConcurrentIdenticalRequestsCollapse(t *testing.T) {
	a := &fake{name: "a", classes: equity, delay: 100 * time.Millisecond, price: 3}
	p, err := unified.New(unified.Routes{providers.Equity: {a}})
	require.NoError(t, err)
	defer p.Close()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			q, err := p.Quote(context.Background(), "AAPL")
			if err == nil && q.Price != 3 {
				err = fmt.Errorf("price %v", q.Price)
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(1), a.calls.Load())
	require.GreaterOrEqual(t, p.Stats().Collapsed+p.Stats().Hits, uint64(15))
}

func TestOneCallerGivingUpDoesNotFailOthers(t *testing.T) {
	a := &fake{name: "a", classes: equity, delay: 100 * time.Millisecond, price: 4}
	p, err := unified.New(unified.Routes{providers.Equity: {a}})
	require.NoError(t, err)
	defer p.Close()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := p.Quote(ctx, "AAPL")
		errc <- err
	}()
	require.Eventually(t, func() bool { return a.calls.Load() == 1 }, time.Second, time.Millisecond)
	res := make(chan providers.Quote, 1)
	go func() {
		q, _ := p.Quote(context.Background(), "AAPL")
		res <- q
	}()
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	require.Equal(t, 4.0, (<-res).Price)
}

func TestCloseClosesEachChildOnce(t *testing.T) {
	shared := &fake{name: "yahoo", classes: []providers.AssetClass{providers.Equity, providers.Crypto, providers.Forex}}
	eq := &fake{name: "eq", classes: equity}
	p, err := unified.New(unified.Routes{
		providers.Equity: {eq, shared}, providers.Crypto: {shared}, providers.Forex: {shared},
	})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { require.NoError(t, p.Close()) })
	}
	wg.Wait()
	require.NoError(t, p.Close())
	require.Equal(t, int32(1), shared.closes.Load())
	require.Equal(t, int32(1), eq.closes.Load())
	_, err = p.Quote(t.Context(), "AAPL")
	require.ErrorIs(t, err, providers.ErrClosed)
}

func TestCloseJoinsChildErrors(t *testing.T) {
	bad := &failingClose{fake: fake{name: "bad", classes: equity}}
	p, err := unified.New(unified.Routes{providers.Equity: {bad}})
	require.NoError(t, err)
	err = p.Close()
	require.ErrorContains(t, err, "close bad: boom")
	require.Equal(t, err, p.Close(), "later calls return the first result")
}

type failingClose struct{ fake }

func (f *failingClose) Close() error { return errors.New("boom") }

// httpMarket is a MarketData over a real providers.Client, so the unified
// provider's Close can be checked against real sockets.
type httpMarket struct {
	c *providers.Client
}

func (h *httpMarket) Name() string                    { return h.c.Name() }
func (h *httpMarket) Classes() []providers.AssetClass { return equity }
func (h *httpMarket) Close() error                    { return h.c.Close() }
func (h *httpMarket) Bars(ctx context.Context, q providers.BarQuery) ([]providers.Bar, error) {
	return nil, providers.ErrUnsupported
}
func (h *httpMarket) Quote(ctx context.Context, sym string) (providers.Quote, error) {
	_, err := h.c.Do(ctx, providers.Request{Path: "/quote/" + sym})
	return providers.Quote{Symbol: sym, Price: 1, Provider: h.c.Name()}, err
}

func TestCloseReleasesChildrenSockets(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") })
	providertest.CheckClose(t, h, func(base string) (io.Closer, error) {
		var mds []providers.MarketData
		for _, name := range []string{"one", "two"} {
			c, err := providers.NewClient(name, base, nil, nil)
			if err != nil {
				return nil, err
			}
			mds = append(mds, &httpMarket{c: c})
		}
		return unified.New(unified.Routes{providers.Equity: mds})
	}, func(c io.Closer) {
		p := c.(*unified.Provider)
		for _, sym := range []string{"AAPL", "MSFT", "SPY"} {
			_, err := p.Quote(t.Context(), sym)
			require.NoError(t, err)
		}
	})
}

func BenchmarkCacheHit(b *testing.B) {
	a := &fake{name: "a", classes: equity, price: 1}
	p, err := unified.New(unified.Routes{providers.Equity: {a}}, unified.WithTTL(time.Hour, time.Hour))
	require.NoError(b, err)
	defer p.Close()
	ctx := context.Background()
	from := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	q := providers.BarQuery{Symbol: "AAPL", Interval: providers.Day, From: from, To: from.AddDate(1, 0, 0)}
	_, err = p.Bars(ctx, q)
	require.NoError(b, err)
	_, err = p.Quote(ctx, "AAPL")
	require.NoError(b, err)

	b.Run("quote", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Quote(ctx, "AAPL"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bars", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Bars(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	})
}
