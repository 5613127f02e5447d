package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/leakgate/leakgate/harness/report"
	"github.com/leakgate/leakgate/scenarios"
	"github.com/leakgate/leakgate/scenarios/suite"
)

// Defaults of the run command.
const (
	DefaultReportDir = "out"
	DefaultFormats   = "text,json,junit,html"
	// logTail is how much of a failed worker's output a case keeps.
	logTail = 8 << 10
	// workerGrace is how long a worker has to write what it measured after
	// it was interrupted, before it is killed.
	workerGrace = 10 * time.Second
)

// defaultParallel is how many workers run at once by default: one per
// CPU. Each measures its own process, so they cannot blame one another.
func defaultParallel() int { return runtime.NumCPU() }

// runFlags are the flags of run and soak.
type runFlags struct {
	suiteRef   string
	names      []string
	mode       string
	iterations int
	warmup     int
	duration   time.Duration
	thresholds []string
	reportDir  string
	formats    string
	shard      string
	parallel   int
}

func (f *runFlags) register(cmd *cobra.Command, defaultSuite string) {
	fl := cmd.Flags()
	fl.StringVar(&f.suiteRef, "suite", defaultSuite, "suite file, or the name of a built-in suite (ci, soak)")
	fl.StringArrayVar(&f.names, "scenario", nil, "run only this scenario (a name or glob such as 'cmd/*'; repeatable)")
	fl.StringVar(&f.mode, "mode", "", "mock, live or both (default: the suite's modes)")
	fl.IntVar(&f.iterations, "iterations", 0, "measured iterations per scenario (default: the suite's)")
	fl.IntVar(&f.warmup, "warmup", -1, "warm-up iterations before the baseline (default: the suite's)")
	fl.DurationVar(&f.duration, "duration", 0, "measure each scenario for this long instead (iterations become a cap)")
	fl.StringArrayVar(&f.thresholds, "threshold", nil, "'metric: expression' replacing the suite's for that metric (repeatable)")
	fl.StringVar(&f.reportDir, "report-dir", DefaultReportDir, "directory the reports are written to")
	fl.StringVar(&f.formats, "format", DefaultFormats, "report formats: "+strings.Join(report.Formats, ","))
	fl.StringVar(&f.shard, "shard", "", "run only part I of N of the scenarios × modes (I/N), for a CI matrix")
	fl.IntVar(&f.parallel, "parallel", defaultParallel(), "worker processes at once")
}

func (a *app) runCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a suite: every scenario × mode in a worker process of its own, then the reports",
		Long: `run replays every scenario the suite selects, in each of its modes, in a worker process
of its own, and writes the reports (text, JSON, JUnit XML, HTML) to --report-dir.

A scenario that does not apply to a mode is left out; one that cannot run here (a real
API without its key) is reported as skipped. A worker that crashes or hangs past the
suite's timeout is an error of its scenario, never of the run.

Exit codes: 0 passed, 1 a threshold failed, 2 usage or suite error, 3 a scenario
errored, 130 interrupted (the reports still hold what was measured).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.run(cmd, f) },
	}
	f.register(cmd, "ci")
	return cmd
}

func (a *app) soakCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "soak",
		Short: "Run the soak suite (100 iterations or --duration, live mode, a server process included)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.run(cmd, f); err != nil {
				return err
			}
			if strings.Contains(f.formats, "html") {
				name, _ := report.FileName(report.FormatHTML)
				p, _ := filepath.Abs(filepath.Join(f.reportDir, name))
				fmt.Fprintf(a.stdout, "HTML report: %s\n", p)
			}
			return nil
		},
	}
	f.register(cmd, "soak")
	return cmd
}

// run is run and soak.
func (a *app) run(cmd *cobra.Command, f runFlags) error {
	st, err := loadSuite(f.suiteRef)
	if err != nil {
		return err
	}
	s := settings{suiteRef: f.suiteRef, iterations: st.Iterations, warmup: st.Warmup, duration: st.Duration,
		settleTimeout: st.SettleTimeout, timeout: st.Timeout, thresholds: map[string][]string{}}
	fl := cmd.Flags()
	if fl.Changed("iterations") {
		if f.iterations < 2 {
			return usageErr(cmd, "--iterations %d: need at least 2 for a slope", f.iterations)
		}
		s.iterations = f.iterations
	}
	if fl.Changed("warmup") {
		if f.warmup < 0 {
			return usageErr(cmd, "--warmup %d: must not be negative", f.warmup)
		}
		s.warmup = f.warmup
	}
	if fl.Changed("duration") {
		if f.duration <= 0 {
			return usageErr(cmd, "--duration %v: must be positive", f.duration)
		}
		s.duration = f.duration
		if !fl.Changed("iterations") {
			s.iterations = 1_000_000 // the duration ends the run
		}
		s.timeout = max(s.timeout, f.duration+suite.DefaultTimeout)
	}
	if err := addThresholdFlags(s.thresholds, f.thresholds); err != nil {
		return usageErr(cmd, "%v", err)
	}
	modes := st.Modes
	if f.mode != "" {
		if modes, err = scenarios.ParseMode(f.mode); err != nil {
			return usageErr(cmd, "--mode: %v", err)
		}
	}
	formats, err := parseFormats(f.formats)
	if err != nil {
		return usageErr(cmd, "--format: %v", err)
	}
	sh, err := parseShard(f.shard)
	if err != nil {
		return usageErr(cmd, "%v", err)
	}
	if f.parallel < 1 {
		return usageErr(cmd, "--parallel %d: need at least 1", f.parallel)
	}
	var scs []scenarios.Scenario
	if len(f.names) > 0 {
		scs, err = selectNamed(st, f.names)
		if err != nil {
			return usageErr(cmd, "%v", err)
		}
	} else if scs, err = st.Scenarios(); err != nil {
		return err
	}
	units := sh.pick(plan(scs, modes))
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program to start workers: %w", err)
	}

	rep := &report.Report{Schema: report.Schema, Suite: st.Name, Started: time.Now()}
	if sh.n > 0 {
		rep.Shards = []string{sh.String()}
	}
	d := newDisplay(a.stderr, len(units))
	ex := &executor{exe: exe, s: s, display: d}
	rep.Cases = ex.runAll(cmd.Context(), units, f.parallel)
	d.close()
	rep.DurationSeconds = time.Since(rep.Started).Seconds()
	rep.Sort()

	if err := a.finish(rep, f.reportDir, formats); err != nil {
		return err
	}
	if cmd.Context().Err() != nil {
		a.code = ExitInterrupted
		return nil
	}
	a.code = rep.ExitCode()
	return nil
}

// selectNamed resolves --scenario patterns against the registry and the
// suite's declared scenarios.
func selectNamed(st *suite.Suite, names []string) ([]scenarios.Scenario, error) {
	all := scenarios.All()
	for _, d := range st.Declared {
		all = append(all, d.Scenario())
	}
	scs, err := scenarios.MatchIn(all, names...)
	if err != nil {
		return nil, fmt.Errorf("--scenario: %w", err)
	}
	return scs, nil
}

// parseFormats reads --format: a comma-separated list of report.Formats.
func parseFormats(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if _, err := report.FileName(f); err != nil {
			return nil, fmt.Errorf("%q: want some of %s", f, strings.Join(report.Formats, ","))
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no format: want some of %s", strings.Join(report.Formats, ","))
	}
	return out, nil
}

// finish writes the report files into dir, then prints the failing cases
// and a summary on stdout.
func (a *app) finish(rep *report.Report, dir string, formats []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report directory: %w", err)
	}
	paths, err := rep.WriteFiles(dir, formats...)
	if err != nil {
		return fmt.Errorf("write the reports: %w", err)
	}
	failing := *rep
	failing.Cases = nil
	for _, c := range rep.Cases {
		if c.Failed() {
			failing.Cases = append(failing.Cases, c)
		}
	}
	if len(failing.Cases) > 0 {
		if err := failing.WriteText(a.stdout); err != nil {
			return err
		}
	}
	counts := rep.Counts()
	var parts []string
	for _, s := range report.Statuses {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	verdict := map[int]string{ExitPass: "PASS", ExitLeak: "LEAK"}[rep.ExitCode()]
	if verdict == "" {
		verdict = "ERROR"
	}
	fmt.Fprintf(a.stdout, "leakgate: %s: %d cases (%s) in %.1fs\nreports: %s\n", verdict, len(rep.Cases),
		strings.Join(parts, ", "), rep.DurationSeconds, strings.Join(paths, " "))
	return nil
}

// executor runs units in worker processes.
type executor struct {
	exe     string
	s       settings
	display *display
}

// runAll runs units, parallel at a time, and returns their cases in the
// order of units. Units not started before ctx ended are cancelled cases.
func (ex *executor) runAll(ctx context.Context, units []unit, parallel int) []report.Case {
	cases := make([]report.Case, len(units))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(parallel, max(len(units), 1)) {
		wg.Go(func() {
			for k := range next {
				cases[k] = ex.runOne(ctx, units[k])
				ex.display.done(units[k], cases[k])
			}
		})
	}
	k := 0
feed:
	for ; k < len(units); k++ {
		select {
		case next <- k:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	for ; k < len(units); k++ {
		cases[k] = report.Case{Scenario: units[k].scenario.Name, Mode: string(units[k].mode),
			Status: report.StatusCancelled, Reason: "not started: the run was interrupted"}
	}
	return cases
}

// runOne runs one unit in a worker process, bounded by the suite's
// timeout. A worker that fails without writing its case becomes an error
// case carrying the tail of its output.
func (ex *executor) runOne(ctx context.Context, u unit) report.Case {
	start := time.Now()
	c := report.Case{Scenario: u.scenario.Name, Mode: string(u.mode)}
	dir, err := os.MkdirTemp("", "leakgate-case-*")
	if err != nil {
		c.Status, c.Reason = report.StatusError, fmt.Sprintf("worker directory: %v", err)
		return c
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "case.json")

	wctx, cancel := context.WithTimeout(ctx, ex.s.timeout)
	defer cancel()
	args := append([]string{"worker", "--scenario", u.scenario.Name, "--mode", string(u.mode), "--out", out}, ex.s.args()...)
	cmd := exec.CommandContext(wctx, ex.exe, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = workerGrace
	var logs tailBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	pr, pw, err := os.Pipe()
	if err != nil {
		c.Status, c.Reason = report.StatusError, fmt.Sprintf("progress pipe: %v", err)
		return c
	}
	cmd.ExtraFiles = []*os.File{pw}
	cmd.Env = append(append(os.Environ(), u.env...), progressFDEnv+"=3")
	ex.display.start(u)
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		c.Status, c.Reason = report.StatusError, fmt.Sprintf("start worker: %v", err)
		return c
	}
	// The progress reader ends when the worker (and anything it left
	// holding the pipe) closes it; Wait's WaitDelay bounds that.
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 0, 4096), 64<<10)
		for sc.Scan() {
			var p progressLine
			if json.Unmarshal(sc.Bytes(), &p) == nil {
				ex.display.progress(u, p)
			}
		}
	}()
	werr := cmd.Wait()
	select {
	case <-progressDone:
	case <-time.After(workerGrace):
		pr.Close()
		<-progressDone
	}

	got, rerr := readCase(out)
	switch {
	case rerr == nil:
		c = got
		if c.Status == report.StatusError || c.Status == report.StatusCancelled {
			c.Log = trimLog(logs.Bytes(), logTail)
		}
	case errors.Is(wctx.Err(), context.DeadlineExceeded):
		c.Status, c.Reason = report.StatusError, fmt.Sprintf("worker timed out after %v (the suite's timeout) and was stopped", ex.s.timeout)
		c.Log = trimLog(logs.Bytes(), logTail)
	case ctx.Err() != nil:
		c.Status, c.Reason = report.StatusCancelled, "interrupted before the worker reported"
		c.Log = trimLog(logs.Bytes(), logTail)
	default:
		c.Status, c.Reason = report.StatusError, fmt.Sprintf("worker failed without a result: %v", errors.Join(werr, rerr))
		c.Log = trimLog(logs.Bytes(), logTail)
	}
	c.DurationSeconds = time.Since(start).Seconds()
	return c
}

// tailBuffer keeps the last bytes written to it, bounded.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*logTail {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-logTail:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.buf...)
}
