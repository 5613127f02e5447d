package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/leakgate/leakgate/harness"
)

// Defaults of a Config.
const (
	DefaultWorkers      = 10
	DefaultMaxWorkers   = 100
	DefaultConnections  = 100
	DefaultTimeout      = 10 * time.Second
	DefaultSampleEvery  = 500 * time.Millisecond
	DefaultConnsEvery   = time.Second
	DefaultDrainTimeout = 10 * time.Second
	DefaultSettle       = 2 * time.Second
	DefaultMaxBody      = 4 << 10
)

// GaugeCPU is the gauge, in a server sample's snapshot, of the server's CPU
// time so far (user and system), seconds.
const GaugeCPU = "cpu_seconds"

// Phases of the server samples.
const (
	phaseBaseline = "baseline"
	phaseAttack   = "attack"
	phaseDrain    = "drain"
	phaseSettle   = "settle"
	phaseFinal    = "final"
)

// Config is one load run. Targeter, Pace, Duration and MaxRequests are
// required: every run is bounded by time and by request count.
type Config struct {
	// Name names the run in reports.
	Name string
	// Targeter gives each request (vegeta's targeters: a targets file,
	// a static list, or a function).
	Targeter vegeta.Targeter
	// Pace is the requested rate; with Shard, this attacker sends its part.
	Pace  Pace
	Shard Shard
	// Duration and MaxRequests bound the attack; both are required.
	Duration    time.Duration
	MaxRequests uint64
	// Workers is how many workers start, MaxWorkers how many there may be
	// (vegeta starts one more whenever all are busy), Connections the most
	// connections to each host. Set explicitly: vegeta's own defaults
	// (unbounded workers) collapse at high rates on small machines.
	Workers, MaxWorkers uint64
	Connections         int
	// Timeout bounds each request [DefaultTimeout].
	Timeout time.Duration
	// MaxBody is how much of each response body is read into the result
	// (the rest is discarded) [DefaultMaxBody]; bodies are not written to
	// the results file unless KeepBodies.
	MaxBody    int64
	KeepBodies bool
	// Results, if set, receives every result in vegeta's binary encoding:
	// `vegeta report`, `vegeta plot` and Merge read it.
	Results io.Writer
	// OnResult, if set, sees every result, from Run's goroutine, before it
	// is written (to take ids out of response bodies, say). It must return
	// quickly.
	OnResult func(*vegeta.Result)

	// Server, if set, is watched: sampled every SampleEvery (its connection
	// tables every ConnsEvery), before the attack, during it and the drain,
	// and after.
	Server      *harness.Target
	SampleEvery time.Duration
	ConnsEvery  time.Duration
	// Probes are more gauges of the server, sampled with it.
	Probes []harness.Probe
	// Drain, if set, is polled after the attack until it reports done
	// (a job queue empty, say), for at most DrainTimeout.
	Drain        func(ctx context.Context) (done bool, err error)
	DrainTimeout time.Duration
	// Settle bounds the wait after the drain for the server's goroutines,
	// descriptors and connections to come back to their baseline
	// [DefaultSettle]; the final value of each is the lowest seen.
	Settle time.Duration
	// Thresholds are expressions (see the package documentation) merged
	// with the defaults by ParseThresholds.
	Thresholds []string
	// Progress, if set, is called from Run's goroutine about once a second
	// during the attack with the requests sent so far.
	Progress func(sent uint64, elapsed time.Duration)
}

// Loopback wraps a targeter so that a target whose host is not a loopback
// address (or localhost) stops the attack with an error.
func Loopback(tr vegeta.Targeter) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		if err := tr(t); err != nil {
			return err
		}
		return CheckLoopback(t.URL)
	}
}

// CheckLoopback returns an error unless raw is an http(s) URL whose host is
// a loopback address or localhost.
func CheckLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("load: target %q: %w", raw, err)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("load: target %q is not on a loopback address", raw)
	}
	return nil
}

func (c *Config) defaults() error {
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.MaxWorkers == 0 {
		c.MaxWorkers = max(DefaultMaxWorkers, c.Workers)
	}
	if c.Connections == 0 {
		c.Connections = DefaultConnections
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxBody == 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.SampleEvery == 0 {
		c.SampleEvery = DefaultSampleEvery
	}
	if c.ConnsEvery == 0 {
		c.ConnsEvery = DefaultConnsEvery
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.Settle == 0 {
		c.Settle = DefaultSettle
	}
	if c.Shard.N == 0 {
		c.Shard = Shard{I: 1, N: 1}
	}
	var errs []error
	if c.Targeter == nil {
		errs = append(errs, errors.New("load: no targeter"))
	}
	if c.Duration <= 0 {
		errs = append(errs, errors.New("load: the duration must be positive: every run is bounded in time"))
	}
	if c.MaxRequests == 0 {
		errs = append(errs, errors.New("load: the most requests must be positive: every run is bounded in requests"))
	}
	if c.MaxWorkers < c.Workers {
		errs = append(errs, fmt.Errorf("load: max workers %d below workers %d", c.MaxWorkers, c.Workers))
	}
	if c.Connections < 0 || c.Timeout < 0 || c.SampleEvery < 0 || c.DrainTimeout < 0 || c.Settle < 0 {
		errs = append(errs, errors.New("load: negative connections, timeout or interval"))
	}
	if _, err := c.Pace.Shard(c.Shard.N).Pacer(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Run runs one load: a baseline sample of the server, the attack, the
// drain, the settle and a final sample; then it judges the thresholds.
// It returns an error, with no report, when the configuration is invalid;
// otherwise a report, and an error when the run did not complete (status
// "error": the server exited, ctx ended; what was measured is reported).
// Failing thresholds are not an error: check Report.Passed.
//
// Run's goroutines (vegeta's attack and the server sampler) all end before
// it returns.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	checks, err := ParseThresholds(cfg.Thresholds, cfg.Server != nil)
	if err != nil {
		return nil, err
	}
	pace := cfg.Pace.Shard(cfg.Shard.N)
	pacer, _ := pace.Pacer()

	var w *watcher
	if cfg.Server != nil {
		if w, err = newWatcher(ctx, cfg); err != nil {
			return nil, err
		}
		defer w.close()
		if err := w.baseline(ctx); err != nil {
			return nil, err
		}
	}

	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: cfg.Connections,
		MaxConnsPerHost:     cfg.Connections,
		IdleConnTimeout:     30 * time.Second,
	}
	defer tr.CloseIdleConnections()
	attacker := vegeta.NewAttacker(
		vegeta.Client(&http.Client{Transport: tr, Timeout: cfg.Timeout}),
		vegeta.Workers(cfg.Workers), vegeta.MaxWorkers(cfg.MaxWorkers), vegeta.MaxBody(cfg.MaxBody),
	)

	began := time.Now()
	info := attackInfo{Pace: pace, Duration: cfg.Duration, Max: cfg.MaxRequests, Began: began, Shard: cfg.Shard}
	data, err := newAttackData(info, true)
	if err != nil {
		return nil, err
	}
	if w != nil {
		w.start(began)
	}
	var enc vegeta.Encoder
	if cfg.Results != nil {
		enc = vegeta.NewEncoder(cfg.Results)
	}
	metrics := &vegeta.Metrics{}
	var runErrs []error
	results := attacker.Attack(cfg.Targeter, maxPacer{pacer, cfg.MaxRequests}, cfg.Duration, info.name())
	done := ctx.Done()
	nextProgress := began.Add(time.Second)
	for results != nil {
		select {
		case r, ok := <-results:
			if !ok {
				results = nil
				continue
			}
			if cfg.OnResult != nil {
				cfg.OnResult(r)
			}
			if !cfg.KeepBodies {
				r.Body = nil
			}
			metrics.Add(r)
			data.add(r)
			if enc != nil {
				if err := enc.Encode(r); err != nil && len(runErrs) == 0 {
					runErrs = append(runErrs, fmt.Errorf("load: write results: %w", err))
					attacker.Stop()
				}
			}
			if cfg.Progress != nil && time.Now().After(nextProgress) {
				cfg.Progress(data.sent, time.Since(began))
				nextProgress = nextProgress.Add(time.Second)
			}
		case <-done:
			attacker.Stop() // the attack's goroutines end; results closes
			done = nil
			runErrs = append(runErrs, fmt.Errorf("load: %w", context.Cause(ctx)))
		}
	}
	metrics.Close()
	attackEnd := time.Now()
	// Our connections go, so that the server's count can return.
	tr.CloseIdleConnections()

	var srv *Server
	var drainEnd time.Time
	if w != nil {
		if cfg.Drain != nil && ctx.Err() == nil {
			w.setPhase(phaseDrain)
			drained, err := drain(ctx, cfg.Drain, cfg.DrainTimeout)
			drainEnd = time.Now()
			w.srv.Drained = drained
			w.srv.DrainSeconds = drainEnd.Sub(attackEnd).Seconds()
			if err != nil {
				runErrs = append(runErrs, err)
			}
		} else {
			w.srv.Drained = cfg.Drain == nil
			drainEnd = attackEnd
		}
		if err := w.stop(); err != nil {
			runErrs = append(runErrs, err)
		}
		if ctx.Err() == nil {
			if err := w.final(ctx, cfg.Settle); err != nil {
				runErrs = append(runErrs, err)
			}
		}
		srv = w.srv
	} else if cfg.Drain != nil && ctx.Err() == nil {
		if _, err := drain(ctx, cfg.Drain, cfg.DrainTimeout); err != nil {
			runErrs = append(runErrs, err)
		}
		drainEnd = time.Now()
	}
	name := cfg.Name
	if name == "" {
		name = "load"
	}
	rep := build(name, []*attackData{data}, metrics, srv, attackEnd, drainEnd, checks)
	if err := errors.Join(runErrs...); err != nil {
		rep.Status, rep.Error = StatusError, err.Error()
		return rep, err
	}
	return rep, nil
}

// drain polls f every 100ms until it reports done, it fails, or timeout
// passes.
func drain(ctx context.Context, f func(context.Context) (bool, error), timeout time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := f(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return false, nil // timed out mid-call
			}
			return false, fmt.Errorf("load: drain: %w", err)
		}
		if ok {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-tick.C:
		}
	}
}

// watcher samples the server. Between start and stop its goroutine owns
// the Sampler; before and after, Run's goroutine does.
type watcher struct {
	s      *harness.Sampler
	cfg    Config
	srv    *Server
	origin time.Time

	mu    sync.Mutex
	phase string

	cancel context.CancelFunc
	wg     sync.WaitGroup
	err    error // of the sampling goroutine
	conns  time.Time
}

func newWatcher(ctx context.Context, cfg Config) (*watcher, error) {
	t := *cfg.Server
	probes := append([]harness.Probe{cpuProbe(t.PID())}, cfg.Probes...)
	opts := []harness.Option{harness.WithTarget(t), harness.WithProbes(probes...),
		harness.WithoutProbes(harness.MetricConns, harness.MetricChildren)}
	s, err := harness.NewSampler(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load: watch the server: %w", err)
	}
	return &watcher{s: s, cfg: cfg, srv: &Server{PID: t.PID(), MetricsURL: t.MetricsURL()}}, nil
}

func (w *watcher) close() { w.s.Close() }

// sample takes one sample, the connection tables if due or forced.
func (w *watcher) sample(ctx context.Context, phase string, conns bool) (Sample, error) {
	snap, err := w.s.Sample(ctx)
	if ctx.Err() != nil {
		return Sample{}, ctx.Err()
	}
	if errors.Is(err, harness.ErrTargetExited) {
		return Sample{}, fmt.Errorf("load: the server exited: %w", err)
	}
	if err != nil {
		w.note(err)
	}
	smp := Sample{Phase: phase, Snapshot: snap}
	if !w.origin.IsZero() {
		smp.T = snap.Taken.Sub(w.origin).Seconds()
	}
	if conns || time.Since(w.conns) >= w.cfg.ConnsEvery {
		w.conns = time.Now()
		states, err := w.s.Conns(ctx)
		if ctx.Err() != nil {
			return Sample{}, ctx.Err()
		}
		if errors.Is(err, harness.ErrTargetExited) {
			return Sample{}, fmt.Errorf("load: the server exited: %w", err)
		}
		if err != nil {
			w.note(err)
		} else {
			smp.Conns = states
		}
	}
	return smp, nil
}

func (w *watcher) note(err error) {
	if len(w.srv.Errors) < 20 {
		w.srv.Errors = append(w.srv.Errors, err.Error())
	}
}

// baseline reads the server before the attack: the highest goroutine
// count of three readings (a metrics endpoint counts its own goroutines,
// one or two depending on scheduling).
func (w *watcher) baseline(ctx context.Context) error {
	var base Sample
	for i := range 3 {
		smp, err := w.sample(ctx, phaseBaseline, i == 0)
		if err != nil {
			return err
		}
		if i == 0 {
			base = smp
			continue
		}
		base.Snapshot.Goroutines = max(base.Snapshot.Goroutines, smp.Snapshot.Goroutines)
		time.Sleep(20 * time.Millisecond)
	}
	w.srv.Baseline = base
	return nil
}

func (w *watcher) setPhase(p string) {
	w.mu.Lock()
	w.phase = p
	w.mu.Unlock()
}

func (w *watcher) getPhase() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.phase
}

// start begins sampling every SampleEvery until stop.
func (w *watcher) start(origin time.Time) {
	w.origin = origin
	w.srv.Baseline.T = w.srv.Baseline.Snapshot.Taken.Sub(origin).Seconds()
	w.srv.Samples = append(w.srv.Samples, w.srv.Baseline)
	w.phase = phaseAttack
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.wg.Go(func() { w.err = w.loop(ctx) })
}

func (w *watcher) loop(ctx context.Context) error {
	tick := time.NewTicker(w.cfg.SampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		smp, err := w.sample(ctx, w.getPhase(), false)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		w.srv.Samples = append(w.srv.Samples, smp)
	}
}

// stop ends the sampling goroutine and returns its error.
func (w *watcher) stop() error {
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	w.wg.Wait()
	w.cancel = nil
	return w.err
}

// final samples until goroutines, descriptors and connections are back to
// the baseline or settle passes; each one's final value is the lowest seen.
func (w *watcher) final(ctx context.Context, settle time.Duration) error {
	deadline := time.Now().Add(settle)
	base := w.srv.Baseline
	var fin Sample
	for i := 0; ; i++ {
		smp, err := w.sample(ctx, phaseSettle, true)
		if err != nil {
			return err
		}
		w.srv.Samples = append(w.srv.Samples, smp)
		if i == 0 {
			fin = smp
		} else {
			fin.Snapshot.Goroutines = minKnown(fin.Snapshot.Goroutines, smp.Snapshot.Goroutines)
			fin.Snapshot.FDs = minKnown(fin.Snapshot.FDs, smp.Snapshot.FDs)
			fin.Snapshot.Threads = minKnown(fin.Snapshot.Threads, smp.Snapshot.Threads)
			if smp.Conns != nil && (fin.Conns == nil || smp.ConnCount() < fin.ConnCount()) {
				fin.Conns = smp.Conns
			}
			fin.Snapshot.RSS, fin.Snapshot.Heap, fin.Snapshot.Gauges, fin.Snapshot.Taken =
				smp.Snapshot.RSS, smp.Snapshot.Heap, smp.Snapshot.Gauges, smp.Snapshot.Taken
		}
		settled := fin.Snapshot.Goroutines <= base.Snapshot.Goroutines && fin.Snapshot.FDs <= base.Snapshot.FDs &&
			fin.ConnCount() <= base.ConnCount()
		if settled || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
	fin.Phase = phaseFinal
	fin.T = fin.Snapshot.Taken.Sub(w.origin).Seconds()
	w.srv.Final = fin
	return nil
}

func minKnown(a, b int) int {
	if a < 0 {
		return b
	}
	if b < 0 {
		return a
	}
	return min(a, b)
}

// cpuProbe reads the CPU time of a process (user plus system) from
// /proc/PID/stat; NaN where it cannot.
func cpuProbe(pid int) harness.Probe {
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	return harness.Gauge(GaugeCPU, func() float64 {
		b, err := os.ReadFile(path)
		if err != nil {
			return math.NaN()
		}
		return parseCPU(string(b))
	})
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// parseCPU returns utime+stime (fields 14 and 15 of /proc/PID/stat) in
// seconds, counting fields after the command name's closing parenthesis.
func parseCPU(stat string) float64 {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return math.NaN()
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state): utime is field 14, f[11].
	if len(f) < 13 {
		return math.NaN()
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	s, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return math.NaN()
	}
	return (u + s) / clockTicks
}
