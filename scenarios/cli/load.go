package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/leakgate/leakgate/engine/cli"
	"github.com/leakgate/leakgate/engine/server"
	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/harness/load"
)

// Paths of the export API that load drives.
const (
	pathTrigger = "/api/jobs/download-tracker/trigger"
	pathJob     = "/api/jobs/"
	pathExports = "/api/exports/"
)

// DefaultTriggerBody is what each trigger of a load run asks for: a small
// export, so that the server's work per request stays modest.
const DefaultTriggerBody = `{"symbols":["AAPL"],"range":"2016-01-01/2016-03-31"}`

// Files a load run writes to --report-dir.
const (
	loadResultsFile = "load.bin"
	loadBase        = "load"
)

type loadFlags struct {
	rate, pace, amp      string
	slope                float64
	period, duration     time.Duration
	maxRequests          uint64
	workers, maxWorkers  uint64
	connections          int
	timeout              time.Duration
	spawn                string
	pid                  int
	metricsURL           string
	targetURL, targets   string
	mix                  string
	triggerBody, token   string
	shard                string
	thresholds           []string
	drainTimeout, settle time.Duration
	reportDir, results   string
	formats              string
	allowRemote          bool
	name                 string
}

func (a *app) loadCmd() *cobra.Command {
	var f loadFlags
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Drive a server at a rate with vegeta, watch its resources, and judge latency, rate and growth",
		Long: `load drives an HTTP server at a steady or ramping rate (vegeta, as a library) and
watches the server while it does: RSS, CPU time, descriptors, threads, TCP
connections by state, and goroutines and heap from its Prometheus metrics. After
the attack it waits for the server to drain (its export queue empty) and to
settle, takes a final sample and judges the thresholds (see 'Thresholds' in
go doc github.com/leakgate/leakgate/harness/load), by default rate>=99% (requests
sent / requests asked for: latency measured by workers hides a backlog) and
success>=99%, and with a watched server goroutines<=2, fds<=2, conns<=2.

The server: --spawn 'ffe serve [flags]' starts one (this binary's ffe, with a
generated token and its data in a temporary directory), waits until it is
ready, watches it and stops it at the end; or --pid (and --metrics-url) watches
one started elsewhere, in any language. The requests: the export API by
default (--mix trigger=N,status=N,download=N: triggers, then polls and
downloads with the ids the triggers returned), or --target-url URL (GETs), or
--targets FILE (vegeta's http format). Only loopback targets unless
--allow-remote; every run is bounded by --duration and --max-requests.

Several attackers share a load with --shard I/N (each sends 1/N of the rate
and writes its results file); 'leakgate report a.bin b.bin …' merges them.

Outputs: with --report-dir, load.bin (vegeta's results: vegeta report, vegeta
plot), load.txt, load.json, load.junit.xml and load.html; otherwise the text
summary on stdout. Exit codes: 0 passed, 1 a threshold failed, 2 usage, 3 error.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runLoad(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.rate, "rate", "50/s", "requests per time: 100, 100/s, 50/100ms (a ramp's start, a sine's mean)")
	fl.StringVar(&f.pace, "pace", load.PaceConstant, "constant, linear (--slope) or sine (--amp, --period)")
	fl.Float64Var(&f.slope, "slope", 0, "linear: change of rate, requests per second per second")
	fl.StringVar(&f.amp, "amp", "", "sine: amplitude, as a rate")
	fl.DurationVar(&f.period, "period", time.Minute, "sine: period")
	fl.DurationVar(&f.duration, "duration", 10*time.Second, "how long the attack lasts")
	fl.Uint64Var(&f.maxRequests, "max-requests", 1_000_000, "the most requests this attacker sends")
	fl.Uint64Var(&f.workers, "workers", load.DefaultWorkers, "workers at the start")
	fl.Uint64Var(&f.maxWorkers, "max-workers", load.DefaultMaxWorkers, "the most workers")
	fl.IntVar(&f.connections, "connections", load.DefaultConnections, "the most connections to each host")
	fl.DurationVar(&f.timeout, "timeout", load.DefaultTimeout, "per request")
	fl.StringVar(&f.spawn, "spawn", "", "start this server and watch it: 'ffe serve [flags]'")
	fl.IntVar(&f.pid, "pid", 0, "watch the server with this process id")
	fl.StringVar(&f.metricsURL, "metrics-url", "", "its Prometheus metrics (goroutines, heap; the export queue for the drain)")
	fl.StringVar(&f.targetURL, "target-url", "", "GET this URL instead of the export API")
	fl.StringVar(&f.targets, "targets", "", "a vegeta targets file (http format) instead of the export API")
	fl.StringVar(&f.mix, "mix", "trigger=1", "the export API's request mix: trigger=N,status=N,download=N")
	fl.StringVar(&f.triggerBody, "trigger-body", DefaultTriggerBody, "the JSON body of each trigger")
	fl.StringVar(&f.token, "token", "", "the API token (default: $"+server.TokenEnv+", or the spawned server's)")
	fl.StringVar(&f.shard, "shard", "1/1", "this attacker's part I/N of the rate")
	fl.StringArrayVar(&f.thresholds, "threshold", nil, "a threshold such as 'p99<25ms' (repeatable; replaces the default on its name)")
	fl.DurationVar(&f.drainTimeout, "drain-timeout", load.DefaultDrainTimeout, "the longest wait for the export queue to empty")
	fl.DurationVar(&f.settle, "settle", load.DefaultSettle, "the longest wait for the server's counts to come back")
	fl.StringVar(&f.reportDir, "report-dir", "", "write load.bin, load.txt, load.json, load.junit.xml and load.html here")
	fl.StringVar(&f.results, "results", "", "write vegeta's results here (default: REPORT-DIR/load.bin)")
	fl.StringVar(&f.formats, "format", "text,json,junit,html", "report formats in --report-dir")
	fl.BoolVar(&f.allowRemote, "allow-remote", false, "allow targets beyond loopback")
	fl.StringVar(&f.name, "name", "", "the run's name in reports (default: the target)")
	return cmd
}

func (a *app) runLoad(cmd *cobra.Command, f loadFlags) (err error) {
	ctx := cmd.Context()
	cfg, err := f.config(cmd)
	if err != nil {
		return err
	}
	if f.spawn != "" && (f.pid != 0 || f.metricsURL != "") {
		return usageErr(cmd, "--spawn starts the server: leave out --pid and --metrics-url")
	}
	if f.metricsURL != "" && f.pid == 0 {
		return usageErr(cmd, "--metrics-url needs --pid")
	}
	if f.targetURL != "" && f.targets != "" {
		return usageErr(cmd, "--target-url and --targets: pick one")
	}
	if f.metricsURL != "" && !f.allowRemote {
		if err := load.CheckLoopback(f.metricsURL); err != nil {
			return usageErr(cmd, "--metrics-url: %v; pass --allow-remote", err)
		}
	}

	base, token := "", f.token
	if token == "" {
		token = os.Getenv(server.TokenEnv)
	}
	metricsURL := f.metricsURL
	pid := f.pid
	if f.spawn != "" {
		srv, err := spawnFFE(ctx, cmd, f.spawn)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, srv.stop()) }()
		base, metricsURL, pid = srv.base, srv.metrics, srv.cmd.Process.Pid
		if f.token == "" {
			token = srv.token
		}
	}
	if pid != 0 {
		t := harness.Process(pid)
		if metricsURL != "" {
			t = t.WithMetricsURL(metricsURL)
		}
		cfg.Server = &t
	}

	var mix *apiMix
	switch {
	case f.targetURL != "":
		cfg.Targeter = vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: f.targetURL})
		cfg.Name = firstNonEmpty(f.name, f.targetURL)
	case f.targets != "":
		b, err := os.ReadFile(f.targets)
		if err != nil {
			return usageErr(cmd, "--targets: %v", err)
		}
		tgts, err := vegeta.ReadAllTargets(vegeta.NewHTTPTargeter(bytes.NewReader(b), nil, nil))
		if err != nil {
			return usageErr(cmd, "--targets %s: %v", f.targets, err)
		}
		cfg.Targeter = vegeta.NewStaticTargeter(tgts...)
		cfg.Name = firstNonEmpty(f.name, filepath.Base(f.targets))
	default:
		if base == "" {
			return usageErr(cmd, "no target: --spawn 'ffe serve' for the export API, or --target-url, or --targets")
		}
		mix, err = newAPIMix(base, token, f.mix, f.triggerBody)
		if err != nil {
			return usageErr(cmd, "--mix: %v", err)
		}
		cfg.Targeter = mix.targeter
		cfg.OnResult = mix.observe
		cfg.Name = firstNonEmpty(f.name, "export-api")
	}
	if !f.allowRemote {
		cfg.Targeter = load.Loopback(cfg.Targeter)
		if f.targetURL != "" {
			if err := load.CheckLoopback(f.targetURL); err != nil {
				return usageErr(cmd, "%v; pass --allow-remote", err)
			}
		}
	}
	if metricsURL != "" && f.targetURL == "" && f.targets == "" {
		cfg.Drain = queueDrained(metricsURL)
	}

	resultsPath := f.results
	if resultsPath == "" && f.reportDir != "" {
		resultsPath = filepath.Join(f.reportDir, loadResultsFile)
	}
	if resultsPath != "" {
		if err := os.MkdirAll(filepath.Dir(resultsPath), 0o755); err != nil {
			return err
		}
		out, err := os.Create(resultsPath)
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(out, 64<<10)
		defer func() {
			if ferr := bw.Flush(); ferr != nil && err == nil {
				err = ferr
			}
			if cerr := out.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}()
		cfg.Results = bw
	}
	if _, err := load.ParseThresholds(cfg.Thresholds, cfg.Server != nil); err != nil {
		return usageErr(cmd, "--threshold: %v", err)
	}
	cfg.Progress = func(sent uint64, elapsed time.Duration) {
		fmt.Fprintf(a.stderr, "leakgate load: %s, %d requests\n", elapsed.Round(time.Second), sent)
	}
	rep, runErr := load.Run(ctx, cfg)
	if rep == nil {
		return runErr
	}
	if err := a.writeLoad(rep, f.reportDir, f.formats); err != nil {
		return err
	}
	a.code = rep.ExitCode()
	if runErr != nil && errors.Is(runErr, context.Canceled) {
		a.code = ExitInterrupted
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// config builds the load configuration from the flags.
func (f loadFlags) config(cmd *cobra.Command) (load.Config, error) {
	rate, err := load.ParseRate(f.rate)
	if err != nil {
		return load.Config{}, usageErr(cmd, "--rate: %v", err)
	}
	pace := load.Pace{Kind: f.pace, Rate: rate, Slope: f.slope, Period: f.period}
	if f.pace == load.PaceSine {
		if f.amp == "" {
			return load.Config{}, usageErr(cmd, "--pace sine needs --amp")
		}
		if pace.Amp, err = load.ParseRate(f.amp); err != nil {
			return load.Config{}, usageErr(cmd, "--amp: %v", err)
		}
	}
	shard, err := load.ParseShard(f.shard)
	if err != nil {
		return load.Config{}, usageErr(cmd, "--shard: %v", err)
	}
	if f.duration <= 0 || f.maxRequests == 0 {
		return load.Config{}, usageErr(cmd, "--duration and --max-requests must be positive: every load is bounded")
	}
	if _, err := pace.Shard(shard.N).Pacer(); err != nil {
		return load.Config{}, usageErr(cmd, "%v", err)
	}
	if f.workers == 0 || f.maxWorkers < f.workers || f.connections <= 0 {
		return load.Config{}, usageErr(cmd, "--workers, --max-workers and --connections must be positive, max-workers at least workers")
	}
	return load.Config{
		Pace: pace, Shard: shard, Duration: f.duration, MaxRequests: f.maxRequests,
		Workers: f.workers, MaxWorkers: f.maxWorkers, Connections: f.connections, Timeout: f.timeout,
		Thresholds: f.thresholds, DrainTimeout: f.drainTimeout, Settle: f.settle,
	}, nil
}

// writeLoad prints the text summary, and writes the formats asked for to
// dir.
func (a *app) writeLoad(rep *load.Report, dir, formats string) error {
	if err := rep.WriteText(a.stdout); err != nil {
		return err
	}
	if dir == "" {
		return nil
	}
	writers := map[string]struct {
		ext   string
		write func(io.Writer) error
	}{
		"text":  {".txt", rep.WriteText},
		"json":  {".json", rep.WriteJSON},
		"junit": {".junit.xml", rep.WriteJUnit},
		"html":  {".html", rep.WriteHTML},
	}
	for _, name := range strings.Split(formats, ",") {
		wr, ok := writers[strings.TrimSpace(name)]
		if !ok {
			return &usageError{err: fmt.Errorf("--format: unknown format %q (want text, json, junit, html)", name)}
		}
		var buf bytes.Buffer
		if err := wr.write(&buf); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, loadBase+wr.ext), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// apiMix is the export API's request mix: triggers, then status polls and
// downloads of the jobs the triggers created.
type apiMix struct {
	base, auth, body, file string
	weights                [3]int // trigger, status, download
	total                  int

	mu   sync.Mutex
	n    int
	ids  []string // jobs the triggers created
	done []string // jobs a poll saw succeed
}

func newAPIMix(base, token, spec, body string) (*apiMix, error) {
	m := &apiMix{base: base, auth: "Bearer " + token, body: body}
	var req struct {
		Symbols []string `json:"symbols"`
	}
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		return nil, fmt.Errorf("--trigger-body: %w", err)
	}
	m.file = "AAPL.csv"
	if len(req.Symbols) > 0 {
		m.file = req.Symbols[0] + ".csv"
	}
	for part := range strings.SplitSeq(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("%q: want NAME=WEIGHT", part)
		}
		switch k {
		case "trigger":
			m.weights[0] = n
		case "status":
			m.weights[1] = n
		case "download":
			m.weights[2] = n
		default:
			return nil, fmt.Errorf("%q: want trigger, status or download", k)
		}
	}
	m.total = m.weights[0] + m.weights[1] + m.weights[2]
	if m.weights[0] == 0 {
		return nil, errors.New("the mix needs triggers: status polls and downloads use the ids they return")
	}
	return m, nil
}

// targeter gives the next request of the mix, in turn by weight; before
// any trigger has returned an id, and for downloads before a poll has seen
// a job succeed, it falls back to a trigger or a poll.
func (m *apiMix) targeter(t *vegeta.Target) error {
	m.mu.Lock()
	slot := m.n % m.total
	m.n++
	kind := 0
	switch {
	case slot >= m.weights[0]+m.weights[1]:
		kind = 2
	case slot >= m.weights[0]:
		kind = 1
	}
	if kind == 2 && len(m.done) == 0 {
		kind = 1
	}
	if kind == 1 && len(m.ids) == 0 {
		kind = 0
	}
	var id string
	switch kind {
	case 1:
		id = m.ids[m.n%len(m.ids)]
	case 2:
		id = m.done[m.n%len(m.done)]
	}
	m.mu.Unlock()
	t.Header = http.Header{"Authorization": {m.auth}}
	switch kind {
	case 0:
		t.Method, t.URL, t.Body = http.MethodPost, m.base+pathTrigger, []byte(m.body)
		t.Header.Set("Content-Type", "application/json")
	case 1:
		t.Method, t.URL, t.Body = http.MethodGet, m.base+pathJob+id, nil
	case 2:
		t.Method, t.URL, t.Body = http.MethodGet, m.base+pathExports+id+"/files/"+m.file, nil
	}
	return nil
}

// observe takes job ids out of trigger responses and finished jobs out of
// polls.
func (m *apiMix) observe(r *vegeta.Result) {
	if r.Code != http.StatusAccepted && r.Code != http.StatusOK {
		return
	}
	isTrigger := strings.HasSuffix(r.URL, pathTrigger)
	if !isTrigger && !strings.Contains(r.URL, pathJob) {
		return
	}
	var v struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if json.Unmarshal(r.Body, &v) != nil || v.ID == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case isTrigger && len(m.ids) < 10_000:
		m.ids = append(m.ids, v.ID)
	case !isTrigger && v.Status == "succeeded" && len(m.done) < 10_000:
		m.done = append(m.done, v.ID)
	}
}

// queueDrained reports done when the export queue is empty and no job
// runs, from the server's metrics. Its client keeps no connection, so the
// server's counts can return to their baseline.
func queueDrained(metricsURL string) func(context.Context) (bool, error) {
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	return func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
		if err != nil {
			return false, err
		}
		res, err := hc.Do(req)
		if err != nil {
			return false, err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return false, fmt.Errorf("GET %s: %s", metricsURL, res.Status)
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
		if err != nil {
			return false, err
		}
		depth, okDepth := promValue(body, "ffe_export_queue_depth")
		running, okRunning := promValue(body, "ffe_export_jobs_running")
		if !okDepth && !okRunning {
			return true, nil // no queue to drain
		}
		return depth+running == 0, nil
	}
}

// promValue sums the samples of a metric in Prometheus text.
func promValue(body []byte, name string) (float64, bool) {
	sum, found := 0.0, false
	for line := range strings.Lines(string(body)) {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		fields := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil || math.IsNaN(v) {
			continue
		}
		sum, found = sum+v, true
	}
	return sum, found
}

// spawned is an `ffe serve` that load started.
type spawned struct {
	cmd           *exec.Cmd
	base, metrics string
	token         string
	dir           string
	done          chan struct{}
	stdout        *lineBuffer
	stderr        *lineBuffer
	once          sync.Once
	err           error
}

// spawnFFE starts `ffe serve` (this executable's ffe command) with a
// generated token and its data in a temporary directory, and waits until
// it serves and is ready.
func spawnFFE(ctx context.Context, cmd *cobra.Command, spec string) (*spawned, error) {
	args := strings.Fields(spec)
	if len(args) < 2 || args[0] != "ffe" || args[1] != "serve" {
		return nil, usageErr(cmd, "--spawn %q: only 'ffe serve [flags]' can be spawned; start another server yourself and pass --pid", spec)
	}
	has := func(flag string) bool {
		for _, a := range args {
			if a == flag || strings.HasPrefix(a, flag+"=") {
				return true
			}
		}
		return false
	}
	if !has("--addr") {
		args = append(args, "--addr", "127.0.0.1:0")
	}
	if !has("--admin-addr") {
		args = append(args, "--admin-addr", "127.0.0.1:0")
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("spawn ffe serve: %w", err)
	}
	dir, err := os.MkdirTemp("", "leakgate-load-")
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	s := &spawned{token: hex.EncodeToString(tok), dir: dir, done: make(chan struct{}),
		stdout: &lineBuffer{}, stderr: &lineBuffer{}}
	c := exec.Command(exe, args...)
	c.Env = append(os.Environ(),
		server.TokenEnv+"="+s.token,
		"HOME="+dir,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_DATA_HOME="+filepath.Join(dir, "share"),
		"XDG_CACHE_HOME="+filepath.Join(dir, "cache"),
		"FFE_DATA_DIR="+filepath.Join(dir, "data"),
		"FFE_SERVER_EXPORT_DIR="+filepath.Join(dir, "exports"),
	)
	c.Stdout, c.Stderr = s.stdout, s.stderr
	if err := c.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("spawn ffe serve: %w", err)
	}
	s.cmd = c
	go func() { // ends when the process does; stop waits for it
		s.err = c.Wait()
		close(s.done)
	}()
	if err := s.await(ctx); err != nil {
		return nil, errors.Join(err, s.stop())
	}
	return s, nil
}

// await waits for the serving and admin lines, then for /readyz.
func (s *spawned) await(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	for {
		if s.base == "" || s.metrics == "" {
			for line := range strings.Lines(s.stdout.String()) {
				line = strings.TrimSpace(line)
				if u, ok := strings.CutPrefix(line, cli.ServingPrefix); ok {
					s.base, _, _ = strings.Cut(u, " ")
				}
				if u, ok := strings.CutPrefix(line, cli.AdminPrefix); ok {
					u, _, _ = strings.Cut(u, " ")
					s.metrics = u + "/metrics"
				}
			}
		}
		if s.base != "" && s.metrics != "" {
			if err := load.CheckLoopback(s.base); err != nil {
				return err
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/readyz", nil)
			if res, err := hc.Do(req); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("ffe serve exited before it was ready: %v: %s", s.err, s.stderr.String())
		case <-ctx.Done():
			return fmt.Errorf("ffe serve: not ready: %w; stderr: %s", context.Cause(ctx), s.stderr.String())
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM, waits up to 15s (then kills), and removes the data.
func (s *spawned) stop() error {
	var err error
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
			err = errors.New("ffe serve did not stop within 15s of SIGTERM; killed")
		}
		if st := s.cmd.ProcessState; err == nil && st != nil && !st.Success() {
			err = fmt.Errorf("ffe serve: %s: %s", st, s.stderr.String())
		}
		err = errors.Join(err, os.RemoveAll(s.dir))
	})
	return err
}

// lineBuffer is a process's output, safe to read while it is written; it
// keeps the last 64 KiB.
type lineBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > 64<<10 {
		b.buf = b.buf[len(b.buf)-64<<10:]
	}
	return len(p), nil
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// loadArgs reports whether report's arguments are results files rather
// than JSON reports: any file that does not start with '{'.
func loadArgs(args []string) bool {
	for _, p := range args {
		f, err := os.Open(p)
		if err != nil {
			return false // report's own path names the error
		}
		var b [1]byte
		n, _ := io.ReadFull(bufio.NewReader(f), b[:])
		f.Close()
		if n == 1 && b[0] != '{' && b[0] != ' ' && b[0] != '\n' {
			return true
		}
	}
	return false
}

// mergeLoad merges attackers' results files into one load report.
func (a *app) mergeLoad(cmd *cobra.Command, args, thresholds []string, dir, formats string) error {
	var files []*load.Results
	for _, p := range args {
		f, err := os.Open(p)
		if err != nil {
			return usageErr(cmd, "%v", err)
		}
		res, err := load.ReadResults(bufio.NewReaderSize(f, 64<<10))
		f.Close()
		if err != nil {
			return usageErr(cmd, "%s: %v", p, err)
		}
		files = append(files, res)
	}
	rep, err := load.Merge("merged", thresholds, files...)
	if err != nil {
		return usageErr(cmd, "%v", err)
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if err := a.writeLoad(rep, dir, formats); err != nil {
		return err
	}
	a.code = rep.ExitCode()
	return nil
}
