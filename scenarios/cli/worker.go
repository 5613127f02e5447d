package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/leakgate/leakgate/engine/cli"
	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/harness/report"
	"github.com/leakgate/leakgate/scenarios"
	"github.com/leakgate/leakgate/scenarios/suite"
)

// teardownTimeout bounds the Teardown a worker runs itself when the
// harness refused the run's options.
const teardownTimeout = 30 * time.Second

// progressFDEnv names the environment variable that gives a worker the
// descriptor its progress lines go to.
const progressFDEnv = "LEAKGATE_PROGRESS_FD"

// progressLine is one line a worker writes per progress report.
type progressLine struct {
	Phase   string             `json:"phase"`
	I       int                `json:"i"`
	Of      int                `json:"of"`
	Elapsed float64            `json:"elapsed"`
	Delta   map[string]float64 `json:"delta,omitempty"`
}

// workerCmd runs one scenario in one mode in this process and writes the
// case to --out. The parent run starts one per unit, so that a scenario's
// leak can neither hide in another's nor be blamed on it.
func (a *app) workerCmd() *cobra.Command {
	var (
		s              settings
		name, mode     string
		out            string
		thresholdFlags []string
	)
	cmd := &cobra.Command{
		Use:    "worker --scenario NAME --mode MODE --out FILE",
		Short:  "Run one scenario in one mode (started by leakgate run)",
		Hidden: true,
		Args:   noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" || out == "" {
				return usageErr(cmd, "worker needs --scenario and --out")
			}
			s.thresholds = map[string][]string{}
			if err := addThresholdFlags(s.thresholds, thresholdFlags); err != nil {
				return usageErr(cmd, "%v", err)
			}
			c := a.work(cmd.Context(), s, name, scenarios.Mode(mode))
			return writeCase(out, c)
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.suiteRef, "suite", "ci", "suite file or built-in name, for declared scenarios")
	f.StringVar(&name, "scenario", "", "scenario name")
	f.StringVar(&mode, "mode", string(scenarios.Mock), "mode: mock or live")
	f.IntVar(&s.iterations, "iterations", harness.DefaultIterations, "measured iterations")
	f.IntVar(&s.warmup, "warmup", harness.DefaultWarmup, "warm-up iterations")
	f.DurationVar(&s.settleTimeout, "settle-timeout", harness.DefaultSettleTimeout, "settle timeout")
	f.DurationVar(&s.duration, "duration", 0, "measure until this much time has passed")
	f.StringArrayVar(&thresholdFlags, "threshold", nil, "metric: expression")
	f.StringVar(&out, "out", "", "file the case is written to, as JSON")
	return cmd
}

// work builds and runs one unit and returns its case; it never fails: a
// problem is the case's error.
func (a *app) work(ctx context.Context, s settings, name string, mode scenarios.Mode) report.Case {
	start := time.Now()
	c := report.Case{Scenario: name, Mode: string(mode)}
	fail := func(st report.Status, err error) report.Case {
		c.Status, c.Reason = st, err.Error()
		c.DurationSeconds = time.Since(start).Seconds()
		return c
	}
	st, err := loadSuite(s.suiteRef)
	if err != nil {
		return fail(report.StatusError, err)
	}
	sc, err := findScenario(st, name)
	if err != nil {
		return fail(report.StatusError, err)
	}
	if !sc.Applies(mode) {
		return fail(report.StatusError, fmt.Errorf("scenario %s does not run in mode %q", name, mode))
	}
	dir, err := os.MkdirTemp("", "leakgate-*")
	if err != nil {
		return fail(report.StatusError, fmt.Errorf("scenario directory: %w", err))
	}
	defer os.RemoveAll(dir)
	exe, _ := os.Executable()
	env := &scenarios.Env{Mode: mode, Dir: dir, LookupEnv: os.LookupEnv, Executable: exe}
	run, err := sc.Build(env)
	if errors.Is(err, scenarios.ErrSkipped) {
		return fail(report.StatusSkipped, err)
	}
	if err != nil {
		return fail(report.StatusError, fmt.Errorf("build: %w", err))
	}
	progress := progressWriter()
	if progress != nil {
		defer progress.Close()
	}
	opts := append(st.RunOptions(name, run), s.harnessOptions(progressFunc(progress))...)
	res, err := harness.Run(ctx, run.Scenario, opts...)
	if res == nil {
		// Invalid options: Run did not start, so Teardown did not run
		// either; Build may have started a process.
		if run.Scenario.Teardown != nil {
			tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
			defer cancel()
			err = errors.Join(err, run.Scenario.Teardown(tctx))
		}
		return fail(report.StatusError, err)
	}
	c.Result = res
	c.Status = report.Status(res.Status)
	c.Reason = res.Error
	c.DurationSeconds = time.Since(start).Seconds()
	return c
}

// findScenario looks name up among the registered scenarios, then among
// the suite's declared ones.
func findScenario(st *suite.Suite, name string) (scenarios.Scenario, error) {
	if sc, ok := scenarios.Lookup(name); ok {
		return sc, nil
	}
	for _, d := range st.Declared {
		if d.Name == name {
			return d.Scenario(), nil
		}
	}
	return scenarios.Scenario{}, fmt.Errorf("scenario %q: no such scenario in the registry or suite %s", name, st.File)
}

// progressWriter returns the progress descriptor the parent passed, or nil.
func progressWriter() *os.File {
	fd, err := strconv.Atoi(os.Getenv(progressFDEnv))
	if err != nil || fd < 3 {
		return nil
	}
	return os.NewFile(uintptr(fd), "progress")
}

// progressFunc writes each progress report to w as a JSON line.
func progressFunc(w io.Writer) func(harness.Progress) {
	if w == nil {
		return nil
	}
	enc := json.NewEncoder(w)
	return func(p harness.Progress) {
		_ = enc.Encode(progressLine{Phase: p.Phase, I: p.Iteration, Of: p.Of, Elapsed: p.Elapsed.Seconds(), Delta: p.Delta})
	}
}

// writeCase writes c to path as JSON, through a temporary file renamed
// into place, so that the parent never reads half a case.
func writeCase(path string, c report.Case) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode case: %w", err)
	}
	return writeFileAtomic(path, b)
}

// readCase reads a case a worker wrote.
func readCase(path string) (report.Case, error) {
	var c report.Case
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("decode case %s: %w", path, err)
	}
	return c, nil
}

// ffeCmd runs the ffe CLI with the rest of the arguments: how scenarios
// start `ffe serve` as a separate process (scenarios.FFECommand) without a
// second binary.
func (a *app) ffeCmd() *cobra.Command {
	return &cobra.Command{
		Use:                scenarios.FFECommand + " [ffe arguments]",
		Short:              "Run the ffe CLI (used by scenarios that need a separate ffe process)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			a.code = cli.Run(cmd.Context(), args, a.stdin, a.stdout, a.stderr)
			return nil
		},
	}
}

// trimLog keeps the last n bytes of a worker's output, from a line start.
func trimLog(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	b = b[len(b)-n:]
	if i := strings.IndexByte(string(b), '\n'); i >= 0 && i < len(b)-1 {
		b = b[i+1:]
	}
	return "…\n" + string(b)
}
