package scenarios

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/alphavantage"
	"github.com/leakgate/leakgate/providers/coinbase"
	"github.com/leakgate/leakgate/providers/finnhub"
	"github.com/leakgate/leakgate/providers/llm"
	"github.com/leakgate/leakgate/providers/oanda"
	"github.com/leakgate/leakgate/providers/polygon"
	"github.com/leakgate/leakgate/providers/reddit"
	prov "github.com/leakgate/leakgate/providers/registry"
	"github.com/leakgate/leakgate/providers/sandbox"
	"github.com/leakgate/leakgate/providers/unified"
)

// providerScenarios lists the provider-fetch and Reddit-scan scenarios.
func providerScenarios() []Scenario {
	var out []Scenario
	for _, p := range sandboxProviders {
		out = append(out, Scenario{
			Name:        "provider/" + p.name,
			Description: "build the " + p.name + " client against the sandbox, " + p.fetch + ", check the answer, Close",
			Modes:       []Mode{Mock, Live},
			Build: func(env *Env) (*Run, error) {
				return clientRun(env, "provider/"+p.name, func(ctx context.Context, m *Market, _ int) error {
					return fetchOnce(ctx, p.name, func() (client, error) {
						if p.open == nil {
							return openSandbox(m, p.name)
						}
						return p.open(m)
					}, p.do)
				}), nil
			},
		})
	}
	out = append(out,
		Scenario{
			Name: "provider/unified",
			Description: fmt.Sprintf("over one unified provider held for the run (polygon with a revoked key, yahoo, coinbase; "+
				"a cache of %d entries), fetch AAPL bars over a new range (polygon refuses, yahoo answers) and a BTC-USD quote",
				unifiedCacheBound),
			Modes: []Mode{Mock, Live},
			Build: func(env *Env) (*Run, error) { return unifiedRun(env), nil },
		},
		Scenario{
			Name: "reddit/scan",
			Description: "open a Reddit client, scan " + strings.Join(scanSubreddits, " and ") + " for posts about " +
				scanSymbol + " as the engine's sentiment vote does (two pages from the first), score them, Close",
			Modes: []Mode{Mock, Live},
			Build: func(env *Env) (*Run, error) {
				return clientRun(env, "reddit/scan", func(ctx context.Context, m *Market, _ int) error {
					n, err := scanOnce(ctx, m)
					if err != nil {
						return err
					}
					if n == 0 {
						return fmt.Errorf("reddit scan of %s: no posts", scanSymbol)
					}
					return nil
				}), nil
			},
		},
		Scenario{
			Name: "reddit/scan-fails-midway",
			Description: "the reddit/scan iteration with sandbox faults on the reddit prefix that answer the first page " +
				"and break every later one with a truncated body: the scan must fail, and release its client",
			Modes: []Mode{Mock, Live},
			Build: func(env *Env) (*Run, error) {
				seed, err := midwaySeed()
				if err != nil {
					return nil, err
				}
				return clientRun(env, "reddit/scan-fails-midway", func(ctx context.Context, m *Market, _ int) error {
					return scanFailsMidway(ctx, m, seed, scanOnce)
				}), nil
			},
		},
	)
	for _, r := range realProviders {
		out = append(out, Scenario{
			Name:        "real/" + r.name,
			Description: "build the " + r.name + " client against the real API (" + strings.Join(r.env, ", ") + "), " + r.fetch + ", Close; run with few iterations",
			Modes:       []Mode{Live},
			Build:       func(env *Env) (*Run, error) { return r.build(env) },
		})
	}
	return out
}

// closer is a provider client: everything the scenarios fetch from has Close.
type closer interface{ Close() error }

// clientRun is the Run of a scenario whose iterations use a Market held for
// the whole run, with the probes of provider clients.
func clientRun(env *Env, name string, iter func(ctx context.Context, m *Market, i int) error) *Run {
	return &Run{
		Scenario: marketScenario(env, name, nil, nil, nil, iter),
		Options:  clientProbes(),
	}
}

// marketScenario is a harness.Scenario whose Setup opens a Market of
// env.Mode (with the sandbox options opts) and then runs setup, whose
// Teardown runs teardown and then closes the Market, and whose iterations
// run iter and then fail with Market.Err when a request went unmocked.
// setup and teardown may be nil.
func marketScenario(env *Env, name string, opts []sandbox.Option,
	setup func(ctx context.Context, m *Market) error, teardown func(ctx context.Context) error,
	iter func(ctx context.Context, m *Market, i int) error) harness.Scenario {
	var m *Market
	return harness.Scenario{
		Name: name,
		Setup: func(ctx context.Context) error {
			var err error
			if m, err = OpenMarket(env.Mode, opts...); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if setup != nil {
				if err := setup(ctx, m); err != nil {
					return fmt.Errorf("%s: setup: %w", name, err)
				}
			}
			return nil
		},
		Run: func(ctx context.Context, i int) error {
			err := iter(ctx, m, i)
			if merr := m.Err(); merr != nil {
				if err != nil {
					return fmt.Errorf("%s: %w (the iteration returned: %v)", name, merr, err)
				}
				return fmt.Errorf("%s: %w", name, merr)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		},
		Teardown: func(ctx context.Context) error {
			var errs []error
			if teardown != nil {
				if err := teardown(ctx); err != nil {
					errs = append(errs, fmt.Errorf("%s: teardown: %w", name, err))
				}
			}
			if m != nil {
				if err := m.Close(); err != nil {
					errs = append(errs, fmt.Errorf("%s: close the market: %w", name, err))
				}
			}
			return errors.Join(errs...)
		},
	}
}

// discardLogger drops the clients' logs: retries and unclosed-client
// warnings show in the harness's metrics, not on stderr.
var discardLogger = slog.New(slog.DiscardHandler)

// sandboxOptions are the options of a client pointed at the market, as the
// engine sets them against a sandbox (engine/wiring.go): no client-side
// rate limit (the upstream quotas do not apply), brief retry back-off, and
// in Mock mode the market's transport.
func sandboxOptions(m *Market, extra ...providers.Option) []providers.Option {
	opts := []providers.Option{
		providers.WithLogger(discardLogger),
		providers.WithRateLimit(rate.Inf, 1),
		providers.WithRetry(providers.DefaultMaxAttempts, 10*time.Millisecond, 200*time.Millisecond),
		providers.WithMaxRetryAfter(2 * time.Second),
		providers.WithTimeout(10 * time.Second),
	}
	if rt := m.Transport(); rt != nil {
		opts = append(opts, providers.WithTransport(rt))
	}
	return append(opts, extra...)
}

// baseURL is the base URL of the API under prefix in the market.
func baseURL(m *Market, prefix string) string { return m.URL() + "/" + prefix }

// client is a provider client as the registry's constructors build it: the
// roles it plays, closed as one.
type client struct{ prov.Clients }

// Close closes the client.
func (c client) Close() error { return c.Clients.Close() }

// provider returns the registry's entry for name, which must be there.
func provider(name string) prov.Provider {
	p, ok := prov.Lookup(name)
	if !ok {
		panic("scenarios: no provider " + name + " in providers/registry (a bug in this package)")
	}
	return p
}

// sandboxSettings are the constructor settings of provider name against
// the market, as the engine builds them against a sandbox: each API at
// the route prefix the registry gives it, each secret the sandbox's
// stand-in, and sandboxOptions with extra.
func sandboxSettings(m *Market, name string, extra ...providers.Option) prov.Settings {
	p := provider(name)
	s := prov.Settings{URLs: map[string]string{}, Secrets: map[string]string{},
		Options: sandboxOptions(m, extra...), Sandbox: true}
	for _, e := range p.Endpoints {
		s.URLs[e.Setting] = baseURL(m, e.Prefix)
	}
	for _, sec := range p.Secrets {
		s.Secrets[sec.Name] = sec.Sandbox
	}
	return s
}

// openSandbox builds the client of provider name against the market with
// the registry's constructor and sandboxSettings.
func openSandbox(m *Market, name string, extra ...providers.Option) (client, error) {
	return buildClient(name, sandboxSettings(m, name, extra...))
}

// buildClient builds the client of provider name from s with the registry's
// constructor.
func buildClient(name string, s prov.Settings) (client, error) {
	c, err := provider(name).New(s)
	if err != nil {
		return client{}, err
	}
	return client{c}, nil
}

// newLLM builds an LLM client from s, as the registry's constructor does,
// with cfg's other fields: the scenarios send one attempt per completion,
// which the registry's settings do not say.
func newLLM(s prov.Settings, cfg llm.Config) (client, error) {
	cfg.BaseURL, cfg.APIKey = s.URLs[prov.BaseURL], s.Secrets[prov.APIKey]
	if cfg.Model == "" {
		cfg.Model = s.Model
	}
	c, err := llm.New(cfg, s.Options...)
	if err != nil {
		return client{}, err
	}
	return client{prov.Clients{LLM: c, Close: c.Close}}, nil
}

// fetchOnce opens a client, runs do on it and closes it, on every path.
func fetchOnce(ctx context.Context, name string, open func() (client, error), do func(ctx context.Context, c client) error) (err error) {
	c, err := open()
	if err != nil {
		return fmt.Errorf("%s: new client: %w", name, err)
	}
	defer func() {
		if cerr := c.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("%s: close: %w", name, cerr)
		}
	}()
	if err := do(ctx, c); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// day parses a YYYY-MM-DD date of the recorded data.
func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic("scenarios: bad date " + s + " (a bug in this package)")
	}
	return t
}

// barsOf fetches a month of daily bars of symbol and checks there are some.
func barsOf(ctx context.Context, md providers.MarketData, symbol, from, to string) error {
	bars, err := md.Bars(ctx, providers.BarQuery{Symbol: symbol, Interval: providers.Day, From: day(from), To: day(to)})
	if err != nil {
		return fmt.Errorf("bars %s: %w", symbol, err)
	}
	if len(bars) == 0 {
		return fmt.Errorf("bars %s %s..%s: none", symbol, from, to)
	}
	return nil
}

// quoteOf fetches a quote of symbol and checks it has a price.
func quoteOf(ctx context.Context, md providers.MarketData, symbol string) error {
	q, err := md.Quote(ctx, symbol)
	if err != nil {
		return fmt.Errorf("quote %s: %w", symbol, err)
	}
	if !(q.Price > 0) {
		return fmt.Errorf("quote %s: price %g", symbol, q.Price)
	}
	return nil
}

// sandboxProvider is one provider/<name> scenario: how to build the client
// against the market and what one iteration fetches.
type sandboxProvider struct {
	name  string
	fetch string // for the description
	// open builds the client; nil means openSandbox of name.
	open func(m *Market) (client, error)
	do   func(ctx context.Context, c client) error
}

// mdFetch adapts a MarketData fetch to the do of a provider scenario.
func mdFetch(f func(ctx context.Context, md providers.MarketData) error) func(ctx context.Context, c client) error {
	return func(ctx context.Context, c client) error { return f(ctx, c.MarketData) }
}

// llmPrompt is the chat the llm scenarios send.
var llmPrompt = []llm.Message{
	{Role: llm.System, Content: "You are a careful analyst."},
	{Role: "user", Content: "Compare AAPL with BTC-USD."},
}

var sandboxProviders = []sandboxProvider{
	{
		name: prov.AlphaVantage, fetch: "quote AAPL (GLOBAL_QUOTE)",
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error { return quoteOf(ctx, c, "AAPL") }),
	},
	{
		name: prov.Coinbase, fetch: "a month of BTC-USD daily candles",
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error {
			return barsOf(ctx, c, "BTC-USD", "2017-12-01", "2017-12-31")
		}),
	},
	{
		name: prov.OANDA, fetch: "a month of EUR_USD daily candles",
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error {
			return barsOf(ctx, c, "EUR_USD", "2018-06-01", "2018-06-30")
		}),
	},
	{
		name: prov.Polygon, fetch: "a month of AAPL daily aggregates",
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error {
			return barsOf(ctx, c, "AAPL", "2017-12-01", "2017-12-31")
		}),
	},
	{
		name: prov.Finnhub, fetch: "quote AAPL",
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error { return quoteOf(ctx, c, "AAPL") }),
	},
	{
		name: prov.Yahoo, fetch: "a month of SPY daily bars",
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error {
			return barsOf(ctx, c, "SPY", "2020-03-01", "2020-03-31")
		}),
	},
	{
		name: prov.Reddit, fetch: "list the newest posts of r/stocks (token, then one page)",
		do: listPosts,
	},
	{
		name: prov.LLM, fetch: "one chat completion",
		open: func(m *Market) (client, error) {
			return newLLM(sandboxSettings(m, prov.LLM), llm.Config{MaxAttempts: 1})
		},
		do: func(ctx context.Context, c client) error { return completeOnce(ctx, c.LLM) },
	},
}

// listPosts lists the 25 newest posts of r/stocks and checks there are
// some.
func listPosts(ctx context.Context, c client) error {
	posts, err := c.Posts.Posts(ctx, providers.PostQuery{Subreddit: "stocks", Limit: 25})
	if err != nil {
		return fmt.Errorf("posts r/stocks: %w", err)
	}
	if len(posts) == 0 {
		return errors.New("posts r/stocks: none")
	}
	return nil
}

// completeOnce asks for one chat completion and checks it has text.
func completeOnce(ctx context.Context, c *llm.Client) error {
	got, err := c.Complete(ctx, llmPrompt)
	if err != nil {
		return fmt.Errorf("chat completion: %w", err)
	}
	if strings.TrimSpace(got.Content) == "" {
		return fmt.Errorf("chat completion: empty answer (finish reason %q)", got.FinishReason)
	}
	return nil
}

// newRedditClient builds a Reddit client against the market, with the
// sandbox's credentials.
func newRedditClient(m *Market, extra ...providers.Option) (client, error) {
	return openSandbox(m, prov.Reddit, extra...)
}

// unifiedCacheBound is the cache bound of provider/unified's unified
// provider: a few iterations fill it, and from then on every iteration
// evicts an entry.
const unifiedCacheBound = 8

// unifiedRun is provider/unified: one unified provider over polygon (with a
// revoked key), yahoo and coinbase, built as the engine builds it (it owns
// its children) and held for the whole run, as an engine or `ffe serve`
// holds it. Every iteration asks for AAPL bars over a range of its own, a
// cache miss that polygon refuses and yahoo answers, and for a BTC-USD
// quote. The cache_entries gauge must stay within the cache's bound.
func unifiedRun(env *Env) *Run {
	const name = "provider/unified"
	var u *unified.Provider
	setup := func(_ context.Context, m *Market) (err error) {
		u, err = newUnified(m)
		return err
	}
	teardown := func(context.Context) error {
		if u == nil {
			return nil
		}
		return u.Close()
	}
	iter := func(ctx context.Context, _ *Market, i int) error {
		before := u.Stats().Fallbacks
		// A month of bars ending 2017-12-31, starting a day earlier at
		// every iteration: a new cache key each time.
		from := day("2017-12-01").AddDate(0, 0, -i)
		if err := barsOf(ctx, u, "AAPL", from.Format(time.DateOnly), "2017-12-31"); err != nil {
			return fmt.Errorf("unified: %w", err)
		}
		if u.Stats().Fallbacks == before {
			return errors.New("unified: AAPL bars came without a fall-back from the refused polygon client")
		}
		if err := quoteOf(ctx, u, "BTC-USD"); err != nil {
			return fmt.Errorf("unified: %w", err)
		}
		return nil
	}
	return &Run{
		Scenario: marketScenario(env, name, nil, setup, teardown, iter),
		Options: append(clientProbes(),
			harness.WithProbes(harness.Gauge("cache_entries", func() float64 {
				if u == nil {
					return 0
				}
				return float64(u.CacheLen())
			})),
			harness.WithThreshold("cache_entries", fmt.Sprintf("max<=%d", unifiedCacheBound)),
		),
	}
}

// newUnified builds the unified provider of provider/unified over clients
// of its own against m.
func newUnified(m *Market) (_ *unified.Provider, err error) {
	var children []closer
	defer func() {
		if err != nil {
			for _, c := range children {
				c.Close()
			}
		}
	}()
	revoked := sandboxSettings(m, prov.Polygon)
	revoked.Secrets[prov.APIKey] = sandbox.RevokedKey
	refused, err := buildClient(prov.Polygon, revoked)
	if err != nil {
		return nil, fmt.Errorf("polygon: %w", err)
	}
	children = append(children, refused)
	yc, err := openSandbox(m, prov.Yahoo)
	if err != nil {
		return nil, fmt.Errorf("yahoo: %w", err)
	}
	children = append(children, yc)
	// Coinbase without its key pair: the market data is public.
	keyless := sandboxSettings(m, prov.Coinbase)
	clear(keyless.Secrets)
	cb, err := buildClient(prov.Coinbase, keyless)
	if err != nil {
		return nil, fmt.Errorf("coinbase: %w", err)
	}
	children = append(children, cb)
	u, err := unified.New(unified.Routes{
		providers.Equity: {refused.MarketData, yc.MarketData},
		providers.Crypto: {cb.MarketData, yc.MarketData},
	}, unified.WithLogger(discardLogger), unified.WithCallTimeout(30*time.Second), unified.WithMaxEntries(unifiedCacheBound))
	if err != nil {
		return nil, fmt.Errorf("unified: %w", err)
	}
	return u, nil
}

// The Reddit scan of the reddit/* scenarios: the engine's sentiment vote
// (engine/sentiment.go) over scanSubreddits for scanSymbol, reading up to
// scanLimit posts per subreddit. The first subreddit holds more than a
// page of matches, so the scan reads two pages from it.
var scanSubreddits = []string{"CryptoCurrency+Bitcoin", "investing"}

const (
	scanSymbol = "BTC-USD"
	scanLimit  = 150
)

// redditScan searches subreddits for posts about sym and scores them, as
// the engine's sentiment vote does: a subreddit that fails is skipped, and
// the scan fails only when no subreddit answered. It returns how many posts
// it read.
func redditScan(ctx context.Context, ps providers.PostSource, subreddits []string, sym string, limit int) (reddit.Score, int, error) {
	var all []providers.Post
	var errs []error
	for _, sub := range subreddits {
		posts, err := ps.Posts(ctx, providers.PostQuery{Subreddit: sub, Search: searchTerm(sym), Limit: limit})
		if err != nil {
			if ctx.Err() != nil {
				return reddit.Score{}, 0, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("r/%s: %w", sub, err))
			continue
		}
		all = append(all, posts...)
	}
	if len(all) == 0 && len(errs) > 0 {
		return reddit.Score{}, 0, errors.Join(errs...)
	}
	return reddit.Sentiment(all, sym), len(all), nil
}

// searchTerm is what posts about sym are searched for: an equity's ticker,
// a crypto pair's base asset, a forex pair as BASE/QUOTE.
func searchTerm(sym string) string {
	if base, quote, ok := providers.SplitPair(sym); ok {
		if strings.Contains(sym, "_") {
			return base + "/" + quote
		}
		return base
	}
	return sym
}

// scanOnce opens a Reddit client against m, scans, and closes the client
// on every path. It returns how many posts the scan read.
func scanOnce(ctx context.Context, m *Market) (n int, err error) {
	c, err := newRedditClient(m)
	if err != nil {
		return 0, fmt.Errorf("reddit: new client: %w", err)
	}
	defer func() {
		if cerr := c.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("reddit: close: %w", cerr)
		}
	}()
	_, n, err = redditScan(ctx, c.Posts, scanSubreddits, scanSymbol, scanLimit)
	if err != nil {
		return 0, fmt.Errorf("reddit scan of %s: %w", scanSymbol, err)
	}
	return n, nil
}

// midwayFaults are the faults of reddit/scan-fails-midway: every request
// under the reddit prefix (the listings, not the token endpoint) has an
// even chance of a truncated body, drawn from a generator seeded with seed.
func midwayFaults(seed uint64) sandbox.Faults {
	return sandbox.Faults{Seed: seed, Malformed: sandbox.Chance{P: 0.5, Prefix: provider(prov.Reddit).Prefix()}}
}

// errNoMidwaySeed is returned when no seed makes the faults break the scan
// right after its first page.
var errNoMidwaySeed = errors.New("no fault seed breaks the reddit scan after its first page")

// midwaySeed finds, once, a seed of midwayFaults under which the scan gets
// its first page intact and a truncated body for every later request, so
// that it fails (see scanFailsMidway). It runs the scan against an
// in-process sandbox, without sockets: the faults draw once per request in
// arrival order, so the seed breaks the scan the same way in every mode.
var midwaySeed = sync.OnceValues(func() (uint64, error) {
	m, err := OpenMarket(Mock)
	if err != nil {
		return 0, err
	}
	defer m.Close()
	for seed := uint64(1); seed <= 1000; seed++ {
		if err := scanFailsMidway(context.Background(), m, seed, scanOnce); err == nil {
			return seed, nil
		}
	}
	return 0, errNoMidwaySeed
})

// scanFailsMidway runs scan under midwayFaults(seed) and checks that it
// failed as intended: with a decode error, after exactly one listing page
// was answered intact. Any other outcome is an error. The faults are off
// again when it returns.
func scanFailsMidway(ctx context.Context, m *Market, seed uint64, scan func(context.Context, *Market) (int, error)) error {
	h := m.Sandbox()
	h.ResetStats()
	h.SetFaults(midwayFaults(seed))
	_, err := scan(ctx, m)
	h.SetFaults(sandbox.Faults{})
	st := h.Stats()[provider(prov.Reddit).Prefix()]
	intact := st.Requests
	for _, n := range st.Faults {
		intact -= n
	}
	switch {
	case err == nil:
		return fmt.Errorf("reddit scan under faults (seed %d): succeeded; want it to fail after its first page", seed)
	case ctx.Err() != nil:
		return err
	case !errors.Is(err, providers.ErrDecode):
		return fmt.Errorf("reddit scan under faults (seed %d): want a decode error from a truncated page, got: %w", seed, err)
	case intact != 1:
		return fmt.Errorf("reddit scan under faults (seed %d): %d listing pages answered intact, want 1", seed, intact)
	}
	return nil
}

// realProvider is one real/<name> scenario: the client against the real
// API, built from the user's keys.
type realProvider struct {
	name  string
	env   []string // variables that must all be set
	fetch string   // for the description
	limit rate.Limit
	// open builds the client; nil means the registry's constructor with
	// realSettings.
	open func(env *Env, opts []providers.Option) (client, error)
	do   func(ctx context.Context, c client) error
}

// realIterations are the iterations recommended against a real API: each
// costs quota, and some plans allow 25 requests a day.
var realIterations = []harness.Option{harness.WithIterations(3), harness.WithWarmup(1)}

// build returns the scenario's Run, or an error matching ErrSkipped when a
// key is missing. Iterations are paced to the API's documented rate.
func (r realProvider) build(env *Env) (*Run, error) {
	for _, v := range r.env {
		if env.Getenv(v) == "" {
			return nil, Skip("set %s to run against the real %s API", strings.Join(r.env, " and "), r.name)
		}
	}
	name := "real/" + r.name
	pace := rate.NewLimiter(r.limit, 1)
	opts := []providers.Option{providers.WithLogger(discardLogger)}
	open := func() (client, error) {
		if r.open != nil {
			return r.open(env, opts)
		}
		return buildClient(r.name, realSettings(env, r.name, opts))
	}
	return &Run{
		Scenario: harness.Scenario{
			Name: name,
			Run: func(ctx context.Context, _ int) error {
				if err := pace.Wait(ctx); err != nil {
					return fmt.Errorf("%s: wait for the API's rate limit: %w", name, err)
				}
				return fetchOnce(ctx, name, open, r.do)
			},
		},
		Options: append(clientProbes(), realIterations...),
	}, nil
}

// providerEnv is the variable ffe reads the setting key of provider name
// from, such as FFE_PROVIDERS_OANDA_ACCOUNT_ID.
func providerEnv(name, key string) string { return config.EnvName("providers." + name + "." + key) }

// realSettings are the constructor settings of provider name against its
// real API, from the variables ffe reads: each API's base URL (unset
// means the real host), each secret from the registry's variable, and
// OANDA's account and live switch, Reddit's user agent and the LLM's
// model.
func realSettings(env *Env, name string, opts []providers.Option) prov.Settings {
	get := func(key string) string { return env.Getenv(providerEnv(name, key)) }
	live := get("live")
	s := prov.Settings{URLs: map[string]string{}, Secrets: map[string]string{}, Options: opts,
		AccountID: get("account_id"), Live: live == "true" || live == "1", UserAgent: get("user_agent"), Model: get("model")}
	p := provider(name)
	for _, e := range p.Endpoints {
		s.URLs[e.Setting] = get(e.Setting)
	}
	for _, sec := range p.Secrets {
		s.Secrets[sec.Name] = env.Getenv(sec.Env)
	}
	return s
}

// secretEnv is the variable ffe reads a provider's secret from, such as
// FFE_ALPHAVANTAGE_API_KEY.
func secretEnv(name, secret string) string {
	sec, ok := provider(name).Secret(secret)
	if !ok {
		panic("scenarios: no secret " + name + "." + secret + " in providers/registry (a bug in this package)")
	}
	return sec.Env
}

var realProviders = []realProvider{
	{
		name: prov.AlphaVantage, env: []string{secretEnv(prov.AlphaVantage, prov.APIKey)}, fetch: "quote AAPL",
		limit: alphavantage.DefaultRateLimit,
		do:    mdFetch(func(ctx context.Context, c providers.MarketData) error { return quoteOf(ctx, c, "AAPL") }),
	},
	{
		name: prov.Polygon, env: []string{secretEnv(prov.Polygon, prov.APIKey)}, fetch: "quote AAPL",
		limit: polygon.DefaultRateLimit,
		do:    mdFetch(func(ctx context.Context, c providers.MarketData) error { return quoteOf(ctx, c, "AAPL") }),
	},
	{
		name: prov.Finnhub, env: []string{secretEnv(prov.Finnhub, prov.APIKey)}, fetch: "quote AAPL",
		limit: finnhub.DefaultRateLimit,
		do:    mdFetch(func(ctx context.Context, c providers.MarketData) error { return quoteOf(ctx, c, "AAPL") }),
	},
	{
		// The quote is public; the key makes the run the user's choice.
		name:  prov.Coinbase,
		env:   []string{secretEnv(prov.Coinbase, prov.KeyName), secretEnv(prov.Coinbase, prov.PrivateKey)},
		fetch: "quote BTC-USD", limit: coinbase.ExchangeRateLimit,
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error { return quoteOf(ctx, c, "BTC-USD") }),
	},
	{
		name: prov.OANDA, env: []string{secretEnv(prov.OANDA, prov.Token), providerEnv(prov.OANDA, "account_id")},
		fetch: "quote EUR_USD", limit: oanda.RateLimit,
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error { return quoteOf(ctx, c, "EUR_USD") }),
	},
	{
		name:  prov.Reddit,
		env:   []string{secretEnv(prov.Reddit, prov.ClientID), secretEnv(prov.Reddit, prov.ClientSecret)},
		fetch: "list the 25 newest posts of r/stocks", limit: reddit.DefaultRate,
		do: listPosts,
	},
	{
		name: prov.LLM, env: []string{secretEnv(prov.LLM, prov.APIKey)}, fetch: "one short chat completion (billed)",
		limit: llm.DefaultRate,
		open: func(env *Env, opts []providers.Option) (client, error) {
			return newLLM(realSettings(env, prov.LLM, opts), llm.Config{MaxTokens: 32, MaxAttempts: 1})
		},
		do: func(ctx context.Context, c client) error { return completeOnce(ctx, c.LLM) },
	},
}
