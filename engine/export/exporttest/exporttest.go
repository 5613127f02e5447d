// Package exporttest builds the providers an export needs over the
// recorded sandbox, for tests, benchmarks and the crash-test server: a
// unified MarketData routing every asset class to Polygon with Yahoo as
// fallback, and a Reddit PostSource.
package exporttest

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/registry"
	"github.com/leakgate/leakgate/providers/unified"
)

// Config says where the sandbox is and how to reach it.
type Config struct {
	// BaseURL maps a sandbox prefix ("polygon") to a base URL: use
	// (*sandbox.Server).BaseURL for a loopback server, or InProcess.
	BaseURL func(prefix string) string
	// Transport, if set, carries every request (sandbox.Handler.Transport
	// or an httpmock transport); otherwise each client owns a transport.
	Transport http.RoundTripper
	// Observer sees every provider request attempt.
	Observer func(providers.RequestInfo)
	// CacheTTL caches bars and quotes in the unified provider; zero turns
	// the cache off, so every export reaches the sandbox.
	CacheTTL time.Duration
	// Logger receives provider logs; nil discards them.
	Logger *slog.Logger
}

// InProcess is a BaseURL for a sandbox reached through a Transport.
func InProcess(prefix string) string { return "http://sandbox.invalid/" + prefix }

// Env holds the providers; Close releases them.
type Env struct {
	MarketData providers.MarketData
	Posts      providers.PostSource
}

// New builds the providers of cfg. The caller must Close the Env.
func New(cfg Config) (*Env, error) {
	if cfg.BaseURL == nil {
		return nil, errors.New("exporttest: Config.BaseURL is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	opts := []providers.Option{
		providers.WithRateLimit(rate.Inf, 1),
		providers.WithRetry(2, 10*time.Millisecond, 50*time.Millisecond),
		providers.WithTimeout(10 * time.Second),
		providers.WithLogger(cfg.Logger),
	}
	if cfg.Transport != nil {
		opts = append(opts, providers.WithTransport(cfg.Transport))
	}
	if cfg.Observer != nil {
		opts = append(opts, providers.WithObserver(cfg.Observer))
	}
	pg, err := build(registry.Polygon, cfg, opts)
	if err != nil {
		return nil, err
	}
	yh, err := build(registry.Yahoo, cfg, opts)
	if err != nil {
		return nil, errors.Join(err, pg.Close())
	}
	route := []providers.MarketData{pg.MarketData, yh.MarketData}
	md, err := unified.New(unified.Routes{providers.Equity: route, providers.Crypto: route, providers.Forex: route},
		unified.WithTTL(cfg.CacheTTL, cfg.CacheTTL), unified.WithLogger(cfg.Logger))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("exporttest: %w", err), pg.Close(), yh.Close())
	}
	rd, err := build(registry.Reddit, cfg, opts)
	if err != nil {
		return nil, errors.Join(err, md.Close())
	}
	return &Env{MarketData: md, Posts: rd.Posts}, nil
}

// build builds provider name's client with the registry's constructor:
// each of its APIs at cfg.BaseURL of the sandbox prefix the registry gives
// it, each secret the sandbox's stand-in.
func build(name string, cfg Config, opts []providers.Option) (registry.Clients, error) {
	p, ok := registry.Lookup(name)
	if !ok {
		return registry.Clients{}, fmt.Errorf("exporttest: no provider %s in the registry", name)
	}
	s := registry.Settings{URLs: map[string]string{}, Secrets: map[string]string{}, Options: opts, Sandbox: true}
	for _, e := range p.Endpoints {
		s.URLs[e.Setting] = cfg.BaseURL(e.Prefix)
	}
	for _, sec := range p.Secrets {
		s.Secrets[sec.Name] = sec.Sandbox
	}
	c, err := p.New(s)
	if err != nil {
		return registry.Clients{}, fmt.Errorf("exporttest: %s: %w", name, err)
	}
	return c, nil
}

// Close closes the providers.
func (e *Env) Close() error { return errors.Join(e.MarketData.Close(), e.Posts.Close()) }
