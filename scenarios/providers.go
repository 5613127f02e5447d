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
	"github.com/leakgate/leakgate/providers/sandbox"
	"github.com/leakgate/leakgate/providers/unified"
	"github.com/leakgate/leakgate/providers/yahoo"
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
					return fetchOnce(ctx, p.name, func() (closer, error) { return p.open(m) }, p.do)
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

// fetchOnce opens a client, runs do on it and closes it, on every path.
func fetchOnce(ctx context.Context, name string, open func() (closer, error), do func(ctx context.Context, c closer) error) (err error) {
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
	open  func(m *Market) (closer, error)
	do    func(ctx context.Context, c closer) error
}

// mdFetch adapts a MarketData fetch to the do of a provider scenario.
func mdFetch(f func(ctx context.Context, md providers.MarketData) error) func(ctx context.Context, c closer) error {
	return func(ctx context.Context, c closer) error { return f(ctx, c.(providers.MarketData)) }
}

// llmPrompt is the chat the llm scenarios send.
var llmPrompt = []llm.Message{
	{Role: llm.System, Content: "You are a careful analyst."},
	{Role: "user", Content: "Compare AAPL with BTC-USD."},
}

var sandboxProviders = []sandboxProvider{
	{
		name: "alphavantage", fetch: "quote AAPL (GLOBAL_QUOTE)",
		open: func(m *Market) (closer, error) {
			return alphavantage.New(alphavantage.Config{BaseURL: baseURL(m, "alphavantage"), APIKey: sandbox.Key}, sandboxOptions(m)...)
		},
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error { return quoteOf(ctx, c, "AAPL") }),
	},
	{
		name: "coinbase", fetch: "a month of BTC-USD daily candles",
		open: func(m *Market) (closer, error) {
			return coinbase.New(coinbase.Config{BaseURL: baseURL(m, "coinbase"), ExchangeURL: baseURL(m, "coinbase-exchange"),
				KeyName: sandbox.CoinbaseKeyName, PrivateKey: sandbox.CoinbasePrivateKey}, sandboxOptions(m)...)
		},
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error {
			return barsOf(ctx, c, "BTC-USD", "2017-12-01", "2017-12-31")
		}),
	},
	{
		name: "oanda", fetch: "a month of EUR_USD daily candles",
		open: func(m *Market) (closer, error) {
			return oanda.New(oanda.Config{BaseURL: baseURL(m, "oanda"), Token: sandbox.Key, AccountID: sandbox.OandaAccountID},
				sandboxOptions(m)...)
		},
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error {
			return barsOf(ctx, c, "EUR_USD", "2018-06-01", "2018-06-30")
		}),
	},
	{
		name: "polygon", fetch: "a month of AAPL daily aggregates",
		open: func(m *Market) (closer, error) {
			return polygon.New(polygon.Config{BaseURL: baseURL(m, "polygon"), APIKey: sandbox.Key}, sandboxOptions(m)...)
		},
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error {
			return barsOf(ctx, c, "AAPL", "2017-12-01", "2017-12-31")
		}),
	},
	{
		name: "finnhub", fetch: "quote AAPL",
		open: func(m *Market) (closer, error) {
			return finnhub.New(finnhub.Config{BaseURL: baseURL(m, "finnhub"), APIKey: sandbox.Key}, sandboxOptions(m)...)
		},
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error { return quoteOf(ctx, c, "AAPL") }),
	},
	{
		name: "yahoo", fetch: "a month of SPY daily bars",
		open: func(m *Market) (closer, error) {
			return yahoo.New(yahoo.Config{BaseURL: baseURL(m, "yahoo")}, sandboxOptions(m)...)
		},
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error {
			return barsOf(ctx, c, "SPY", "2020-03-01", "2020-03-31")
		}),
	},
	{
		name: "reddit", fetch: "list the newest posts of r/stocks (token, then one page)",
		open: func(m *Market) (closer, error) { return newRedditClient(m) },
		do:   listPosts,
	},
	{
		name: "llm", fetch: "one chat completion",
		open: func(m *Market) (closer, error) {
			return llm.New(llm.Config{BaseURL: baseURL(m, "llm"), APIKey: sandbox.Key, MaxAttempts: 1}, sandboxOptions(m)...)
		},
		do: func(ctx context.Context, c closer) error { return completeOnce(ctx, c.(*llm.Client)) },
	},
}

// listPosts lists the 25 newest posts of r/stocks and checks there are
// some.
func listPosts(ctx context.Context, c closer) error {
	posts, err := c.(providers.PostSource).Posts(ctx, providers.PostQuery{Subreddit: "stocks", Limit: 25})
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
func newRedditClient(m *Market, extra ...providers.Option) (*reddit.Client, error) {
	return reddit.New(reddit.Config{BaseURL: baseURL(m, "reddit"), AuthURL: baseURL(m, "reddit-www"),
		ClientID: sandbox.Key, ClientSecret: "sandbox-secret"}, sandboxOptions(m, extra...)...)
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
	refused, err := polygon.New(polygon.Config{BaseURL: baseURL(m, "polygon"), APIKey: sandbox.RevokedKey}, sandboxOptions(m)...)
	if err != nil {
		return nil, fmt.Errorf("polygon: %w", err)
	}
	children = append(children, refused)
	yc, err := yahoo.New(yahoo.Config{BaseURL: baseURL(m, "yahoo")}, sandboxOptions(m)...)
	if err != nil {
		return nil, fmt.Errorf("yahoo: %w", err)
	}
	children = append(children, yc)
	cb, err := coinbase.New(coinbase.Config{BaseURL: baseURL(m, "coinbase"), ExchangeURL: baseURL(m, "coinbase-exchange")},
		sandboxOptions(m)...)
	if err != nil {
		return nil, fmt.Errorf("coinbase: %w", err)
	}
	children = append(children, cb)
	u, err := unified.New(unified.Routes{
		providers.Equity: {refused, yc},
		providers.Crypto: {cb, yc},
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
	_, n, err = redditScan(ctx, c, scanSubreddits, scanSymbol, scanLimit)
	if err != nil {
		return 0, fmt.Errorf("reddit scan of %s: %w", scanSymbol, err)
	}
	return n, nil
}

// midwayFaults are the faults of reddit/scan-fails-midway: every request
// under the reddit prefix (the listings, not the token endpoint) has an
// even chance of a truncated body, drawn from a generator seeded with seed.
func midwayFaults(seed uint64) sandbox.Faults {
	return sandbox.Faults{Seed: seed, Malformed: sandbox.Chance{P: 0.5, Prefix: "reddit"}}
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
	st := h.Stats()["reddit"]
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
	open  func(env *Env, opts []providers.Option) (closer, error)
	do    func(ctx context.Context, c closer) error
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
	return &Run{
		Scenario: harness.Scenario{
			Name: name,
			Run: func(ctx context.Context, _ int) error {
				if err := pace.Wait(ctx); err != nil {
					return fmt.Errorf("%s: wait for the API's rate limit: %w", name, err)
				}
				return fetchOnce(ctx, name, func() (closer, error) { return r.open(env, opts) }, r.do)
			},
		},
		Options: append(clientProbes(), realIterations...),
	}, nil
}

// realBaseURL is the base URL the user set for provider (the same variable
// as ffe's providers.<name>.base_url), or "" for the real host.
func realBaseURL(env *Env, provider string) string {
	return env.Getenv(config.EnvName("providers." + provider + ".base_url"))
}

// secretEnv is the variable ffe reads a provider's secret from, such as
// FFE_ALPHAVANTAGE_API_KEY.
func secretEnv(provider, secret string) string {
	for _, s := range config.SecretSpecs() {
		if s.Provider == provider && s.Name == secret {
			return s.Env
		}
	}
	panic("scenarios: no secret " + provider + "." + secret + " in engine/config (a bug in this package)")
}

var realProviders = []realProvider{
	{
		name: "alphavantage", env: []string{secretEnv(config.AlphaVantage, "api_key")}, fetch: "quote AAPL",
		limit: alphavantage.DefaultRateLimit,
		open: func(env *Env, opts []providers.Option) (closer, error) {
			return alphavantage.New(alphavantage.Config{BaseURL: realBaseURL(env, config.AlphaVantage),
				APIKey: env.Getenv(secretEnv(config.AlphaVantage, "api_key"))}, opts...)
		},
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error { return quoteOf(ctx, c, "AAPL") }),
	},
	{
		name: "polygon", env: []string{secretEnv(config.Polygon, "api_key")}, fetch: "quote AAPL",
		limit: polygon.DefaultRateLimit,
		open: func(env *Env, opts []providers.Option) (closer, error) {
			return polygon.New(polygon.Config{BaseURL: realBaseURL(env, config.Polygon),
				APIKey: env.Getenv(secretEnv(config.Polygon, "api_key"))}, opts...)
		},
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error { return quoteOf(ctx, c, "AAPL") }),
	},
	{
		name: "finnhub", env: []string{secretEnv(config.Finnhub, "api_key")}, fetch: "quote AAPL",
		limit: finnhub.DefaultRateLimit,
		open: func(env *Env, opts []providers.Option) (closer, error) {
			return finnhub.New(finnhub.Config{BaseURL: realBaseURL(env, config.Finnhub),
				APIKey: env.Getenv(secretEnv(config.Finnhub, "api_key"))}, opts...)
		},
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error { return quoteOf(ctx, c, "AAPL") }),
	},
	{
		// The quote is public; the key makes the run the user's choice.
		name: "coinbase", env: []string{secretEnv(config.Coinbase, "key_name"), secretEnv(config.Coinbase, "private_key")},
		fetch: "quote BTC-USD", limit: coinbase.ExchangeRateLimit,
		open: func(env *Env, opts []providers.Option) (closer, error) {
			return coinbase.New(coinbase.Config{BaseURL: realBaseURL(env, config.Coinbase),
				ExchangeURL: env.Getenv(config.EnvName("providers.coinbase.exchange_url")),
				KeyName:     env.Getenv(secretEnv(config.Coinbase, "key_name")),
				PrivateKey:  env.Getenv(secretEnv(config.Coinbase, "private_key"))}, opts...)
		},
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error { return quoteOf(ctx, c, "BTC-USD") }),
	},
	{
		name: "oanda", env: []string{secretEnv(config.OANDA, "token"), config.EnvName("providers.oanda.account_id")},
		fetch: "quote EUR_USD", limit: oanda.RateLimit,
		open: func(env *Env, opts []providers.Option) (closer, error) {
			live := env.Getenv(config.EnvName("providers.oanda.live"))
			return oanda.New(oanda.Config{BaseURL: realBaseURL(env, config.OANDA), Live: live == "true" || live == "1",
				Token:     env.Getenv(secretEnv(config.OANDA, "token")),
				AccountID: env.Getenv(config.EnvName("providers.oanda.account_id"))}, opts...)
		},
		do: mdFetch(func(ctx context.Context, c providers.MarketData) error { return quoteOf(ctx, c, "EUR_USD") }),
	},
	{
		name: "reddit", env: []string{secretEnv(config.Reddit, "client_id"), secretEnv(config.Reddit, "client_secret")},
		fetch: "list the 25 newest posts of r/stocks", limit: reddit.DefaultRate,
		open: func(env *Env, opts []providers.Option) (closer, error) {
			return reddit.New(reddit.Config{BaseURL: realBaseURL(env, config.Reddit),
				AuthURL:      env.Getenv(config.EnvName("providers.reddit.auth_url")),
				ClientID:     env.Getenv(secretEnv(config.Reddit, "client_id")),
				ClientSecret: env.Getenv(secretEnv(config.Reddit, "client_secret")),
				UserAgent:    env.Getenv(config.EnvName("providers.reddit.user_agent"))}, opts...)
		},
		do: listPosts,
	},
	{
		name: "llm", env: []string{secretEnv(config.LLM, "api_key")}, fetch: "one short chat completion (billed)",
		limit: llm.DefaultRate,
		open: func(env *Env, opts []providers.Option) (closer, error) {
			return llm.New(llm.Config{BaseURL: realBaseURL(env, config.LLM), APIKey: env.Getenv(secretEnv(config.LLM, "api_key")),
				Model: env.Getenv(config.EnvName("providers.llm.model")), MaxTokens: 32, MaxAttempts: 1}, opts...)
		},
		do: func(ctx context.Context, c closer) error { return completeOnce(ctx, c.(*llm.Client)) },
	},
}
