package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/llm"
	"github.com/leakgate/leakgate/providers/registry"
	"github.com/leakgate/leakgate/providers/sandbox"
	"github.com/leakgate/leakgate/providers/unified"
)

// sandboxHost is the base URL of the in-process sandbox: its transport
// serves any host, and the path prefix picks the API.
const sandboxHost = "http://sandbox"

// dataSource builds provider clients from the configuration: their base
// URLs, credentials, transport and options. Clients it builds are closed by
// close (again, harmlessly, after their owners closed them). Building and
// closing are safe for concurrent use: the LLM client is built on first
// use, after New; once close has begun nothing more is built.
type dataSource struct {
	cfg *config.Config
	log *slog.Logger
	// rt is the transport every client uses; nil means each client's own.
	rt http.RoundTripper
	// base, when set, points every API at base/<prefix>.
	base string
	// sandboxCreds makes missing credentials default to the sandbox's.
	sandboxCreds bool
	// Sandbox is the in-process sandbox in sandbox mode, else nil.
	sandbox *sandbox.Handler
	opts    []providers.Option

	mu     sync.Mutex // guards built, order and closed
	built  map[string]builtClient
	order  []string
	closed bool
}

type builtClient struct {
	md     providers.MarketData
	broker providers.Broker
	posts  providers.PostSource
	llm    *llm.Client
	close  func() error
}

func newDataSource(cfg *config.Config, o options, log *slog.Logger) (*dataSource, error) {
	ds := &dataSource{cfg: cfg, log: log, rt: o.transport, built: map[string]builtClient{}}
	switch {
	case cfg.Data.SandboxURL != "":
		ds.base = strings.TrimRight(cfg.Data.SandboxURL, "/")
		ds.sandboxCreds = true
	case cfg.Data.Source == config.SourceSandbox:
		ds.base = sandboxHost
		ds.sandboxCreds = true
		if ds.rt == nil {
			var opts []sandbox.Option
			if d := cfg.Data.SandboxDate; d != "" {
				day, err := time.Parse(time.DateOnly, d)
				if err != nil {
					return nil, fmt.Errorf("engine: data.sandbox_date: %w", err)
				}
				opts = append(opts, sandbox.WithReplay(day, sandbox.StepManual))
			}
			ds.sandbox = sandbox.New(opts...)
			ds.rt = ds.sandbox.Transport()
		}
	}
	ds.opts = append([]providers.Option{providers.WithLogger(log), providers.WithSecrets(cfg.SecretValues()...)},
		o.providerOpts...)
	return ds, nil
}

// close closes every client built, in reverse order; later calls to
// client fail with ErrClosed.
func (ds *dataSource) close() error {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	ds.closed = true
	var errs []error
	for i := len(ds.order) - 1; i >= 0; i-- {
		if err := ds.built[ds.order[i]].close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ds.order[i], err))
		}
	}
	return errors.Join(errs...)
}

// url returns the base URL of an API whose sandbox route is prefix: the
// override, else the sandbox's, else "" (the provider's default).
func (ds *dataSource) url(override, prefix string) string {
	if override != "" {
		return override
	}
	if ds.base != "" {
		return ds.base + "/" + prefix
	}
	return ""
}

// secret returns a provider's secret, or in sandbox setups the sandbox's
// stand-in for it.
func (ds *dataSource) secret(provider, name string) string {
	if v := ds.cfg.Secret(provider, name); v != "" {
		return v
	}
	if !ds.sandboxCreds {
		return ""
	}
	p, _ := registry.Lookup(provider)
	s, _ := p.Secret(name)
	return s.Sandbox
}

// enabled reports whether provider p is to be built: an explicit setting
// wins; otherwise it is on in sandbox setups and, live, when its required
// secrets are present.
func (ds *dataSource) enabled(p registry.Provider) (bool, error) {
	name := p.Name
	on, set := ds.cfg.Providers[name].IsEnabled()
	if set && !on {
		return false, nil
	}
	var missing []string
	for _, s := range p.Secrets {
		if s.Required && ds.secret(name, s.Name) == "" {
			missing = append(missing, s.Env)
		}
	}
	if len(missing) == 0 {
		return true, nil
	}
	if set {
		return false, fmt.Errorf("engine: %s is enabled but has no credentials: set %s (or the matching *_FILE variable or providers.%s.*_file)",
			name, strings.Join(missing, " and "), name)
	}
	ds.log.Debug("provider off: no credentials", "provider", name, "set", strings.Join(missing, ", "))
	return false, nil
}

// clientOpts returns the options of provider name's clients.
func (ds *dataSource) clientOpts(name string) []providers.Option {
	p := ds.cfg.Providers[name]
	opts := append([]providers.Option(nil), ds.opts...)
	opts = append(opts, ds.sandboxOpts()...)
	if p.RateLimit > 0 {
		opts = append(opts, providers.WithRateLimit(rate.Limit(p.RateLimit), max(p.Burst, 1)))
	}
	if p.Timeout > 0 {
		opts = append(opts, providers.WithTimeout(p.Timeout))
	}
	if p.UserAgent != "" {
		opts = append(opts, providers.WithUserAgent(p.UserAgent))
	}
	return opts
}

// sandboxOpts are the defaults against a sandbox, before the configured
// settings: no rate limit (the upstream's quotas do not apply), and brief
// retry back-off so fault tests stay fast.
func (ds *dataSource) sandboxOpts() []providers.Option {
	if ds.base == "" {
		return nil
	}
	return []providers.Option{providers.WithRateLimit(rate.Inf, 1),
		providers.WithRetry(providers.DefaultMaxAttempts, 10*time.Millisecond, 200*time.Millisecond),
		providers.WithMaxRetryAfter(2 * time.Second)}
}

// client builds provider name once and returns it. It returns a zero
// builtClient (and no error) when the provider is off or not wired, and
// ErrClosed once close has begun.
func (ds *dataSource) client(name string) (builtClient, error) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.closed {
		return builtClient{}, fmt.Errorf("engine: %s: %w", name, ErrClosed)
	}
	if c, ok := ds.built[name]; ok {
		return c, nil
	}
	c, err := ds.build(name)
	if err != nil || c.close == nil {
		return c, err
	}
	ds.built[name] = c
	ds.order = append(ds.order, name)
	return c, nil
}

// build builds a new client of provider name, which the caller must
// close. It returns a zero builtClient (and no error) when the provider is
// off or not wired.
func (ds *dataSource) build(name string) (builtClient, error) {
	p, ok := registry.Lookup(name)
	if !ok {
		ds.log.Debug("provider not available in this build", "provider", name)
		return builtClient{}, nil
	}
	if on, err := ds.enabled(p); !on || err != nil {
		return builtClient{}, err
	}
	c, err := p.New(ds.settings(p))
	if err != nil {
		return builtClient{}, fmt.Errorf("engine: %w", err)
	}
	return builtClient{md: c.MarketData, broker: c.Broker, posts: c.Posts, llm: c.LLM, close: c.Close}, nil
}

// settings gathers what provider p's constructor takes from the
// configuration: its URLs (configured, else the sandbox's), secrets,
// options and transport.
func (ds *dataSource) settings(p registry.Provider) registry.Settings {
	cp := ds.cfg.Providers[p.Name]
	s := registry.Settings{
		URLs: map[string]string{}, Secrets: map[string]string{},
		Options: ds.clientOpts(p.Name), Transport: ds.rt, Sandbox: ds.sandboxCreds,
		AccountID: cp.AccountID, Live: cp.Live, UserAgent: cp.UserAgent, Model: cp.Model,
	}
	for _, e := range p.Endpoints {
		s.URLs[e.Setting] = ds.url(cp.URL(e.Setting), e.Prefix)
	}
	for _, sec := range p.Secrets {
		s.Secrets[sec.Name] = ds.secret(p.Name, sec.Name)
	}
	return s
}

// marketData builds the unified provider over the routed providers.
func (ds *dataSource) marketData(context.Context) (providers.MarketData, error) {
	routes := unified.Routes{}
	for _, class := range []providers.AssetClass{providers.Equity, providers.Crypto, providers.Forex} {
		for _, name := range ds.cfg.Routing[class] {
			c, err := ds.client(name)
			if err != nil {
				return nil, err
			}
			if c.md == nil || !providers.Serves(c.md, class) {
				continue
			}
			routes[class] = append(routes[class], c.md)
		}
	}
	if len(routes) == 0 {
		return nil, fmt.Errorf("engine: no market data provider is enabled for %s data: set the credentials of one "+
			"(for example %s), or use data.source: sandbox", ds.cfg.Data.Source, exampleSecretEnv())
	}
	md, err := unified.New(routes, unified.WithTTL(ds.cfg.Data.BarsTTL, ds.cfg.Data.QuoteTTL), unified.WithLogger(ds.log))
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return md, nil
}

// broker builds the trading platform name (coinbase or oanda).
func (ds *dataSource) broker(name string) (providers.Broker, error) {
	c, err := ds.client(name)
	if err != nil {
		return nil, err
	}
	if c.broker == nil {
		return nil, fmt.Errorf("engine: platform %s is not available: enable providers.%s and set its credentials (%s)",
			name, name, strings.Join(secretEnvs(name), ", "))
	}
	if name == config.Coinbase && ds.secret(name, registry.PrivateKey) == "" {
		return nil, fmt.Errorf("engine: platform coinbase needs an API key: set %s", strings.Join(secretEnvs(name), " and "))
	}
	if name == config.OANDA && ds.cfg.Providers[name].AccountID == "" && !ds.sandboxCreds {
		return nil, fmt.Errorf("engine: platform oanda needs an account: set providers.oanda.account_id or %s",
			config.EnvName("providers.oanda.account_id"))
	}
	return nonClosing{c.broker}, nil
}

// postSource builds the Reddit client for sentiment, or returns nil when
// it is not available.
func (ds *dataSource) postSource() (providers.PostSource, error) {
	c, err := ds.client(config.Reddit)
	if err != nil {
		return nil, err
	}
	if c.posts == nil {
		ds.log.Warn("sentiment is enabled but no Reddit client is available; analyze runs without it")
		return nil, nil
	}
	return c.posts, nil
}

// secretEnvs returns the variables of every secret provider takes.
func secretEnvs(provider string) []string {
	p, _ := registry.Lookup(provider)
	var out []string
	for _, s := range p.Secrets {
		out = append(out, s.Env)
	}
	return out
}

// exampleSecretEnv names the variable of the first market-data provider's
// first secret (FFE_ALPHAVANTAGE_API_KEY), for hints.
func exampleSecretEnv() string {
	for _, p := range registry.All() {
		if p.MarketData() && len(p.Secrets) > 0 {
			return p.Secrets[0].Env
		}
	}
	return ""
}

// nonClosing is a broker whose Close is left to the data source, because
// the same client also serves market data.
type nonClosing struct{ providers.Broker }

func (nonClosing) Close() error { return nil }
