// Package monitor watches quotes of a watchlist and records alerts when a
// price moves past a threshold.
//
// A Monitor polls its QuoteSource for every symbol once per interval, from
// one goroutine that Start launches and Stop ends; polls never overlap, not
// even with a Poll called directly. The reference price of a symbol is its
// previous close when the source reports one, else the first price seen;
// after an alert the reference moves to the alerting price, so a move is
// reported once.
//
// # What it owns, what it may import
//
// The package owns the polling loop and its statistics. It stores nothing
// itself: alerts go to an AlertSink, a small interface defined here; the
// engine's store implements it over its table monitor_alerts
// (store.AlertTable, created by the store's numbered migrations). The
// package imports the standard library and providers (for quotes) only;
// it imports neither database/sql nor the store.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/leakinject"
)

// QuoteSource is where quotes come from; providers.MarketData satisfies it.
type QuoteSource interface {
	Quote(ctx context.Context, symbol string) (providers.Quote, error)
}

// Alert is a move of a symbol's price past the threshold.
type Alert struct {
	Symbol    string    `json:"symbol"`
	Price     float64   `json:"price"`
	Reference float64   `json:"reference"`
	Change    float64   `json:"change"` // fraction: 0.05 is +5%
	Direction string    `json:"direction"`
	Provider  string    `json:"provider,omitempty"`
	Time      time.Time `json:"time"`
}

// Alert directions.
const (
	Up   = "up"
	Down = "down"
)

// AlertSink records alerts. It must be safe for concurrent use.
type AlertSink interface {
	RecordAlert(ctx context.Context, a Alert) error
}

// AlertSinkFunc adapts a function to AlertSink.
type AlertSinkFunc func(ctx context.Context, a Alert) error

// RecordAlert calls f.
func (f AlertSinkFunc) RecordAlert(ctx context.Context, a Alert) error { return f(ctx, a) }

// Defaults of Config.
const (
	DefaultInterval  = time.Minute
	DefaultThreshold = 0.02
)

// Config configures a Monitor.
type Config struct {
	// Symbols is the watchlist.
	Symbols []string
	// Interval is the time between polls [DefaultInterval].
	Interval time.Duration
	// Threshold is the move, as a fraction of the reference price, that
	// raises an alert [DefaultThreshold].
	Threshold float64
	// Timeout bounds one poll of all symbols [Interval].
	Timeout time.Duration
}

// Option configures a Monitor.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	logger *slog.Logger
	now    func() time.Time
}

// WithLogger sets where poll errors are logged.
func WithLogger(l *slog.Logger) Option { return optionFunc(func(o *options) { o.logger = l }) }

// WithClock sets the time source of alerts.
func WithClock(now func() time.Time) Option { return optionFunc(func(o *options) { o.now = now }) }

// ErrStarted is returned by Start on a running monitor.
var ErrStarted = errors.New("monitor: already started")

// Stats counts what a Monitor did.
type Stats struct {
	Polls    uint64    `json:"polls"`
	Errors   uint64    `json:"errors"`
	Alerts   uint64    `json:"alerts"`
	LastPoll time.Time `json:"last_poll"`
}

// Monitor polls quotes and records alerts. Call Stop after Start.
type Monitor struct {
	src  QuoteSource
	sink AlertSink
	cfg  Config
	opts options

	pollMu sync.Mutex         // held for the whole of a poll
	refs   map[string]float64 // guarded by pollMu

	mu      sync.Mutex // guards the fields below
	stats   Stats
	cancel  context.CancelFunc
	done    chan struct{}
	stopped bool
}

// New returns a Monitor of cfg.Symbols over src, recording into sink.
func New(src QuoteSource, sink AlertSink, cfg Config, opts ...Option) (*Monitor, error) {
	if src == nil || sink == nil {
		return nil, errors.New("monitor: nil quote source or alert sink")
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Threshold == 0 {
		cfg.Threshold = DefaultThreshold
	}
	if cfg.Interval < 0 || cfg.Threshold < 0 || cfg.Timeout < 0 {
		return nil, fmt.Errorf("monitor: interval %s, threshold %g and timeout %s must not be negative",
			cfg.Interval, cfg.Threshold, cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = cfg.Interval
	}
	cfg.Symbols = append([]string(nil), cfg.Symbols...)
	o := options{logger: slog.Default(), now: time.Now}
	for _, opt := range opts {
		opt.apply(&o)
	}
	return &Monitor{src: src, sink: sink, cfg: cfg, opts: o, refs: map[string]float64{}}, nil
}

// Start polls at once and then every interval, until Stop or until ctx
// ends. It returns ErrStarted if the monitor is running, and an error after
// Stop.
func (m *Monitor) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return errors.New("monitor: start after stop")
	}
	if m.cancel != nil {
		return ErrStarted
	}
	ctx, m.cancel = context.WithCancel(ctx)
	m.done = make(chan struct{})
	go m.loop(ctx, m.done)
	return nil
}

// Stop ends polling and waits for a poll in progress to return. It is
// idempotent and safe to call without Start.
func (m *Monitor) Stop() {
	m.mu.Lock()
	m.stopped = true
	cancel, done := m.cancel, m.done
	m.mu.Unlock()
	if cancel != nil && leakinject.On(leakinject.MonitorGoroutineNotStopped) {
		// The leak: Stop only marks the monitor stopped; the ticker
		// goroutine polls on until Start's context ends.
		return
	}
	if cancel != nil {
		cancel()
		<-done
	}
}

func (m *Monitor) loop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := m.Poll(ctx); err != nil && ctx.Err() == nil {
			m.opts.logger.Warn("monitor: poll", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll asks for a quote of every symbol, records the alerts and returns
// them. Errors of single symbols are joined; the other symbols are still
// polled. Concurrent calls run one after the other.
func (m *Monitor) Poll(ctx context.Context) ([]Alert, error) {
	m.pollMu.Lock()
	defer m.pollMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	var alerts []Alert
	var errs []error
	for _, sym := range m.cfg.Symbols {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		a, ok, err := m.check(ctx, sym)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			alerts = append(alerts, a)
		}
	}
	m.mu.Lock()
	m.stats.Polls++
	m.stats.Errors += uint64(len(errs))
	m.stats.Alerts += uint64(len(alerts))
	m.stats.LastPoll = m.opts.now()
	m.mu.Unlock()
	return alerts, errors.Join(errs...)
}

func (m *Monitor) check(ctx context.Context, sym string) (Alert, bool, error) {
	q, err := m.src.Quote(ctx, sym)
	if err != nil {
		return Alert{}, false, fmt.Errorf("monitor: quote %s: %w", sym, err)
	}
	if q.Price <= 0 || math.IsNaN(q.Price) || math.IsInf(q.Price, 0) {
		return Alert{}, false, fmt.Errorf("monitor: quote %s: price %g is not positive", sym, q.Price)
	}
	ref, seen := m.refs[sym]
	if !seen {
		if q.PrevClose <= 0 {
			m.refs[sym] = q.Price
			return Alert{}, false, nil
		}
		ref = q.PrevClose
	}
	change := q.Price/ref - 1
	if math.Abs(change) < m.cfg.Threshold {
		m.refs[sym] = ref
		return Alert{}, false, nil
	}
	a := Alert{Symbol: sym, Price: q.Price, Reference: ref, Change: change, Direction: Up,
		Provider: q.Provider, Time: m.opts.now().UTC()}
	if change < 0 {
		a.Direction = Down
	}
	if err := m.sink.RecordAlert(ctx, a); err != nil {
		m.refs[sym] = ref // retry the alert next poll
		return Alert{}, false, fmt.Errorf("monitor: record alert %s: %w", sym, err)
	}
	m.refs[sym] = q.Price
	return a, true, nil
}

// Stats returns the counters of the monitor.
func (m *Monitor) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}
