// Package engine is the finance feedback engine: one Engine owns the market
// data providers (behind the unified provider), the SQLite store, the
// trading platform client and, for `ffe serve`, the service that runs the
// job queue, crew, exporter, bundle store, stock monitor and retention loop
// (NewService, engine/service), and releases all of them in Close.
//
// The commands of ffe are methods of Engine (Analyze, History, Balance,
// Execute, RunAgent, LearningReport, PruneMemory, Backtest, …); the CLI in
// engine/cli opens an Engine per command and closes it on every path.
//
// # Lifecycle
//
// New builds everything or, on error, closes what it built and returns the
// error: there is no half-open Engine. Close releases in reverse order of
// creation: the service of `ffe serve` first (its goroutines stop and its
// parts close), then the broker and the providers, then the store; it is
// idempotent and joins the errors of every step.
//
// # What it owns and may import
//
// The engine imports engine/config, engine/store, engine/service, the
// analysis packages (backtest, strategy, indicator, paper, crew, …) and
// providers; engine/cli builds on it, and none of the packages it imports
// imports it.
//
// # Thresholds
//
// One rule decides whether a signal trades, everywhere in the engine: a
// signal or ensemble score trades when its magnitude reaches the threshold,
// |score| ≥ threshold. analyze decides so (strategy.Decide: BUY at
// score ≥ 0.2, SELL at score ≤ -0.2), run-agent executes decisions whose
// confidence is at least its threshold, and backtest, portfolio-backtest,
// walk-forward and monte-carlo trade so too: a score that makes analyze act
// also trades in a backtest. (engine/backtest itself trades only above its
// Config.Threshold; the engine passes it the largest float64 below the
// threshold, which is the same rule exactly.)
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/engine/paper"
	"github.com/leakgate/leakgate/engine/store"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/leakinject"
	"github.com/leakgate/leakgate/providers/llm"
	"github.com/leakgate/leakgate/providers/sandbox"
)

// Option configures New.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	logger       *slog.Logger
	now          func() time.Time
	transport    http.RoundTripper
	storePath    string
	md           providers.MarketData
	broker       providers.Broker
	posts        providers.PostSource
	providerOpts []providers.Option
}

// WithLogger sets the engine's logger; providers log through it too. The
// default writes warnings and errors (log.level) to standard error.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) { o.logger = l })
}

// WithClock sets the engine's time source (decision times, daily loss
// windows, memory pruning).
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) { o.now = now })
}

// WithTransport makes every provider client send its requests through rt
// (httpmock's transport in tests, a recording one). The engine does not
// own rt.
func WithTransport(rt http.RoundTripper) Option {
	return optionFunc(func(o *options) { o.transport = rt })
}

// WithStorePath puts the database at path instead of ffe.db in the data
// directory.
func WithStorePath(path string) Option {
	return optionFunc(func(o *options) { o.storePath = path })
}

// WithMarketData replaces the providers built from the configuration with
// md. The engine takes ownership: Close closes md.
func WithMarketData(md providers.MarketData) Option {
	return optionFunc(func(o *options) { o.md = md })
}

// WithBroker replaces the platform built from the configuration with b.
// The engine takes ownership: Close closes b.
func WithBroker(b providers.Broker) Option {
	return optionFunc(func(o *options) { o.broker = b })
}

// WithPostSource replaces the Reddit client built from the configuration
// with ps, for sentiment. The engine takes ownership: Close closes ps.
func WithPostSource(ps providers.PostSource) Option {
	return optionFunc(func(o *options) { o.posts = ps })
}

// WithProviderOptions adds options to every provider client the engine
// builds (an observer for metrics, tighter timeouts).
func WithProviderOptions(opts ...providers.Option) Option {
	return optionFunc(func(o *options) { o.providerOpts = append(o.providerOpts, opts...) })
}

// closer is a resource the engine releases in Close.
type closer struct {
	name  string
	close func() error
}

// Engine is the finance feedback engine. Its methods are safe for
// concurrent use; Close must be called when done.
type Engine struct {
	cfg    *config.Config
	log    *slog.Logger
	now    func() time.Time
	st     *store.Store
	md     providers.MarketData
	broker providers.Broker
	posts  providers.PostSource
	src    *dataSource

	// closers are released in reverse order of registration; mu orders
	// registrations after New (NewService) against Close.
	mu      sync.Mutex
	closed  bool
	closers []closer

	execMu sync.Mutex // one execution at a time: risk checks see every fill

	closeOnce sync.Once
	closeErr  error
}

// New opens the store, builds the providers and the trading platform from
// cfg and returns the Engine. On error it closes whatever it had opened.
// cfg is not modified; the Engine keeps a copy.
func New(ctx context.Context, cfg *config.Config, opts ...Option) (_ *Engine, err error) {
	if cfg == nil {
		return nil, errors.New("engine: nil config; use config.Load or config.Default")
	}
	cfg = cfg.Clone()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{now: time.Now}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: LogLevel(cfg.Log.Level)}))
	}
	e := &Engine{cfg: cfg, log: o.logger, now: o.now}
	defer func() {
		if err != nil {
			err = errors.Join(err, e.Close(context.Background()))
		}
	}()

	path := o.storePath
	if path == "" {
		if cfg.DataDir == "" {
			return nil, errors.New("engine: no data directory: set data_dir, FFE_DATA_DIR or --data-dir")
		}
		path = filepath.Join(cfg.DataDir, store.FileName)
	}
	st, err := store.Open(ctx, path, store.WithClock(o.now))
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	e.st = st
	e.register("store", st.Close)

	e.src, err = newDataSource(cfg, o, e.log)
	if err != nil {
		return nil, err
	}
	e.register("data source", e.src.close)

	if o.md != nil {
		e.md = o.md
		e.register("market data "+o.md.Name(), o.md.Close)
	} else {
		md, err := e.src.marketData(ctx)
		if err != nil {
			return nil, err
		}
		e.md = md
		e.register("market data", md.Close)
	}

	if o.posts != nil {
		e.posts = o.posts
		e.register("posts "+o.posts.Name(), o.posts.Close)
	} else if cfg.Sentiment.Enabled {
		ps, err := e.src.postSource()
		if err != nil {
			return nil, err
		}
		if ps != nil {
			e.posts = ps
			e.register("posts "+ps.Name(), ps.Close)
		}
	}

	if o.broker != nil {
		e.broker = o.broker
	} else if cfg.Platform.Name == config.PlatformPaper {
		e.broker, err = paper.New(ctx, st, e.md, paper.Options{
			Currency: cfg.Platform.Currency, StartingCash: cfg.Platform.StartingCash,
			FeeBps: cfg.Fees.FeeBps, SlippageBps: cfg.Fees.SlippageBps, Now: o.now,
		})
		if err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
	} else {
		e.broker, err = e.src.broker(cfg.Platform.Name)
		if err != nil {
			return nil, err
		}
	}
	e.register("platform "+e.broker.Name(), e.broker.Close)
	e.log.Debug("engine ready", "data", cfg.Data.Source, "platform", e.broker.Name(), "store", path)
	return e, nil
}

// register adds a resource Close releases. It fails with ErrClosed, and
// leaves the resource to the caller, once Close has begun.
func (e *Engine) register(name string, f func() error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.closers = append(e.closers, closer{name: name, close: f})
	return nil
}

// LogLevel parses a log.level setting; unknown values mean warn.
func LogLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "info":
		return slog.LevelInfo
	case "error":
		return slog.LevelError
	}
	return slog.LevelWarn
}

// DiscardLogger returns a logger that drops everything.
func DiscardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Close releases everything in reverse order of creation: the service of
// `ffe serve` when one was built (NewService; it interrupts the jobs still
// running, which stay queued), then the platform, the providers and the
// store. It is idempotent and safe to call concurrently; later calls
// return the first call's result, which joins every step's error. ctx is
// reserved for steps that may wait; none does yet.
func (e *Engine) Close(_ context.Context) error {
	e.closeOnce.Do(func() {
		var errs []error
		e.mu.Lock()
		e.closed = true
		closers := e.closers
		e.mu.Unlock()
		for i := len(closers) - 1; i >= 0; i-- {
			c := closers[i]
			if leakinject.On(leakinject.EngineCloseSkipsProviders) && c.name != "store" && c.name != serviceCloser {
				continue // the leak (THR-206): Close releases the store and forgets every provider client
			}
			if err := c.close(); err != nil {
				errs = append(errs, fmt.Errorf("engine: close %s: %w", c.name, err))
			}
		}
		e.closeErr = errors.Join(errs...)
	})
	return e.closeErr
}

// Config returns a copy of the engine's configuration.
func (e *Engine) Config() *config.Config { return e.cfg.Clone() }

// Store returns the engine's store. It is closed by Close.
func (e *Engine) Store() *store.Store { return e.st }

// MarketData returns the engine's market data source (the unified
// provider). It is closed by Close.
func (e *Engine) MarketData() providers.MarketData { return e.md }

// Broker returns the trading platform. It is closed by Close.
func (e *Engine) Broker() providers.Broker { return e.broker }

// PostSource returns the source of Reddit posts for sentiment, or nil when
// sentiment is off or no Reddit client is available. It is closed by
// Close.
func (e *Engine) PostSource() providers.PostSource { return e.posts }

// LLM returns the engine's client of the OpenAI-compatible chat endpoint
// configured under providers.llm (base_url, model; the key from
// FFE_LLM_API_KEY, FFE_LLM_API_KEY_FILE or providers.llm.api_key_file). It
// is built on the first call, so commands that never ask (every one but
// `ffe serve` with server.crew.writer: llm) open no LLM client; later
// calls return the same client. In sandbox mode it talks to the sandbox's
// /llm endpoint with the sandbox's key unless configured otherwise. Close
// closes it; after Close, LLM fails with ErrClosed.
//
// It fails when no LLM is configured: in live mode without a key, or when
// providers.llm.enabled is false.
func (e *Engine) LLM() (*llm.Client, error) {
	c, err := e.src.client(config.LLM)
	if err != nil {
		return nil, err
	}
	if c.llm == nil {
		return nil, fmt.Errorf("engine: no LLM is configured: set %s (any non-empty value for a server that ignores keys) "+
			"and providers.llm.base_url for a server other than OpenAI, or use the local crew writer", strings.Join(secretEnvs(config.LLM), " and "))
	}
	return c.llm, nil
}

// Sandbox returns the in-process sandbox the engine's providers talk to in
// sandbox mode (for its clock, faults and request statistics), or nil when
// the engine uses a network or an injected transport.
func (e *Engine) Sandbox() *sandbox.Handler { return e.src.sandbox }

// Logger returns the engine's logger.
func (e *Engine) Logger() *slog.Logger { return e.log }

// Now returns the engine clock's time.
func (e *Engine) Now() time.Time { return e.now() }

// platform is the name positions are recorded under.
func (e *Engine) platform() string { return e.broker.Name() }
