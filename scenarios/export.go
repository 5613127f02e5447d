package scenarios

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/leakgate/leakgate/engine/cli"
	"github.com/leakgate/leakgate/engine/export"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/engine/server"
	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/providers"
)

// Bounds of the export scenarios. Every wait is also cancelled with the
// caller's context.
const (
	// exportJobTimeout bounds one export cycle: trigger, wait for the
	// job, download, delete.
	exportJobTimeout = 30 * time.Second
	// exportPollInterval is the pause between two reads of a job's status.
	exportPollInterval = 2 * time.Millisecond
	// serveStartTimeout bounds the wait for `ffe serve` to print its
	// addresses and answer /readyz.
	serveStartTimeout = 15 * time.Second
	// serveStopTimeout bounds the wait for `ffe serve` to stop after its
	// context is cancelled or it is sent SIGTERM; a process still running
	// then is killed.
	serveStopTimeout = 20 * time.Second
	// serveShutdownGrace is server.shutdown_grace of the served engine:
	// no job runs when the scenario stops the server, so it is short.
	serveShutdownGrace = "5s"
	// maxAPIBody bounds an API answer other than a file download.
	maxAPIBody = server.MaxBodyBytes
	// maxExportFile bounds one downloaded export file.
	maxExportFile = 16 << 20
	// maxOutput bounds what is kept of the server's stdout and stderr.
	maxOutput = 16 << 10
	// fillCycles is how many export cycles Setup runs at once: many more
	// jobs than the server's workers, each polling its status, so that the
	// server opens every connection of its database pool (4; 6 cycles
	// left it at 3 in a third of the runs, 16 reached 4 in every run) and
	// most threads of its file syncs before the harness's baseline.
	fillCycles = 16
	// processThreads bounds the growth of the server process's threads:
	// the runtime may still start a few for blocking file syncs after the
	// fill, and a commit syncs up to 16 files at once.
	processThreads = "delta<=16"
	// processHeap bounds the slope of the server process's heap, read as
	// go_gc_heap_live_bytes, the live heap of the server's latest
	// collection: that moves only when the server collects, and its job
	// history fills up to its retention bound, so over 50 cycles the slope
	// reaches 7 KiB without a leak; a leak of 64 KiB a cycle still fails.
	processHeap = "slope<64KiB"
	// prewarmedThreads is how many idle OS threads the in-process
	// scenario starts in Setup: more than the file syncs of the jobs
	// running at once.
	prewarmedThreads = 32
)

// leakinjectEnv turns faults on in a leakinject build (package
// providers/leakinject); the server process inherits it.
const leakinjectEnv = "LEAKINJECT"

// exportToken is the API token of the servers the scenarios start.
const exportToken = "leakgate-export-scenario-token"

// exportRequest is the body of every trigger: two symbols through two
// providers (Coinbase and OANDA), two months of daily bars, with the
// analytics crew's report. It is small on purpose: a suite runs the cycle
// thousands of times. The equities cost 25 ms of CPU more per symbol and
// cycle, because their provider answers with the whole history whatever
// the range.
var exportRequest = export.Request{
	Symbols: []string{"BTC-USD", "EUR_USD"},
	Range:   "2016-01-04/2016-02-29",
	Crew:    new(true),
}

// exportScenarios lists the export-cycle scenarios.
func exportScenarios() []Scenario {
	return []Scenario{
		{
			Name: "export/in-process",
			Description: "one export cycle against `ffe serve` run in this process (cli.Run): trigger a " +
				"download-tracker job for 2 symbols, poll it to success, download every file and check its " +
				"SHA-256 against the manifest, delete the export",
			Modes: []Mode{Mock, Live},
			Build: buildExportInProcess,
		},
		{
			Name: "export/process",
			Description: "BUG-040's QA check: one export cycle (trigger, wait, download and verify, delete) against " +
				"a separate `ffe serve` process watched by PID and its /metrics; in mock mode the server reads " +
				"ffe's embedded in-process sandbox (no socket to a market), in live mode a loopback sandbox " +
				"served by this process",
			Modes: []Mode{Mock, Live},
			Build: buildExportProcess,
		},
	}
}

// serveEnv is the ffe environment of a server the scenarios start: its
// home, configuration and data under dir, the scenarios' token, no bars
// cache (every job reaches the providers), the crew's memory on with the
// crew/run scenario's bound (BUG-040's crew remembered every job), and a
// short shutdown grace.
func serveEnv(dir string) map[string]string {
	return map[string]string{
		"FFE_SERVER_CREW_MEMORY_ENABLED": "true",
		"FFE_SERVER_CREW_MEMORY_ENTRIES": strconv.Itoa(crewMemoryEntries),
		"HOME":                           dir,
		"XDG_CONFIG_HOME":                filepath.Join(dir, "config"),
		"XDG_DATA_HOME":                  filepath.Join(dir, "share"),
		"XDG_CACHE_HOME":                 filepath.Join(dir, "cache"),
		"FFE_DATA_DIR":                   filepath.Join(dir, "data"),
		"FFE_SERVER_EXPORT_DIR":          filepath.Join(dir, "exports"),
		"FFE_SERVER_TOKEN":               exportToken,
		"FFE_SERVER_SHUTDOWN_GRACE":      serveShutdownGrace,
		"FFE_DATA_BARS_TTL":              "0s",
	}
}

// inProcessExport is `ffe serve` running in a goroutine of this process,
// and the API client of the scenario.
type inProcessExport struct {
	env    *Env
	market *Market
	api    *apiClient
	mem    crewMemoryGauge // read from the admin listener's /metrics

	cancel context.CancelFunc // stops the server
	done   chan int           // its exit code; nil until it is started
	stdout *output
	stderr *output
}

func buildExportInProcess(env *Env) (*Run, error) {
	s := &inProcessExport{env: env}
	return &Run{
		Scenario: harness.Scenario{
			Name:     "export/in-process",
			Setup:    s.setup,
			Run:      s.iteration,
			Teardown: s.teardown,
		},
		Options: append([]harness.Option{
			harness.WithProbes(harness.Unclosed(providers.Unclosed)),
			// A heap point after every cycle: the slope of 50 points tells
			// a retained crew output (~12 KiB a cycle) from the noise of
			// the server's own buffers, which 3 points cannot.
			harness.WithGCBudget(1),
		}, s.mem.options()...),
	}, nil
}

// setup opens the market and starts the server; on failure it releases
// what it acquired, since the harness runs no Teardown after a failed
// Setup.
func (s *inProcessExport) setup(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			err = errors.Join(err, s.teardown(context.WithoutCancel(ctx)))
		}
	}()
	harness.PrewarmThreads(prewarmedThreads)
	if s.market, err = OpenMarket(s.env.Mode); err != nil {
		return err
	}
	vars := serveEnv(s.env.Dir)
	for k, v := range s.market.Env() {
		vars[k] = v
	}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }

	// The server lives until teardown, not until the end of setup's
	// context.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel, s.done = cancel, make(chan int, 1)
	s.stdout, s.stderr = newOutput(false), newOutput(true)
	args := []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}
	opts := []cli.Option{cli.WithEnv(lookup), cli.WithEngineOptions(s.market.EngineOptions()...)}
	go func() { s.done <- cli.Run(sctx, args, strings.NewReader(""), s.stdout, s.stderr, opts...) }()

	base, admin, err := awaitServing(ctx, s.stdout, s.stderr, s.exited, true)
	if err != nil {
		return err
	}
	s.api = newAPIClient(base, exportToken)
	s.mem.metricsURL = admin + "/metrics"
	if err := s.api.awaitReady(ctx, s.exited); err != nil {
		return err
	}
	if err := s.api.fill(ctx); err != nil {
		return err
	}
	if err := s.mem.read(ctx); err != nil {
		return err
	}
	return s.market.Err()
}

// exited returns the server's exit code if it has stopped.
func (s *inProcessExport) exited() (int, bool) {
	select {
	case code := <-s.done:
		s.done <- code
		return code, true
	default:
		return 0, false
	}
}

func (s *inProcessExport) iteration(ctx context.Context, _ int) error {
	err := s.api.exportCycle(ctx)
	if err == nil {
		err = s.mem.read(ctx)
	}
	if err != nil {
		if code, ok := s.exited(); ok {
			err = fmt.Errorf("%w (ffe serve exited with %d: %s)", err, code, s.stderr)
		}
		return err
	}
	return s.market.Err()
}

// teardown stops the server and waits for it, then closes the client and
// the market. It tolerates a partial setup.
func (s *inProcessExport) teardown(ctx context.Context) error {
	var errs []error
	if s.done != nil {
		s.cancel()
		stop := time.NewTimer(serveStopTimeout)
		defer stop.Stop()
		select {
		case code := <-s.done:
			s.done <- code
			if code != cli.ExitOK {
				errs = append(errs, fmt.Errorf("ffe serve exited with %d: %s", code, s.stderr))
			}
		case <-stop.C:
			errs = append(errs, fmt.Errorf("ffe serve did not stop within %s", serveStopTimeout))
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("wait for ffe serve to stop: %w", context.Cause(ctx)))
		}
	}
	if s.api != nil {
		s.api.close()
	}
	if s.mem.client != nil {
		s.mem.client.close()
	}
	if s.market != nil {
		if err := s.market.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close the market: %w", err))
		}
	}
	return errors.Join(errs...)
}

// processExport is `ffe serve` running as a child process, and the API
// client of the scenario.
type processExport struct {
	market  *Market // Live only
	api     *apiClient
	target  harness.Target  // the process, its metrics URL and its pprof index
	mem     crewMemoryGauge // read from the same URL
	cmd     *exec.Cmd
	cancel  context.CancelFunc // sends SIGTERM; exec kills after WaitDelay
	done    chan struct{}      // closed when cmd.Wait returned
	err     error              // cmd.Wait's error, once done is closed
	stdout  *output
	stderr  *output
	once    sync.Once
	stopErr error
}

// buildExportProcess starts the server process: the harness needs its
// PID and metrics URL in the Run's options, before Setup. The Run's
// Teardown stops it, so a caller that builds this scenario must run it.
func buildExportProcess(env *Env) (*Run, error) {
	p, err := startExportProcess(env)
	if err != nil {
		return nil, err
	}
	return p.run(), nil
}

// run is the scenario over the started process.
func (p *processExport) run() *Run {
	return &Run{
		Scenario: harness.Scenario{
			Name:     "export/process",
			Setup:    p.setup,
			Run:      p.iteration,
			Teardown: func(context.Context) error { return p.stop() },
		},
		Options: append([]harness.Option{
			harness.WithTarget(p.target),
			// The server's live heap moves only at its own collections and
			// grows with its bounded job history: the default slope<8KiB
			// would flake (see processHeap).
			harness.WithThreshold(harness.MetricHeap, processHeap),
			// Threads this process cannot start ahead in the server (the
			// in-process scenario does, harness.PrewarmThreads); a thread per
			// iteration still fails.
			harness.WithThreshold(harness.MetricThreads, processThreads),
		}, p.mem.options()...),
	}
}

// startExportProcess starts `ffe serve` as env.Executable's child and
// waits until it is ready. Call stop when done.
func startExportProcess(env *Env) (_ *processExport, err error) {
	if env.Executable == "" {
		return nil, Skip("no executable to run `ffe serve` as a separate process (Env.Executable)")
	}
	p := &processExport{}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.stop())
		}
	}()
	vars := serveEnv(env.Dir)
	if env.Mode == Live {
		if p.market, err = OpenMarket(Live); err != nil {
			return nil, err
		}
		for k, v := range p.market.Env() {
			vars[k] = v
		}
	}
	// Mock mode: ffe's default data source, the sandbox embedded in the
	// server process, which opens no socket.
	adminURL, err := p.start(env.Executable, vars)
	if err != nil {
		return nil, err
	}
	// The admin listener's pprof index: a failing heap names the server's
	// allocation sites that grew.
	p.target = harness.Process(p.cmd.Process.Pid).WithMetricsURL(adminURL + "/metrics").
		WithPprofURL(adminURL + "/debug/pprof/")
	p.mem.metricsURL = p.target.MetricsURL()
	return p, nil
}

// start runs `ffe serve` and waits until it serves; it returns the admin
// listener's URL.
func (p *processExport) start(executable string, vars map[string]string) (string, error) {
	// exec sends SIGTERM when ctx ends (stop), and kills the process if it
	// has not exited WaitDelay later.
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, executable, FFECommand, "serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = serveStopTimeout
	cmd.Env = make([]string, 0, len(vars)+1)
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// A leakinject build's faults are on in the server as they are here.
	if v, ok := os.LookupEnv(leakinjectEnv); ok {
		cmd.Env = append(cmd.Env, leakinjectEnv+"="+v)
	}
	p.stdout, p.stderr = newOutput(false), newOutput(true)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		return "", fmt.Errorf("start %s serve: %w", executable, err)
	}
	p.cmd, p.cancel, p.done = cmd, cancel, make(chan struct{})
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()

	ctx, stop := context.WithTimeout(context.Background(), serveStartTimeout)
	defer stop()
	base, admin, err := awaitServing(ctx, p.stdout, p.stderr, p.exited, true)
	if err != nil {
		return "", err
	}
	p.api = newAPIClient(base, exportToken)
	return admin, p.api.awaitReady(ctx, p.exited)
}

// exited reports whether the process has exited, and its exit code.
func (p *processExport) exited() (int, bool) {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), true
	default:
		return 0, false
	}
}

// setup checks that the server still runs; if not, it releases what
// Build acquired, since the harness runs no Teardown after a failed
// Setup.
func (p *processExport) setup(ctx context.Context) error {
	if code, ok := p.exited(); ok {
		return errors.Join(fmt.Errorf("ffe serve exited with %d before the run: %s", code, p.stderr), p.stop())
	}
	err := p.api.fill(ctx)
	if err == nil {
		err = p.mem.read(ctx)
	}
	if err == nil && p.market != nil {
		err = p.market.Err()
	}
	if err != nil {
		return errors.Join(err, p.stop())
	}
	return nil
}

func (p *processExport) iteration(ctx context.Context, _ int) error {
	err := p.api.exportCycle(ctx)
	if err == nil {
		err = p.mem.read(ctx)
	}
	if err != nil {
		if code, ok := p.exited(); ok {
			err = fmt.Errorf("%w (ffe serve exited with %d: %s)", err, code, p.stderr)
		}
		return err
	}
	if p.market != nil {
		return p.market.Err()
	}
	return nil
}

// stop sends the server SIGTERM, waits for it to exit (exec kills it
// after serveStopTimeout), then closes the client and the market. It is
// idempotent and tolerates a partial start.
func (p *processExport) stop() error {
	p.once.Do(func() {
		var errs []error
		if p.api != nil {
			p.api.close()
		}
		if p.mem.client != nil {
			p.mem.client.close()
		}
		if p.done != nil {
			p.cancel()
			<-p.done // bounded: exec kills the process WaitDelay after the signal
			// After the signal Wait reports the cancellation even when the
			// server exited 0: the exit status is what counts.
			switch st := p.cmd.ProcessState; {
			case st == nil:
				errs = append(errs, fmt.Errorf("wait for ffe serve: %w", p.err))
			case !st.Success():
				errs = append(errs, fmt.Errorf("ffe serve: %s: %s", st, p.stderr))
			}
		}
		if p.market != nil {
			if err := p.market.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close the market: %w", err))
			}
		}
		p.stopErr = errors.Join(errs...)
	})
	return p.stopErr
}

// awaitServing waits until `ffe serve` has printed the API's URL (and,
// with admin, the admin listener's), the server exits, or ctx ends.
func awaitServing(ctx context.Context, stdout, stderr *output, exited func() (int, bool), admin bool) (base, adminURL string, err error) {
	ctx, cancel := context.WithTimeout(ctx, serveStartTimeout)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		for line := range strings.Lines(stdout.String()) {
			line = strings.TrimSpace(line)
			if u, ok := strings.CutPrefix(line, cli.ServingPrefix); ok {
				base = u
			}
			if u, ok := strings.CutPrefix(line, cli.AdminPrefix); ok {
				adminURL, _, _ = strings.Cut(u, " ")
			}
		}
		if base != "" && (!admin || adminURL != "") {
			if err := checkLoopback(base); err != nil {
				return "", "", err
			}
			if admin {
				if err := checkLoopback(adminURL); err != nil {
					return "", "", err
				}
			}
			return base, adminURL, nil
		}
		if code, ok := exited(); ok {
			return "", "", fmt.Errorf("ffe serve exited with %d before serving: %s", code, stderr)
		}
		select {
		case <-ctx.Done():
			return "", "", fmt.Errorf("wait for ffe serve to print its address: %w; stdout: %q, stderr: %s",
				context.Cause(ctx), stdout, stderr)
		case <-tick.C:
		}
	}
}

// checkLoopback refuses a URL whose host is not a loopback address: the
// scenarios send nothing beyond this machine.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("server URL %q: %w", raw, err)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("server URL %q: not a loopback address", raw)
	}
	return nil
}

// crewMemoryGauge is the server's ffe_crew_memory_entries, read from its
// /metrics after Setup and after each cycle: the harness reads only
// go_goroutines and the heap from another process's metrics, and a gauge
// read in the cycle costs no connection of its own in a sample.
type crewMemoryGauge struct {
	metricsURL string
	client     *apiClient // its own transport: one kept connection to the admin listener
	entries    atomic.Int64
}

// options are the gauge, crew_memory_entries, and its threshold: the
// bound of the crew's memory (serveEnv), which the server fills in Setup.
func (g *crewMemoryGauge) options() []harness.Option {
	return []harness.Option{
		harness.WithProbes(harness.Gauge("crew_memory_entries", func() float64 { return float64(g.entries.Load()) })),
		harness.WithThreshold("crew_memory_entries", fmt.Sprintf("max<=%d", crewMemoryEntries)),
	}
}

// read scrapes the server's metrics and stores the crew memory's entries.
func (g *crewMemoryGauge) read(ctx context.Context) error {
	if g.client == nil {
		g.client = newAPIClient(g.metricsURL, "")
	}
	v, err := g.client.scrape(ctx, g.metricsURL, server.MetricCrewMemoryEntries)
	if err != nil {
		return err
	}
	g.entries.Store(int64(v))
	return nil
}

// apiClient is a client of the export API with a transport of its own.
type apiClient struct {
	base  *url.URL
	token string
	tr    *http.Transport
	hc    *http.Client
}

func newAPIClient(base, token string) *apiClient {
	u, _ := url.Parse(base) // checked by awaitServing
	tr := &http.Transport{
		Proxy:               nil, // loopback only, whatever the environment says
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &apiClient{base: u, token: token, tr: tr, hc: &http.Client{Transport: tr, Timeout: exportJobTimeout}}
}

// close closes the client's idle connections.
func (c *apiClient) close() { c.tr.CloseIdleConnections() }

// request sends one request with the token and returns the answer, which
// the caller must close. A path is resolved against the base URL and must
// stay on its host.
func (c *apiClient) request(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	ref, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	u := c.base.ResolveReference(ref)
	if u.Host != c.base.Host {
		return nil, fmt.Errorf("%s %s: not on the server %s", method, path, c.base.Host)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return res, nil
}

// call sends a request that must answer want, and decodes its JSON body
// into v unless v is nil. The body is read within maxAPIBody and closed.
func (c *apiClient) call(ctx context.Context, method, path string, body []byte, want int, v any) error {
	res, err := c.request(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAPIBody+1))
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if len(raw) > maxAPIBody {
		return fmt.Errorf("%s %s: answer larger than %d bytes", method, path, maxAPIBody)
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, bytes.TrimSpace(raw))
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
	}
	return nil
}

// scrape reads the value of an unlabelled metric from the Prometheus text
// at metricsURL, a loopback URL.
func (c *apiClient) scrape(ctx context.Context, metricsURL, name string) (float64, error) {
	if err := checkLoopback(metricsURL); err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", metricsURL, err)
	}
	req.Header.Set("Accept", "text/plain")
	res, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", metricsURL, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAPIBody+1))
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", metricsURL, err)
	}
	if res.StatusCode != http.StatusOK || len(raw) > maxAPIBody {
		return 0, fmt.Errorf("GET %s: status %d, %d bytes", metricsURL, res.StatusCode, len(raw))
	}
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("GET %s: %s: %w", metricsURL, name, err)
			}
			return f, nil
		}
	}
	return 0, fmt.Errorf("GET %s: no %s", metricsURL, name)
}

// awaitReady polls /readyz until it answers 200, the server exits, or ctx
// ends (bounded by serveStartTimeout).
func (c *apiClient) awaitReady(ctx context.Context, exited func() (int, bool)) error {
	ctx, cancel := context.WithTimeout(ctx, serveStartTimeout)
	defer cancel()
	var last error
	for {
		if last = c.call(ctx, http.MethodGet, "/readyz", nil, http.StatusOK, nil); last == nil {
			return nil
		}
		if code, ok := exited(); ok {
			return fmt.Errorf("ffe serve exited with %d before it was ready: %w", code, last)
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return fmt.Errorf("wait for ffe serve to be ready: %w (last: %v)", err, last)
		}
	}
}

// exportCycle runs one export cycle: trigger a download-tracker job, poll
// it to success, read the manifest, download every file and check its
// size and SHA-256, delete the export.
func (c *apiClient) exportCycle(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, exportJobTimeout)
	defer cancel()
	body, err := json.Marshal(exportRequest)
	if err != nil {
		return fmt.Errorf("encode the trigger: %w", err)
	}
	var job server.JobView
	if err := c.call(ctx, http.MethodPost, "/api/jobs/download-tracker/trigger", body, http.StatusAccepted, &job); err != nil {
		return err
	}
	if job.ID == "" {
		return errors.New("trigger: the answer has no job id")
	}
	for !job.Status.Terminal() {
		if err := sleep(ctx, exportPollInterval); err != nil {
			return fmt.Errorf("job %s still %s: %w", job.ID, job.Status, err)
		}
		if err := c.call(ctx, http.MethodGet, "/api/jobs/"+url.PathEscape(job.ID), nil, http.StatusOK, &job); err != nil {
			return err
		}
	}
	if job.Status != jobs.Succeeded {
		return fmt.Errorf("job %s %s: %s", job.ID, job.Status, job.Error)
	}
	exportPath := "/api/exports/" + url.PathEscape(job.ID)
	var ev server.ExportView
	if err := c.call(ctx, http.MethodGet, exportPath, nil, http.StatusOK, &ev); err != nil {
		return err
	}
	if len(ev.Files) == 0 {
		return fmt.Errorf("export %s: the manifest lists no files", job.ID)
	}
	for _, f := range ev.Files {
		if err := c.verify(ctx, f); err != nil {
			return fmt.Errorf("export %s: %w", job.ID, err)
		}
	}
	return c.call(ctx, http.MethodDelete, exportPath, nil, http.StatusNoContent, nil)
}

// fill runs fillCycles export cycles at once. A server grows some of its
// resources on demand and keeps them: its database pool opens a
// connection (two descriptors) when every open one is busy, up to its
// bound, and the Go runtime starts a thread for each file synced while
// the others block, and never ends it. Sequential cycles reach those
// peaks at random moments, which the harness would report as a step of
// growth; a burst before the baseline reaches them at once.
func (c *apiClient) fill(ctx context.Context) error {
	errs := make([]error, fillCycles)
	var wg sync.WaitGroup
	for i := range fillCycles {
		wg.Go(func() { errs[i] = c.exportCycle(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%d export cycles at once: %w", fillCycles, err)
	}
	return nil
}

// verify downloads one file of an export and checks its size and SHA-256
// against the manifest.
func (c *apiClient) verify(ctx context.Context, f server.FileView) error {
	res, err := c.request(ctx, http.MethodGet, f.Href, nil)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
		return fmt.Errorf("GET %s: status %d: %s", f.Href, res.StatusCode, bytes.TrimSpace(msg))
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(res.Body, maxExportFile+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", f.Href, err)
	}
	if n > maxExportFile {
		return fmt.Errorf("file %s: larger than %d bytes", f.Name, maxExportFile)
	}
	if n != f.Size {
		return fmt.Errorf("file %s: %d bytes, the manifest says %d", f.Name, n, f.Size)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != f.SHA256 {
		return fmt.Errorf("file %s: SHA-256 %s, the manifest says %s", f.Name, sum, f.SHA256)
	}
	return nil
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// output is a writer safe for concurrent use that keeps at most
// maxOutput bytes: the first ones (a server's stdout, where it prints its
// addresses), or the last ones (its stderr, for error messages).
type output struct {
	mu   sync.Mutex
	buf  []byte
	tail bool
}

func newOutput(tail bool) *output { return &output{tail: tail} }

// Write implements io.Writer; it never fails.
func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.tail {
		o.buf = append(o.buf, p[:min(len(p), maxOutput-len(o.buf))]...)
		return len(p), nil
	}
	o.buf = append(o.buf, p...)
	if over := len(o.buf) - maxOutput; over > 0 {
		o.buf = o.buf[:copy(o.buf, o.buf[over:])]
	}
	return len(p), nil
}

// String returns what was kept.
func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return string(o.buf)
}
