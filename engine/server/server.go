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
	"github.com/leakgate/leakgate/engine/service"
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

// Defaults of Config, used when a field is zero.
const (
	DefaultAddr            = "127.0.0.1:8740"
	DefaultAdminAddr       = "127.0.0.1:9091"
	DefaultShutdownTimeout = 30 * time.Second
	DefaultBodyTimeout     = 30 * time.Second
)

// AdminOff as Config.AdminAddr turns the admin listener off.
const AdminOff = "off"

// Config configures the HTTP layer of a Server. Zero fields take the
// defaults named.
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

// Deps are what a Server uses besides its service.
type Deps struct {
	// Metrics is the registry the admin listener serves; nil means a new
	// one (whose provider request counter then stays empty). Pass its
	// ObserveJob as the service's job observer to count finished jobs.
	Metrics *Metrics
	// Logger receives the server's logs; nil means slog.Default().
	Logger *slog.Logger
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

// Server is the export API and the admin endpoints over a
// service.Service. New builds it without starting anything; Serve or Run
// start the service and serve until their context ends; Close ends
// serving. The service belongs to the caller, which closes it after the
// Server.
type Server struct {
	cfg     Config
	svc     *service.Service
	opts    options
	log     *slog.Logger
	metrics *Metrics

	// The service's parts the handlers use.
	bundles  *exportbundle.Store
	queue    *jobs.Queue
	crew     *crew.Crew
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

// New builds a Server over svc: the API and admin handlers, the token,
// and the metrics of svc's queue, monitor and crew memory. Nothing runs
// until Serve or Run. The caller must Close the Server, then svc.
func New(cfg Config, svc *service.Service, deps Deps, opts ...Option) (*Server, error) {
	o := options{tokenOut: os.Stderr, getenv: os.Getenv}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if svc == nil {
		return nil, errors.New("server: nil service")
	}
	cfg = withDefaults(cfg)
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics()
	}
	s := &Server{cfg: cfg, svc: svc, opts: o, log: deps.Logger, metrics: deps.Metrics, closing: make(chan struct{}),
		bundles: svc.Bundles(), queue: svc.Queue(), crew: svc.Crew(), monitor: svc.Monitor(), defaults: svc.Defaults()}

	s.token = cfg.Token
	if s.token == "" {
		s.token = strings.TrimSpace(o.getenv(TokenEnv))
	}
	if s.token == "" {
		s.token, s.tokenGenerated = rand.Text(), true
	}
	s.tokenSum = sha256.Sum256([]byte(s.token))

	if err := s.metrics.attach(s.queue, svc.MonitorStats, s.crew.Memory()); err != nil {
		return nil, err
	}
	s.api = s.handler()
	s.admin = s.adminHandler()
	return s, nil
}

func withDefaults(c Config) Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.AdminAddr == "" {
		c.AdminAddr = DefaultAdminAddr
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.BodyTimeout == 0 {
		c.BodyTimeout = DefaultBodyTimeout
	}
	c.BodyTimeout = min(c.BodyTimeout, maxBodyTimeout)
	return c
}

// Token returns the API bearer token, configured or generated.
func (s *Server) Token() string { return s.token }

// Handler returns the API handler, for tests and for embedding.
func (s *Server) Handler() http.Handler { return s.api }

// AdminHandler returns the handler of /metrics and /debug/pprof.
func (s *Server) AdminHandler() http.Handler { return s.admin }

// Crew returns the service's analytics crew (its Memory, when on, shows
// how much is remembered).
func (s *Server) Crew() *crew.Crew { return s.crew }

// Queue returns the service's job queue.
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

// Serve starts the service (job workers, monitor, retention) and serves
// the API on ln until ctx ends or Close is called. Then it shuts down
// gracefully: it stops accepting connections, lets requests and running
// jobs finish up to ShutdownTimeout, leaves the jobs not yet started
// queued, stops the monitor and retention (service.Service.Shutdown), and
// returns nil. It closes ln. A server serves once.
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
	if err := s.svc.Start(); err != nil {
		ln.Close()
		return fmt.Errorf("server: %w", err)
	}

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
	// the deadline, while the listener closes and requests in flight end;
	// then the service's monitor and retention stop.
	stopped := make(chan error, 1)
	go func() { stopped <- s.svc.Shutdown(sctx) }()
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

// Close shuts a serving server down (as if Serve's context ended) and
// waits for Serve and ServeAdmin to return. It does not close the
// service, which its owner closes next. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.closing)
		s.serveWG.Wait()
	})
	return nil
}
