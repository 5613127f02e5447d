package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/leakgate/leakgate/engine/crew"
	"github.com/leakgate/leakgate/engine/export"
	"github.com/leakgate/leakgate/engine/exportbundle"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/engine/monitor"
	"github.com/leakgate/leakgate/engine/store"
	"github.com/leakgate/leakgate/providers"
)

// TokenEnv is the environment variable the API token is read from when
// Config.Token is empty.
const TokenEnv = "FFE_SERVER_TOKEN"

// MaxBodyBytes bounds a request body: a body declared larger is answered
// 413 before any of it is read, and a chunked body is read up to the limit
// and then answered 413.
const MaxBodyBytes = 1 << 20

// MinTokenLength is the shortest API token the server accepts when it
// listens beyond loopback. On loopback any token is accepted.
const MinTokenLength = 16

// maxBodyTimeout is the server's read timeout of a whole request, the
// bound of Config.BodyTimeout.
const maxBodyTimeout = time.Minute

// Defaults of Config.
const (
	DefaultAddr              = "127.0.0.1:8740"
	DefaultAdminAddr         = "127.0.0.1:9091"
	DefaultRange             = "1y"
	DefaultShutdownTimeout   = 30 * time.Second
	DefaultKeepExports       = 100
	DefaultExportMaxAge      = 7 * 24 * time.Hour
	DefaultKeepJobs          = 1000
	DefaultJobMaxAge         = 30 * 24 * time.Hour
	DefaultRetentionInterval = time.Minute
	DefaultMonitorInterval   = time.Minute
	DefaultBodyTimeout       = 30 * time.Second
)

// AdminOff as Config.AdminAddr turns the admin listener off.
const AdminOff = "off"

// Config configures a Server. Zero fields take the defaults named.
type Config struct {
	// Addr is where the API listens [DefaultAddr]. Without a configured
	// token the server refuses to listen beyond loopback.
	Addr string
	// AdminAddr is where /metrics and /debug/pprof listen
	// [DefaultAdminAddr]; AdminOff turns it off. It must be a loopback
	// address unless AdminPublic is set.
	AdminAddr   string
	AdminPublic bool
	// Token is the API bearer token; empty means the TokenEnv variable,
	// and if that is empty too a random token printed once at start.
	// Beyond loopback it must be at least MinTokenLength long.
	Token string
	// ExportDir holds the export bundles. Required.
	ExportDir string

	// Watchlist is what a trigger without symbols exports, and what the
	// stock monitor watches.
	Watchlist []string
	// DefaultRange, DefaultInterval, DefaultFormats and CrewByDefault fill
	// a trigger's missing fields [DefaultRange, 1d, csv and json, false].
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
	// when Deps.Posts is set and Subreddits is not empty.
	Subreddits []string
	PostLimit  int

	// CrewMemory turns the crew's memory on, bounded by CrewMemoryEntries
	// and CrewMemoryAge [crew.DefaultMemoryEntries, DefaultMemoryAge].
	CrewMemory        bool
	CrewMemoryEntries int
	CrewMemoryAge     time.Duration

	// MonitorInterval is the stock monitor's poll interval
	// [DefaultMonitorInterval]; negative turns the monitor off.
	// MonitorThreshold is the move that raises an alert
	// [monitor.DefaultThreshold].
	MonitorInterval  time.Duration
	MonitorThreshold float64

	// Retention: at most KeepExports bundles, none older than
	// ExportMaxAge; at most KeepJobs finished jobs, none older than
	// JobMaxAge; checked every RetentionInterval. Negative turns a rule
	// off.
	KeepExports       int
	ExportMaxAge      time.Duration
	KeepJobs          int
	JobMaxAge         time.Duration
	RetentionInterval time.Duration

	// BodyTimeout bounds the time a request body may take to arrive,
	// from the moment the handler starts reading it; a body that takes
	// longer is answered 408 [DefaultBodyTimeout]. It is at most a
	// minute, the server's read timeout of a whole request.
	BodyTimeout time.Duration

	// ShutdownTimeout bounds a graceful shutdown: running jobs that have
	// not finished by then are interrupted and stay queued
	// [DefaultShutdownTimeout].
	ShutdownTimeout time.Duration
}

// Deps are what a Server uses but does not own: the caller (the Engine)
// closes them after Close.
type Deps struct {
	// MarketData serves bars and quotes. Required.
	MarketData providers.MarketData
	// Posts, if set, feeds the sentiment scan.
	Posts providers.PostSource
	// DB is the engine's store, where the server keeps its jobs
	// (DB.Jobs) and the monitor's alerts (DB.Alerts), and which /readyz
	// pings. Required.
	DB *store.Store
	// Writer writes the crew's texts; nil means crew.LocalWriter.
	// WriterName names it in reports ["local"].
	Writer     crew.Writer
	WriterName string
	// Alerts records the monitor's alerts; nil means DB.Alerts().
	Alerts monitor.AlertSink
	// Metrics is the registry the admin listener serves; nil means a new
	// one (whose provider request counter then stays empty).
	Metrics *Metrics
	// Logger receives the server's logs; nil means slog.Default().
	Logger *slog.Logger
	// Clock is the wall clock of job and bundle times and of retention;
	// nil means time.Now.
	Clock func() time.Time
	// MarketClock is the "now" relative ranges resolve against; nil means
	// Clock. In sandbox mode it is the sandbox's date.
	MarketClock func() time.Time
}

// Option configures a Server.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	tokenOut io.Writer
	getenv   func(string) string
}

// WithTokenOutput sets where a generated token is printed [os.Stderr].
func WithTokenOutput(w io.Writer) Option { return optionFunc(func(o *options) { o.tokenOut = w }) }

// WithGetenv sets how TokenEnv is read [os.Getenv].
func WithGetenv(f func(string) string) Option { return optionFunc(func(o *options) { o.getenv = f }) }

// Server is the export API with its job queue, stock monitor and admin
// endpoints. New builds it without starting anything; Serve or Run serve
// until their context ends; Close releases what New acquired.
type Server struct {
	cfg      Config
	deps     Deps
	opts     options
	log      *slog.Logger
	metrics  *Metrics
	bundles  *exportbundle.Store
	queue    *jobs.Queue
	crew     *crew.Crew
	exporter *export.Exporter
	monitor  *monitor.Monitor // nil when off
	defaults export.Defaults

	token          string
	tokenSum       [sha256.Size]byte
	tokenGenerated bool

	api   http.Handler
	admin http.Handler

	ready     atomic.Bool
	mu        sync.Mutex // guards served and closed
	served    bool
	closed    bool
	closing   chan struct{}
	closeOnce sync.Once
	serveWG   sync.WaitGroup
}

// New builds a Server: it opens the bundle directory, recovers the job
// queue in deps.DB, and sets up the crew, the exporter and
// the monitor. Nothing runs until Serve or Run. The caller must Close the
// Server.
func New(cfg Config, deps Deps, opts ...Option) (*Server, error) {
	o := options{tokenOut: os.Stderr, getenv: os.Getenv}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if deps.MarketData == nil || deps.DB == nil {
		return nil, errors.New("server: Deps.MarketData and Deps.DB are required")
	}
	if cfg.ExportDir == "" {
		return nil, errors.New("server: Config.ExportDir is required")
	}
	cfg = withDefaults(cfg)
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Clock == nil {
		deps.Clock = time.Now
	}
	if deps.MarketClock == nil {
		deps.MarketClock = deps.Clock
	}
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics()
	}
	s := &Server{cfg: cfg, deps: deps, opts: o, log: deps.Logger, metrics: deps.Metrics, closing: make(chan struct{})}
	s.defaults = export.Defaults{Symbols: cfg.Watchlist, Range: cfg.DefaultRange, Interval: cfg.DefaultInterval,
		Formats: cfg.DefaultFormats, Crew: cfg.CrewByDefault}
	if _, err := (export.Request{}).Resolve(export.Defaults{Symbols: []string{"AAPL"}, Range: cfg.DefaultRange,
		Interval: cfg.DefaultInterval, Formats: cfg.DefaultFormats}, deps.MarketClock()); err != nil {
		return nil, fmt.Errorf("server: defaults: %w", err)
	}

	s.token = cfg.Token
	if s.token == "" {
		s.token = strings.TrimSpace(o.getenv(TokenEnv))
	}
	if s.token == "" {
		s.token, s.tokenGenerated = rand.Text(), true
	}
	s.tokenSum = sha256.Sum256([]byte(s.token))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.build(ctx); err != nil {
		return nil, errors.Join(err, s.release())
	}
	s.api = s.handler()
	s.admin = s.adminHandler()
	return s, nil
}

func withDefaults(c Config) Config {
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
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.AdminAddr == "" {
		c.AdminAddr = DefaultAdminAddr
	}
	if c.DefaultRange == "" {
		c.DefaultRange = DefaultRange
	}
	if c.DefaultInterval == "" {
		c.DefaultInterval = providers.Day
	}
	def(&c.Workers, jobs.DefaultWorkers)
	def(&c.QueueCapacity, jobs.DefaultCapacity)
	def(&c.MaxAttempts, jobs.DefaultMaxAttempts)
	def(&c.SymbolConcurrency, export.DefaultConcurrency)
	def(&c.KeepExports, DefaultKeepExports)
	def(&c.KeepJobs, DefaultKeepJobs)
	defDur(&c.JobTimeout, jobs.DefaultTimeout)
	defDur(&c.ExportMaxAge, DefaultExportMaxAge)
	defDur(&c.JobMaxAge, DefaultJobMaxAge)
	defDur(&c.RetentionInterval, DefaultRetentionInterval)
	defDur(&c.MonitorInterval, DefaultMonitorInterval)
	defDur(&c.ShutdownTimeout, DefaultShutdownTimeout)
	defDur(&c.BodyTimeout, DefaultBodyTimeout)
	c.BodyTimeout = min(c.BodyTimeout, maxBodyTimeout)
	return c
}

// build acquires the server's parts; release undoes it.
func (s *Server) build(ctx context.Context) error {
	var err error
	s.bundles, err = exportbundle.Open(s.cfg.ExportDir, exportbundle.WithClock(s.deps.Clock))
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.queue, err = jobs.Open(ctx, s.deps.DB.Jobs(),
		jobs.WithWorkers(s.cfg.Workers), jobs.WithCapacity(s.cfg.QueueCapacity),
		jobs.WithTimeout(s.cfg.JobTimeout), jobs.WithMaxAttempts(s.cfg.MaxAttempts),
		jobs.WithClock(s.deps.Clock), jobs.WithLogger(s.log), jobs.WithObserver(s.observeJob))
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
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
		return fmt.Errorf("server: %w", err)
	}
	exOpts := []export.Option{export.WithCrew(s.crew), export.WithConcurrency(s.cfg.SymbolConcurrency), export.WithLogger(s.log)}
	if s.deps.Posts != nil && len(s.cfg.Subreddits) > 0 {
		exOpts = append(exOpts, export.WithPosts(s.deps.Posts, s.cfg.Subreddits, s.cfg.PostLimit))
	}
	if s.exporter, err = export.New(s.deps.MarketData, s.bundles, exOpts...); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.queue.Handle(export.Kind, s.exporter.Handler())

	if s.cfg.MonitorInterval > 0 && len(s.cfg.Watchlist) > 0 {
		sink := s.deps.Alerts
		if sink == nil {
			sink = s.deps.DB.Alerts()
		}
		s.monitor, err = monitor.New(s.deps.MarketData, sink, monitor.Config{Symbols: s.cfg.Watchlist,
			Interval: s.cfg.MonitorInterval, Threshold: s.cfg.MonitorThreshold},
			monitor.WithLogger(s.log), monitor.WithClock(s.deps.Clock))
		if err != nil {
			return fmt.Errorf("server: %w", err)
		}
	}
	return s.metrics.attach(s.queue, func() (uint64, uint64) {
		if s.monitor == nil {
			return 0, 0
		}
		st := s.monitor.Stats()
		return st.Polls, st.Alerts
	}, s.crew.Memory())
}

func (s *Server) observeJob(j jobs.Job) {
	s.metrics.observeJob(j)
	s.log.Info("server: job finished", "job", j.ID, "status", j.State, "duration", j.Duration(), "error", j.Error)
}

// release closes what build opened.
func (s *Server) release() error {
	if s.queue != nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // interrupt at once: nothing should be running here
		_ = s.queue.Stop(ctx)
	}
	if s.monitor != nil {
		s.monitor.Stop()
	}
	if s.bundles != nil {
		return s.bundles.Close()
	}
	return nil
}

// Token returns the API bearer token, configured or generated.
func (s *Server) Token() string { return s.token }

// Handler returns the API handler, for tests and for embedding.
func (s *Server) Handler() http.Handler { return s.api }

// AdminHandler returns the handler of /metrics and /debug/pprof.
func (s *Server) AdminHandler() http.Handler { return s.admin }

// Crew returns the analytics crew (its Memory, when on, shows how much is
// remembered).
func (s *Server) Crew() *crew.Crew { return s.crew }

// Queue returns the job queue.
func (s *Server) Queue() *jobs.Queue { return s.queue }

// IsLoopback reports whether addr (host:port) is a loopback address.
func IsLoopback(addr net.Addr) bool {
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ErrServing is returned by Serve on a server that serves already or was
// closed, and by ServeAdmin on a closed server.
var ErrServing = errors.New("server: already serving or closed")

// Serve starts the job workers, the monitor and retention, and serves the
// API on ln until ctx ends or Close is called. Then it shuts down
// gracefully: it stops accepting connections, lets requests and running
// jobs finish up to ShutdownTimeout, leaves the jobs not yet started
// queued, stops the monitor, and returns nil. It closes ln. A server
// serves once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.tokenGenerated && !IsLoopback(ln.Addr()) {
		ln.Close()
		return fmt.Errorf("server: refusing to listen on %s without a configured token: set %s or the server token, or listen on loopback",
			ln.Addr(), TokenEnv)
	}
	if !IsLoopback(ln.Addr()) && len(s.token) < MinTokenLength {
		ln.Close()
		return fmt.Errorf("server: refusing to listen on %s with a token of %d characters: beyond loopback it must have at least %d",
			ln.Addr(), len(s.token), MinTokenLength)
	}
	s.mu.Lock()
	if s.closed || s.served {
		s.mu.Unlock()
		ln.Close()
		return ErrServing
	}
	s.served = true
	s.serveWG.Add(1)
	s.mu.Unlock()
	defer s.serveWG.Done()

	if s.tokenGenerated {
		fmt.Fprintf(s.opts.tokenOut, "ffe serve: no API token configured; generated one for this run (set %s to choose one):\n%s\n",
			TokenEnv, s.token)
	}
	if err := s.queue.Start(); err != nil {
		ln.Close()
		return fmt.Errorf("server: %w", err)
	}
	bg, stopBG := context.WithCancel(context.Background())
	var bgWG sync.WaitGroup
	if s.monitor != nil {
		if err := s.monitor.Start(bg); err != nil {
			s.log.Error("server: start monitor", "err", err)
		}
	}
	bgWG.Go(func() { s.retain(bg) })

	hs := s.httpServer(s.api, "api")
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.ready.Store(true)
	s.log.Info("server: listening", "addr", ln.Addr().String())

	var serveErr error
	select {
	case <-ctx.Done():
	case <-s.closing:
	case serveErr = <-errc:
	}
	s.ready.Store(false)
	s.log.Info("server: shutting down", "timeout", s.cfg.ShutdownTimeout)

	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	// The workers stop claiming jobs at once and running jobs get until
	// the deadline, while the listener closes and requests in flight end.
	stopped := make(chan error, 1)
	go func() { stopped <- s.queue.Stop(sctx) }()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close() // the deadline passed: drop the remaining connections
	}
	if serveErr == nil {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
		}
	}
	if err := <-stopped; err != nil {
		s.log.Warn("server: shutdown", "err", err)
	}
	stopBG()
	if s.monitor != nil {
		s.monitor.Stop()
	}
	bgWG.Wait()
	s.log.Info("server: stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", serveErr)
	}
	return nil
}

func (s *Server) httpServer(h http.Handler, name string) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       maxBodyTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(slogWriter{s.log.With("listener", name)}, "", 0),
	}
}

// ServeAdmin serves /metrics, /debug/pprof and /healthz on ln until ctx
// ends or Close is called, then closes it; Close waits for it to return.
// It refuses a listener beyond loopback unless Config.AdminPublic is set,
// and returns ErrServing after Close.
func (s *Server) ServeAdmin(ctx context.Context, ln net.Listener) error {
	if !s.cfg.AdminPublic && !IsLoopback(ln.Addr()) {
		ln.Close()
		return fmt.Errorf("server: refusing to serve metrics and pprof on %s: use a loopback address or set AdminPublic", ln.Addr())
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServing
	}
	s.serveWG.Add(1)
	s.mu.Unlock()
	defer s.serveWG.Done()
	hs := s.httpServer(s.admin, "admin")
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
	case <-s.closing:
	case err := <-errc:
		return fmt.Errorf("server: admin: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	<-errc
	return nil
}

// Run listens on Config.Addr and Config.AdminAddr and serves both until ctx
// ends (see Serve).
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	if s.cfg.AdminAddr == AdminOff {
		return s.Serve(ctx, ln)
	}
	aln, err := net.Listen("tcp", s.cfg.AdminAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("server: admin: %w", err)
	}
	return s.ServeListeners(ctx, ln, aln)
}

// ServeListeners serves the API on api (see Serve) and, when admin is not
// nil, the admin endpoints on admin (see ServeAdmin), until ctx ends or
// Close is called; the admin listener ends when the API's does. It closes
// both listeners. Run calls it with listeners on Config.Addr and
// Config.AdminAddr; callers that must know the bound addresses (port 0)
// before serving listen themselves and call it.
func (s *Server) ServeListeners(ctx context.Context, api, admin net.Listener) error {
	if admin == nil {
		return s.Serve(ctx, api)
	}
	s.log.Info("server: admin listening", "addr", admin.Addr().String())
	actx, stopAdmin := context.WithCancel(ctx)
	defer stopAdmin()
	var g errgroup.Group
	g.Go(func() error { return s.ServeAdmin(actx, admin) })
	g.Go(func() error {
		defer stopAdmin()
		return s.Serve(ctx, api)
	})
	return g.Wait()
}

// Close shuts a serving server down (as if Serve's context ended), waits
// for Serve and ServeAdmin to return, and releases the bundle directory
// and the queue. It does not close Deps. It is idempotent.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.closing)
		s.serveWG.Wait()
		err = s.release()
	})
	return err
}
