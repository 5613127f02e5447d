package suite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/scenarios"
)

const (
	outputTail    = 4 << 10  // bytes of a process's output kept for errors
	maxLogLine    = 64 << 10 // longer lines are matched in pieces
	waitDelay     = 2 * time.Second
	pidFileLimit  = 64
	readyInterval = 250 * time.Millisecond // the longest pause between readiness checks
)

// declaredRun is one built run of a declared scenario: the service, the
// HTTP client, and the values of the placeholders.
type declaredRun struct {
	dc     *Declared
	tr     *http.Transport
	client *http.Client
	proc   *proc // nil for pid and pid_file
	pid    int
	base   string
	env    []string // of iteration commands
	dir    string   // of iteration commands

	closeOnce sync.Once
	closeErr  error
}

func (dc *Declared) build(env *scenarios.Env) (*scenarios.Run, error) {
	if env == nil || env.Mode != scenarios.Live {
		return nil, fmt.Errorf("declared scenario %s: runs in mode live only", dc.Name)
	}
	r := &declaredRun{dc: dc}
	r.tr = &http.Transport{
		Proxy:               nil, // never a proxy: requests go where the suite says
		DialContext:         dialer(dc.AllowRemote),
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
		TLSHandshakeTimeout: dc.Iteration.Timeout,
	}
	r.client = &http.Client{Transport: r.tr, Timeout: dc.Iteration.Timeout}
	if err := r.start(env); err != nil {
		r.close(context.Background())
		return nil, fmt.Errorf("declared scenario %s: %w", dc.Name, err)
	}
	target := harness.Process(r.pid)
	if dc.MetricsURL != "" {
		target = target.WithMetricsURL(r.expand(dc.MetricsURL))
	}
	if dc.PprofURL != "" {
		target = target.WithPprofURL(r.expand(dc.PprofURL))
		if dc.AllowRemote {
			target = target.AllowRemotePprof()
		}
	}
	opts := []harness.Option{harness.WithTarget(target)}
	for _, m := range sortedKeys(dc.Thresholds) {
		opts = append(opts, harness.WithThreshold(m, dc.Thresholds[m]...))
	}
	return &scenarios.Run{
		Scenario: harness.Scenario{
			Name:     dc.Name,
			Setup:    r.setup,
			Run:      r.iterate,
			Teardown: r.close,
		},
		Options: opts,
	}, nil
}

// dialer returns a DialContext that, unless allowRemote, connects to
// loopback addresses only.
func dialer(allowRemote bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if !allowRemote {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("connect to %s: not a loopback address (allow_remote is false)", address)
			}
			return nil
		}
	}
	return d.DialContext
}

// start starts or finds the process, waits until it is ready, and sets
// the base URL and the iteration commands' environment.
func (r *declaredRun) start(env *scenarios.Env) error {
	dc := r.dc
	ctx, cancel := context.WithTimeout(context.Background(), dc.Ready.Timeout)
	defer cancel()
	r.dir = dc.dir
	var extra []string
	if env.Dir != "" {
		extra = append(extra, "LEAKGATE_DIR="+env.Dir)
	}
	var logBase string
	switch {
	case dc.Spawn != nil:
		if dc.Spawn.Dir != "" {
			r.dir = joinDir(dc.dir, dc.Spawn.Dir)
		}
		for _, k := range sortedKeys(dc.Spawn.Env) {
			extra = append(extra, k+"="+dc.Spawn.Env[k])
		}
		p, err := startProc(dc.Spawn.Command, r.dir, append(os.Environ(), extra...), dc.logRE)
		if err != nil {
			return err
		}
		r.proc, r.pid = p, p.cmd.Process.Pid
		if dc.logRE != nil {
			if logBase, err = p.waitLog(ctx, dc.Ready.Log); err != nil {
				return err
			}
		}
	case dc.PIDFile != "":
		pid, err := readPIDFile(joinDir(dc.dir, dc.PIDFile))
		if err != nil {
			return err
		}
		r.pid = pid
	default:
		r.pid = dc.PID
	}
	if r.proc == nil && !alive(r.pid) {
		return fmt.Errorf("process %d is not running", r.pid)
	}

	r.base = dc.BaseURL
	switch {
	case r.base != "":
	case logBase != "":
		r.base = logBase
	case dc.Ready.URL != "":
		if u, err := parseURL(dc.Ready.URL, true); err == nil {
			r.base = u.Scheme + "://" + u.Host
		}
	}
	r.base = strings.TrimRight(r.base, "/")
	if r.base != "" {
		if _, err := parseURL(r.base, dc.AllowRemote); err != nil {
			return fmt.Errorf("base URL: %w", err)
		}
	}
	for _, u := range []string{dc.Ready.URL, dc.MetricsURL, dc.PprofURL} {
		if u == "" {
			continue
		}
		if _, err := parseURL(r.expand(u), dc.AllowRemote); err != nil {
			return err
		}
	}

	readyURL := dc.Ready.URL
	if readyURL == "" && dc.logRE == nil && dc.Spawn != nil {
		readyURL = dc.MetricsURL
	}
	if readyURL != "" {
		if err := r.waitURL(ctx, r.expand(readyURL)); err != nil {
			return err
		}
	}
	r.env = append(os.Environ(), extra...)
	r.env = append(r.env, "LEAKGATE_BASE="+r.base, "LEAKGATE_PID="+strconv.Itoa(r.pid))
	return nil
}

func joinDir(base, dir string) string {
	if filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(base, dir)
}

func readPIDFile(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("pid_file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, pidFileLimit))
	if err != nil {
		return 0, fmt.Errorf("pid_file %s: %w", path, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid_file %s: want a process id, got %q", path, bytes.TrimSpace(b))
	}
	return pid, nil
}

// alive reports whether a process exists (one we may not signal exists).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// waitURL polls a URL until it answers 2xx, the process exits or ctx ends.
func (r *declaredRun) waitURL(ctx context.Context, u string) error {
	pause := 10 * time.Millisecond
	var last error
	for {
		last = r.probe(ctx, u)
		if last == nil {
			return nil
		}
		if r.proc != nil {
			if err := r.proc.exited(); err != nil {
				return err
			}
		} else if !alive(r.pid) {
			return fmt.Errorf("process %d exited before %s answered", r.pid, u)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("not ready: %s did not answer 2xx within %v: %w", u, r.dc.Ready.Timeout, last)
		case <-t.C:
		}
		pause = min(2*pause, readyInterval)
	}
}

func (r *declaredRun) probe(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxBodySize))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// expand replaces {base} and {pid}.
func (r *declaredRun) expand(s string) string {
	return strings.NewReplacer("{base}", r.base, "{pid}", strconv.Itoa(r.pid)).Replace(s)
}

// setup checks that the service is still there.
func (r *declaredRun) setup(context.Context) error {
	if r.proc != nil {
		return r.proc.exited()
	}
	if !alive(r.pid) {
		return fmt.Errorf("process %d is not running", r.pid)
	}
	return nil
}

// iterate sends the iteration's requests, then runs its command.
func (r *declaredRun) iterate(ctx context.Context, _ int) error {
	for _, q := range r.dc.Iteration.Requests {
		if err := r.request(ctx, q); err != nil {
			return err
		}
	}
	if len(r.dc.Iteration.Command) > 0 {
		return r.command(ctx)
	}
	return nil
}

func (r *declaredRun) request(ctx context.Context, q Request) error {
	u := r.expand(q.URL)
	var body io.Reader
	if q.Body != "" {
		body = strings.NewReader(r.expand(q.Body))
	}
	req, err := http.NewRequestWithContext(ctx, q.Method, u, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", q.Method, u, err)
	}
	for _, k := range sortedKeys(q.Headers) {
		req.Header.Set(k, r.expand(q.Headers[k]))
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", q.Method, u, err)
	}
	defer resp.Body.Close()
	var head bytes.Buffer
	_, err = io.Copy(&head, io.LimitReader(resp.Body, 512))
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxBodySize-512))
	}
	if err != nil {
		return fmt.Errorf("%s %s: read the response: %w", q.Method, u, err)
	}
	if ok := q.Expect == resp.StatusCode || (q.Expect == 0 && resp.StatusCode/100 == 2); !ok {
		want := "2xx"
		if q.Expect != 0 {
			want = strconv.Itoa(q.Expect)
		}
		msg := strings.TrimSpace(head.String())
		if msg != "" {
			msg = ": " + strconv.Quote(msg)
		}
		return fmt.Errorf("%s %s: expected status %s, got %d%s", q.Method, u, want, resp.StatusCode, msg)
	}
	return nil
}

func (r *declaredRun) command(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.dc.Iteration.Timeout)
	defer cancel()
	args := make([]string, len(r.dc.Iteration.Command))
	for i, a := range r.dc.Iteration.Command {
		args[i] = r.expand(a)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir, cmd.Env, cmd.WaitDelay = r.dir, r.env, waitDelay
	out := &tail{max: outputTail}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (timeout %v)", err, r.dc.Iteration.Timeout)
		}
		return fmt.Errorf("iteration command %s: %w%s", args[0], err, out.quoted())
	}
	return nil
}

// close stops the spawned process and closes the HTTP client's
// connections. It is idempotent.
func (r *declaredRun) close(ctx context.Context) error {
	r.closeOnce.Do(func() {
		if r.proc != nil {
			r.closeErr = r.proc.stop(ctx, r.dc.Spawn.StopTimeout)
		}
		r.tr.CloseIdleConnections()
	})
	return r.closeErr
}

// proc is a spawned service: its command, its output, and the goroutine
// that waits for it, which ends when the process has exited and its output
// is read (or waitDelay after the exit).
type proc struct {
	cmd  *exec.Cmd
	out  *logWatch
	done chan struct{} // closed when Wait returned
	err  error         // of Wait, once done is closed

	stopOnce sync.Once
}

func startProc(args []string, dir string, env []string, re *regexp.Regexp) (*proc, error) {
	cmd := exec.Command(args[0], args[1:]...) // not CommandContext: the service outlives the build
	cmd.Dir, cmd.Env, cmd.WaitDelay = dir, env, waitDelay
	setProcAttr(cmd)
	out := &logWatch{re: re, matched: make(chan string, 1), tail: tail{max: outputTail}}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("spawn: %w", err)
	}
	p := &proc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { // ends when the process exits: stop kills it
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited returns an error, with the output's end, if the process has
// exited.
func (p *proc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("spawned process %d exited: %v%s", p.cmd.Process.Pid, p.err, p.out.tail.quoted())
	default:
		return nil
	}
}

// waitLog waits for a line of output that matches the ready regexp and
// returns its first group.
func (p *proc) waitLog(ctx context.Context, expr string) (string, error) {
	select {
	case base := <-p.out.matched:
		return base, nil
	case <-p.done:
		// The line may have come just before the exit.
		select {
		case base := <-p.out.matched:
			return base, nil
		default:
		}
		return "", fmt.Errorf("spawned process %d exited before its output matched %q: %v%s", p.cmd.Process.Pid, expr, p.err, p.out.tail.quoted())
	case <-ctx.Done():
		return "", fmt.Errorf("not ready: no line of output matched %q in time%s", expr, p.out.tail.quoted())
	}
}

// stop sends SIGTERM, waits up to grace (or until ctx ends), then kills,
// and waits for the process to be reaped. A process that was killed is not
// an error: the service is gone either way.
func (p *proc) stop(ctx context.Context, grace time.Duration) error {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			_ = p.cmd.Process.Kill()
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-p.done:
		case <-t.C:
			_ = p.cmd.Process.Kill()
		case <-ctx.Done():
			_ = p.cmd.Process.Kill()
		}
		<-p.done // bounded: the process is gone, and Wait gives its output waitDelay
	})
	return nil
}

// tail keeps the last max bytes written to it. Safe for concurrent use.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

// quoted returns ": output: …" with the kept output, or "".
func (t *tail) quoted() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return ""
	}
	return "; output: " + strconv.Quote(s)
}
