package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/leakgate/leakgate/harness/report"
	"github.com/leakgate/leakgate/providers/leakinject"
	"github.com/leakgate/leakgate/scenarios"
	"github.com/leakgate/leakgate/scenarios/selftest"
)

// Outcomes of one fault in one scenario and mode.
const (
	OutcomeCaught      = "caught"       // an expected metric failed
	OutcomeMissed      = "MISSED"       // every threshold held
	OutcomeWrongMetric = "wrong-metric" // caught, but only by metrics not expected
	OutcomeError       = "error"        // the scenario errored: no verdict
	OutcomeNA          = "n/a"          // the fault does not apply in this mode
)

// SelftestSchema identifies the self-test's JSON document.
const SelftestSchema = "leakgate.selftest/v1"

// Selftest is the self-test's outcome: the detection matrix and the clean
// runs. It is written as selftest.json and selftest.md.
type Selftest struct {
	Schema          string      `json:"schema"`
	Started         time.Time   `json:"started"`
	DurationSeconds float64     `json:"duration_seconds"`
	Iterations      int         `json:"iterations"`
	Warmup          int         `json:"warmup"`
	Matrix          []Detection `json:"matrix"`
	Clean           []CleanRun  `json:"clean"`
	Passed          bool        `json:"passed"`
}

// Detection is one cell of the matrix: a fault in one scenario and mode.
type Detection struct {
	Fault    string   `json:"fault"`
	Scenario string   `json:"scenario"`
	Mode     string   `json:"mode"`
	Outcome  string   `json:"outcome"`
	Expected []string `json:"expected,omitempty"`
	// CaughtBy lists every metric that failed; FirstFail is the earliest
	// measured iteration after which an expected one failed.
	CaughtBy  []string `json:"caught_by,omitempty"`
	FirstFail int      `json:"first_fail,omitempty"`
	Reason    string   `json:"reason,omitempty"` // n/a's reason, or the error
	Seconds   float64  `json:"seconds"`
}

// CleanRun is one run of the clean build (no fault) over one scenario and
// mode.
type CleanRun struct {
	Scenario string  `json:"scenario"`
	Mode     string  `json:"mode"`
	Run      int     `json:"run"`
	Status   string  `json:"status"`
	Failing  string  `json:"failing,omitempty"` // the metrics that failed, or the error
	Seconds  float64 `json:"seconds"`
}

func (a *app) selftestCmd() *cobra.Command {
	var (
		iterations, warmup, parallel, cleanRuns int
		dir                                     string
		only                                    []string
	)
	cmd := &cobra.Command{
		Use:   "selftest",
		Short: "Prove the gate: each known leak (leakinject build) is caught, and the clean build passes",
		Long: `selftest runs, for each known leak of the leakinject build, the scenarios that exercise
it with the fault turned on (LEAKINJECT), in every mode where it applies, with the
default thresholds, and records which metric caught it and after how many iterations;
then it runs the clean build over the same scenarios. It prints the detection matrix
and writes selftest.json and selftest.md to --report-dir.

It exits 1 if a fault is missed where it applies, caught only by a metric other than
the expected one, or errors, or if a clean run fails. A normal build has no faults:
build leakgate with -tags leakinject (make selftest).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			faults := selftest.Faults()
			if !leakinject.Enabled || len(faults) == 0 {
				return usageErr(cmd, "this leakgate has no known leaks built in: build it with -tags leakinject (make selftest)")
			}
			if len(only) > 0 {
				var err error
				if faults, err = pickFaults(faults, only); err != nil {
					return usageErr(cmd, "%v", err)
				}
			}
			if iterations < 2 || warmup < 0 || parallel < 1 || cleanRuns < 1 {
				return usageErr(cmd, "--iterations must be at least 2, --warmup at least 0, --parallel and --clean-runs at least 1")
			}
			st, err := loadSuite("ci")
			if err != nil {
				return err
			}
			s := settings{suiteRef: "ci", iterations: iterations, warmup: warmup, settleTimeout: st.SettleTimeout,
				timeout: st.Timeout, thresholds: map[string][]string{}}
			return a.selftest(cmd, s, faults, cleanRuns, parallel, dir)
		},
	}
	f := cmd.Flags()
	f.IntVar(&iterations, "iterations", 50, "measured iterations per case (the ci suite's)")
	f.IntVar(&warmup, "warmup", 5, "warm-up iterations per case (the ci suite's)")
	f.IntVar(&cleanRuns, "clean-runs", 1, "times the clean build runs every scenario × mode of the matrix")
	f.IntVar(&parallel, "parallel", defaultParallel(), "worker processes at once")
	f.StringVar(&dir, "report-dir", DefaultReportDir, "directory selftest.json and selftest.md are written to")
	f.StringArrayVar(&only, "fault", nil, "run only this fault (repeatable)")
	return cmd
}

// pickFaults keeps the faults named.
func pickFaults(all []selftest.Fault, names []string) ([]selftest.Fault, error) {
	var out []selftest.Fault
	for _, n := range names {
		i := slices.IndexFunc(all, func(f selftest.Fault) bool { return f.Name == n })
		if i < 0 {
			known := make([]string, len(all))
			for k, f := range all {
				known[k] = f.Name
			}
			return nil, fmt.Errorf("--fault %q: no such fault (known: %s)", n, strings.Join(known, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// matrixCell is a planned cell: the unit to run, or n/a.
type matrixCell struct {
	fault  selftest.Fault
	fcase  selftest.Case
	mode   scenarios.Mode
	unit   int // index into the units, -1 for n/a
	reason string
}

func (a *app) selftest(cmd *cobra.Command, s settings, faults []selftest.Fault, cleanRuns, parallel int, dir string) error {
	var cells []matrixCell
	var units []unit
	type key struct {
		name string
		mode scenarios.Mode
	}
	var clean []key
	seen := map[key]bool{}
	for _, f := range faults {
		if _, err := leakinject.Parse(f.Name); err != nil {
			return fmt.Errorf("the self-test's table names an unknown fault: %w", err)
		}
		for _, c := range f.Cases {
			sc, ok := scenarios.Lookup(c.Scenario)
			if !ok {
				return fmt.Errorf("fault %s: scenario %q is not registered", f.Name, c.Scenario)
			}
			for _, m := range sc.Modes {
				if !slices.Contains(c.Modes, m) {
					cells = append(cells, matrixCell{fault: f, fcase: c, mode: m, unit: -1, reason: c.NA})
					continue
				}
				cells = append(cells, matrixCell{fault: f, fcase: c, mode: m, unit: len(units)})
				units = append(units, unit{scenario: sc, mode: m, env: []string{"LEAKINJECT=" + f.Name}, tag: "+" + f.Name})
				if k := (key{sc.Name, m}); !seen[k] {
					seen[k] = true
					clean = append(clean, k)
				}
			}
			for _, m := range c.Modes {
				if !sc.Applies(m) {
					return fmt.Errorf("fault %s: scenario %s does not run in mode %s", f.Name, c.Scenario, m)
				}
			}
		}
	}
	firstClean := len(units)
	for run := 1; run <= cleanRuns; run++ {
		for _, k := range clean {
			sc, _ := scenarios.Lookup(k.name)
			units = append(units, unit{scenario: sc, mode: k.mode, env: []string{"LEAKINJECT="}, tag: fmt.Sprintf("clean #%d", run)})
		}
	}

	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program to start workers: %w", err)
	}
	out := &Selftest{Schema: SelftestSchema, Started: time.Now(), Iterations: s.iterations, Warmup: s.warmup,
		Matrix: []Detection{}, Clean: []CleanRun{}, Passed: true}
	d := newDisplay(a.stderr, len(units))
	cases := (&executor{exe: exe, s: s, display: d}).runAll(cmd.Context(), units, parallel)
	d.close()
	out.DurationSeconds = time.Since(out.Started).Seconds()

	for _, cell := range cells {
		det := Detection{Fault: cell.fault.Name, Scenario: cell.fcase.Scenario, Mode: string(cell.mode),
			Expected: cell.fcase.Metrics}
		if cell.unit < 0 {
			det.Outcome, det.Reason = OutcomeNA, cell.reason
		} else {
			det = judge(det, cases[cell.unit])
			if det.Outcome != OutcomeCaught {
				out.Passed = false
			}
		}
		out.Matrix = append(out.Matrix, det)
	}
	for k, c := range cases[firstClean:] {
		r := CleanRun{Scenario: c.Scenario, Mode: c.Mode, Run: k/max(len(clean), 1) + 1, Status: string(c.Status),
			Seconds: c.DurationSeconds}
		if c.Status != report.StatusPass {
			out.Passed = false
			r.Failing = strings.Join(failingMetrics(c), ", ")
			if r.Failing == "" {
				r.Failing = c.Reason
			}
		}
		out.Clean = append(out.Clean, r)
	}

	if err := out.writeText(a.stdout); err != nil {
		return err
	}
	if err := out.writeFiles(dir); err != nil {
		return err
	}
	switch {
	case cmd.Context().Err() != nil:
		a.code = ExitInterrupted
	case !out.Passed:
		a.code = ExitLeak
	}
	return nil
}

// judge fills a detection from the case that ran with the fault on.
func judge(det Detection, c report.Case) Detection {
	det.Seconds = c.DurationSeconds
	switch c.Status {
	case report.StatusPass:
		det.Outcome = OutcomeMissed
		return det
	case report.StatusLeak:
	default:
		det.Outcome, det.Reason = OutcomeError, firstLine(c.Reason)
		return det
	}
	det.CaughtBy = failingMetrics(c)
	det.Outcome = OutcomeWrongMetric
	for _, m := range c.Result.Metrics {
		if m.FirstFail > 0 && slices.Contains(det.Expected, m.Name) {
			det.Outcome = OutcomeCaught
			if det.FirstFail == 0 || m.FirstFail < det.FirstFail {
				det.FirstFail = m.FirstFail
			}
		}
	}
	return det
}

// failingMetrics lists the metrics of a case whose thresholds failed.
func failingMetrics(c report.Case) []string {
	if c.Result == nil {
		return nil
	}
	var out []string
	for _, m := range c.Result.Metrics {
		if m.Verdict == "fail" {
			out = append(out, m.Name)
		}
	}
	return out
}

// cellText is a detection as the matrix shows it.
func (d Detection) cellText() string {
	switch d.Outcome {
	case OutcomeCaught:
		return fmt.Sprintf("%s @%d", strings.Join(d.CaughtBy, "+"), d.FirstFail)
	case OutcomeWrongMetric:
		return "WRONG METRIC: " + strings.Join(d.CaughtBy, "+")
	case OutcomeError:
		return "ERROR: " + d.Reason
	}
	return d.Outcome
}

// rows groups the matrix by fault and scenario, with a cell per mode.
func (s *Selftest) rows() (modes []string, rows [][]string) {
	for _, m := range scenarios.AllModes {
		modes = append(modes, string(m))
	}
	type key struct{ fault, scenario string }
	idx := map[key]int{}
	for _, d := range s.Matrix {
		k := key{d.Fault, d.Scenario}
		i, ok := idx[k]
		if !ok {
			i = len(rows)
			idx[k] = i
			row := []string{d.Fault, d.Scenario, strings.Join(d.Expected, "+")}
			for range modes {
				row = append(row, "n/a")
			}
			rows = append(rows, row)
		}
		rows[i][3+slices.Index(modes, d.Mode)] = d.cellText()
	}
	return modes, rows
}

func (s *Selftest) verdict() string {
	if s.Passed {
		return "PASS"
	}
	return "FAIL"
}

// writeText prints the matrix and the clean runs' summary.
func (s *Selftest) writeText(w io.Writer) error {
	modes, rows := s.rows()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "FAULT\tSCENARIO\tEXPECTED\t%s\n", strings.ToUpper(strings.Join(modes, "\t")))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	failed := 0
	for _, c := range s.Clean {
		if c.Status != string(report.StatusPass) {
			failed++
			fmt.Fprintf(w, "clean run %d: %s [%s]: %s (%s)\n", c.Run, c.Scenario, c.Mode, strings.ToUpper(c.Status), c.Failing)
		}
	}
	_, err := fmt.Fprintf(w, "leakgate selftest: %s: %d cells, %d clean runs (%d failed) in %.1fs\n",
		s.verdict(), len(s.Matrix), len(s.Clean), failed, s.DurationSeconds)
	return err
}

// writeMarkdown writes the matrix as a Markdown table, for the README and
// CI summaries.
func (s *Selftest) writeMarkdown(w io.Writer) error {
	modes, rows := s.rows()
	fmt.Fprintf(w, "| fault | scenario | expected | %s |\n|---|---|---|%s\n", strings.Join(modes, " | "), strings.Repeat("---|", len(modes)))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
			if i < 2 {
				cells[i] = "`" + c + "`"
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	failed := 0
	for _, c := range s.Clean {
		if c.Status != string(report.StatusPass) {
			failed++
		}
	}
	_, err := fmt.Fprintf(w, "\nA cell is the metric that caught the fault and the measured iteration after which its threshold failed (%d iterations, warm-up %d, default thresholds). Clean build: %d runs, %d failed. Verdict: %s in %.0fs.\n",
		s.Iterations, s.Warmup, len(s.Clean), failed, s.verdict(), s.DurationSeconds)
	return err
}

// writeFiles writes selftest.json and selftest.md into dir.
func (s *Selftest) writeFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report directory: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the self-test: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "selftest.json"), append(b, '\n')); err != nil {
		return err
	}
	var md strings.Builder
	if err := s.writeMarkdown(&md); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "selftest.md"), []byte(md.String()))
}

// writeFileAtomic writes a file through a temporary file and a rename.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
