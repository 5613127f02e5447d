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
	"github.com/leakgate/leakgate/providers/polygon"
	"github.com/leakgate/leakgate/providers/reddit"
	"github.com/leakgate/leakgate/providers/sandbox"
	"github.com/leakgate/leakgate/providers/unified"
	"github.com/leakgate/leakgate/providers/yahoo"
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
	pg, err := polygon.New(polygon.Config{BaseURL: cfg.BaseURL("polygon"), APIKey: sandbox.Key}, opts...)
	if err != nil {
		return nil, fmt.Errorf("exporttest: %w", err)
	}
	yh, err := yahoo.New(yahoo.Config{BaseURL: cfg.BaseURL("yahoo")}, opts...)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("exporttest: %w", err), pg.Close())
	}
	route := []providers.MarketData{pg, yh}
	md, err := unified.New(unified.Routes{providers.Equity: route, providers.Crypto: route, providers.Forex: route},
		unified.WithTTL(cfg.CacheTTL, cfg.CacheTTL), unified.WithLogger(cfg.Logger))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("exporttest: %w", err), pg.Close(), yh.Close())
	}
	rd, err := reddit.New(reddit.Config{BaseURL: cfg.BaseURL("reddit"), AuthURL: cfg.BaseURL("reddit-www"),
		ClientID: sandbox.Key, ClientSecret: sandbox.Key}, opts...)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("exporttest: %w", err), md.Close())
	}
	return &Env{MarketData: md, Posts: rd}, nil
}

// Close closes the providers.
func (e *Env) Close() error { return errors.Join(e.MarketData.Close(), e.Posts.Close()) }
