package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/leakgate/leakgate/engine/crew"
	"github.com/leakgate/leakgate/engine/export"
	"github.com/leakgate/leakgate/engine/exportbundle"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/engine/monitor"
	"github.com/leakgate/leakgate/engine/store"
	"github.com/leakgate/leakgate/providers"
)

// Config configures a Service. Zero fields take the defaults named.
type Config struct {
	// ExportDir holds the export bundles. Required.
	ExportDir string

	// Watchlist is what a trigger without symbols exports, and what the
	// stock monitor watches.
	Watchlist []string
	// DefaultRange, DefaultInterval, DefaultFormats and CrewByDefault fill
	// a trigger's missing fields [export.DefaultRange, 1d, csv and json,
	// false].
	DefaultRange    string
	DefaultInterval providers.Interval
	DefaultFormats  []string
	CrewByDefault   bool

	// Workers, QueueCapacity, JobTimeout and MaxAttempts configure the job
	// queue [jobs.DefaultWorkers, DefaultCapacity, DefaultTimeout,
	// DefaultMaxAttempts].
	Workers       int
	QueueCapacity int
	JobTimeout    time.Duration
	MaxAttempts   int
	// SymbolConcurrency bounds the symbols one job fetches at once
	// [export.DefaultConcurrency].
	SymbolConcurrency int

	// Subreddits and PostLimit configure the sentiment scan, which runs
	// when Deps.Posts is set and Subreddits is not empty
	// [export.DefaultPostLimit].
	Subreddits []string
	PostLimit  int

	// CrewMemory turns the crew's memory on, bounded by CrewMemoryEntries
	// and CrewMemoryAge [crew.DefaultMemoryEntries, DefaultMemoryAge].
	CrewMemory        bool
	CrewMemoryEntries int
	CrewMemoryAge     time.Duration

	// MonitorOff turns the stock monitor off; it is off too when the
	// watchlist is empty. MonitorInterval is its poll interval
	// [monitor.DefaultInterval] and MonitorThreshold the move that raises
	// an alert [monitor.DefaultThreshold].
	MonitorOff       bool
	MonitorInterval  time.Duration
	MonitorThreshold float64

	// Retention: at most KeepExports bundles [DefaultKeepExports], none
	// older than ExportMaxAge [DefaultExportMaxAge]; at most KeepJobs
	// finished jobs [DefaultKeepJobs], none older than JobMaxAge
	// [DefaultJobMaxAge]; checked every RetentionInterval
	// [DefaultRetentionInterval]. A negative bound is off.
	KeepExports       int
	ExportMaxAge      time.Duration
	KeepJobs          int
	JobMaxAge         time.Duration
	RetentionInterval time.Duration
}

// withDefaults returns c with its zero fields set to the defaults.
func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.DefaultRange == "" {
		c.DefaultRange = export.DefaultRange
	}
	if c.DefaultInterval == "" {
		c.DefaultInterval = providers.Day
	}
	def(&c.Workers, jobs.DefaultWorkers)
	def(&c.QueueCapacity, jobs.DefaultCapacity)
	def(&c.MaxAttempts, jobs.DefaultMaxAttempts)
	def(&c.SymbolConcurrency, export.DefaultConcurrency)
	def(&c.PostLimit, export.DefaultPostLimit)
	def(&c.CrewMemoryEntries, crew.DefaultMemoryEntries)
	def(&c.KeepExports, DefaultKeepExports)
	def(&c.KeepJobs, DefaultKeepJobs)
	defDur(&c.JobTimeout, jobs.DefaultTimeout)
	defDur(&c.CrewMemoryAge, crew.DefaultMemoryAge)
	defDur(&c.MonitorInterval, monitor.DefaultInterval)
	defDur(&c.ExportMaxAge, DefaultExportMaxAge)
	defDur(&c.JobMaxAge, DefaultJobMaxAge)
	defDur(&c.RetentionInterval, DefaultRetentionInterval)
	if c.MonitorThreshold == 0 {
		c.MonitorThreshold = monitor.DefaultThreshold
	}
	return c
}

// Deps are what a Service uses but does not own: the caller (the Engine)
// closes them after the Service.
type Deps struct {
	// MarketData serves bars and quotes. Required.
	MarketData providers.MarketData
	// Posts, if set, feeds the sentiment scan.
	Posts providers.PostSource
	// DB is the engine's store, where the jobs (DB.Jobs) and the
	// monitor's alerts (DB.Alerts) are kept. Required.
	DB *store.Store
	// Writer writes the crew's texts; nil means crew.LocalWriter.
	// WriterName names it in reports ["custom" when Writer is set].
	Writer     crew.Writer
	WriterName string
	// Alerts records the monitor's alerts; nil means DB.Alerts().
	Alerts monitor.AlertSink
	// JobObserver, if set, sees every job that reaches a terminal state
	// (for metrics); it must be fast and safe for concurrent use.
	JobObserver func(jobs.Job)
	// Logger receives the service's logs; nil means slog.Default().
	Logger *slog.Logger
	// Clock is the wall clock of job and bundle times and of retention;
	// nil means time.Now.
	Clock func() time.Time
	// MarketClock is the "now" relative ranges resolve against; nil means
	// Clock. In sandbox mode it is the sandbox's date.
	MarketClock func() time.Time
}

// ErrStarted is returned by Start on a Service that was started or
// closed.
var ErrStarted = errors.New("service: already started or closed")

// Service owns the parts of `ffe serve` besides HTTP. Its methods are
// safe for concurrent use.
type Service struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	defaults export.Defaults

	bundles  *exportbundle.Store
	queue    *jobs.Queue
	crew     *crew.Crew
	exporter *export.Exporter
	monitor  *monitor.Monitor // nil when off

	// closers release the parts in reverse order of creation.
	closers []func() error

	mu       sync.Mutex // guards started, stopped, closed and bgCancel
	started  bool
	stopped  bool
	closed   bool
	bgCancel context.CancelFunc
	bg       sync.WaitGroup // the goroutines the Service owns
	stopDone chan struct{}  // closed when the first Shutdown has returned

	closeOnce sync.Once
	closeErr  error
}

// New builds a Service: it opens the bundle directory, recovers the job
// queue in deps.DB, and sets up the crew, the exporter and the monitor.
// Nothing runs until Start. The caller must Close the Service.
func New(cfg Config, deps Deps) (_ *Service, err error) {
	if deps.MarketData == nil || deps.DB == nil {
		return nil, errors.New("service: Deps.MarketData and Deps.DB are required")
	}
	if cfg.ExportDir == "" {
		return nil, errors.New("service: Config.ExportDir is required")
	}
	cfg = cfg.withDefaults()
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Clock == nil {
		deps.Clock = time.Now
	}
	if deps.MarketClock == nil {
		deps.MarketClock = deps.Clock
	}
	s := &Service{cfg: cfg, deps: deps, log: deps.Logger, stopDone: make(chan struct{})}
	s.defaults = export.Defaults{Symbols: cfg.Watchlist, Range: cfg.DefaultRange, Interval: cfg.DefaultInterval,
		Formats: cfg.DefaultFormats, Crew: cfg.CrewByDefault}
	if _, err := (export.Request{}).Resolve(export.Defaults{Symbols: []string{"AAPL"}, Range: cfg.DefaultRange,
		Interval: cfg.DefaultInterval, Formats: cfg.DefaultFormats}, deps.MarketClock()); err != nil {
		return nil, fmt.Errorf("service: defaults: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Close())
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.build(ctx); err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	return s, nil
}

// build creates the parts in order and registers how each is released.
func (s *Service) build(ctx context.Context) error {
	var err error
	if s.bundles, err = exportbundle.Open(s.cfg.ExportDir, exportbundle.WithClock(s.deps.Clock)); err != nil {
		return err
	}
	s.closers = append(s.closers, s.bundles.Close)

	s.queue, err = jobs.Open(ctx, s.deps.DB.Jobs(),
		jobs.WithWorkers(s.cfg.Workers), jobs.WithCapacity(s.cfg.QueueCapacity),
		jobs.WithTimeout(s.cfg.JobTimeout), jobs.WithMaxAttempts(s.cfg.MaxAttempts),
		jobs.WithClock(s.deps.Clock), jobs.WithLogger(s.log), jobs.WithObserver(s.observeJob))
	if err != nil {
		return err
	}
	s.closers = append(s.closers, func() error {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // interrupt at once: Shutdown was the graceful path
		return s.queue.Stop(ctx)
	})
	if rec := s.queue.Recovered(); rec.Requeued+rec.Failed > 0 {
		s.log.Warn("server: jobs interrupted by the previous process", "resumed", rec.Requeued, "failed", rec.Failed)
	}

	crewOpts := []crew.Option{crew.WithClock(s.deps.Clock)}
	if s.deps.Writer != nil {
		name := s.deps.WriterName
		if name == "" {
			name = "custom"
		}
		crewOpts = append(crewOpts, crew.WithWriter(s.deps.Writer, name))
	}
	if s.cfg.CrewMemory {
		crewOpts = append(crewOpts, crew.WithMemory(s.cfg.CrewMemoryEntries, s.cfg.CrewMemoryAge))
	}
	if s.crew, err = crew.New(crewOpts...); err != nil {
		return err
	}

	exOpts := []export.Option{export.WithCrew(s.crew), export.WithConcurrency(s.cfg.SymbolConcurrency), export.WithLogger(s.log)}
	if s.deps.Posts != nil && len(s.cfg.Subreddits) > 0 {
		exOpts = append(exOpts, export.WithPosts(s.deps.Posts, s.cfg.Subreddits, s.cfg.PostLimit))
	}
	if s.exporter, err = export.New(s.deps.MarketData, s.bundles, exOpts...); err != nil {
		return err
	}
	s.queue.Handle(export.Kind, s.exporter.Handler())

	if !s.cfg.MonitorOff && len(s.cfg.Watchlist) > 0 {
		sink := s.deps.Alerts
		if sink == nil {
			sink = s.deps.DB.Alerts()
		}
		s.monitor, err = monitor.New(s.deps.MarketData, sink, monitor.Config{Symbols: s.cfg.Watchlist,
			Interval: s.cfg.MonitorInterval, Threshold: s.cfg.MonitorThreshold},
			monitor.WithLogger(s.log), monitor.WithClock(s.deps.Clock))
		if err != nil {
			return err
		}
		s.closers = append(s.closers, func() error { s.monitor.Stop(); return nil })
	}
	return nil
}

func (s *Service) observeJob(j jobs.Job) {
	if s.deps.JobObserver != nil {
		s.deps.JobObserver(j)
	}
	s.log.Info("server: job finished", "job", j.ID, "status", j.State, "duration", j.Duration(), "error", j.Error)
}

// Start starts the job workers, the monitor and the retention loop. A
// Service starts once: later calls, and calls after Shutdown or Close,
// return ErrStarted.
func (s *Service) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopped || s.closed {
		return ErrStarted
	}
	s.started = true
	var ctx context.Context
	ctx, s.bgCancel = context.WithCancel(context.Background())
	if err := s.queue.Start(); err != nil {
		return fmt.Errorf("service: %w", err)
	}
	if s.monitor != nil {
		if err := s.monitor.Start(ctx); err != nil {
			s.log.Error("server: start monitor", "err", err)
		}
	}
	s.bg.Go(func() { s.retain(ctx) })
	return nil
}

// Shutdown stops what Start started, gracefully: the workers stop
// claiming jobs at once and running jobs get until ctx is done, then are
// interrupted and stay queued, with the jobs not yet started, for the
// next process; then the retention loop and the monitor stop. It returns
// the queue's error when jobs had to be interrupted. Later calls wait
// until the first has returned, then return nil; the parts stay open
// until Close.
func (s *Service) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		<-s.stopDone
		return nil
	}
	s.stopped = true
	started, cancel := s.started, s.bgCancel
	s.mu.Unlock()
	defer close(s.stopDone)
	if !started {
		return nil
	}

	err := s.queue.Stop(ctx)
	cancel()
	if s.monitor != nil {
		s.monitor.Stop()
	}
	s.bg.Wait()
	if err != nil {
		return fmt.Errorf("service: %w", err)
	}
	return nil
}

// Close interrupts whatever still runs (Shutdown with no time left), then
// releases the parts in reverse order of creation: the monitor, the
// queue, the bundle directory. It does not close Deps. It is idempotent;
// later calls return the first call's result.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Shutdown(ctx); err != nil {
			s.log.Warn("server: close", "err", err) // interrupted jobs stay queued: not a failure of Close
		}
		var errs []error
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		for i := len(s.closers) - 1; i >= 0; i-- {
			if err := s.closers[i](); err != nil && !errors.Is(err, context.Canceled) {
				errs = append(errs, fmt.Errorf("service: %w", err))
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Queue returns the job queue.
func (s *Service) Queue() *jobs.Queue { return s.queue }

// Bundles returns the store of export bundles.
func (s *Service) Bundles() *exportbundle.Store { return s.bundles }

// Crew returns the analytics crew (its Memory, when on, shows how much is
// remembered).
func (s *Service) Crew() *crew.Crew { return s.crew }

// Monitor returns the stock monitor, or nil when it is off.
func (s *Service) Monitor() *monitor.Monitor { return s.monitor }

// MonitorStats returns the monitor's polls and alerts so far, zero when
// it is off.
func (s *Service) MonitorStats() (polls, alerts uint64) {
	if s.monitor == nil {
		return 0, 0
	}
	st := s.monitor.Stats()
	return st.Polls, st.Alerts
}

// Defaults returns what a trigger leaves out.
func (s *Service) Defaults() export.Defaults { return s.defaults }

// Config returns the configuration, its defaults applied.
func (s *Service) Config() Config { return s.cfg }

// Now returns the wall clock's time.
func (s *Service) Now() time.Time { return s.deps.Clock() }

// MarketNow returns the time relative ranges resolve against.
func (s *Service) MarketNow() time.Time { return s.deps.MarketClock() }

// DB returns the store the service keeps its jobs and alerts in.
func (s *Service) DB() *store.Store { return s.deps.DB }
