package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/scenarios"
	"github.com/leakgate/leakgate/scenarios/suite"
)

// unit is one scenario in one mode: what one worker process runs.
type unit struct {
	scenario scenarios.Scenario
	mode     scenarios.Mode
	env      []string // added to the worker's environment
	tag      string   // shown after the id, such as the fault a self-test injects
}

// id is "scenario [mode]", as reports name a case, and the tag if any.
func (u unit) id() string {
	id := u.scenario.Name + " [" + string(u.mode) + "]"
	if u.tag != "" {
		id += " " + u.tag
	}
	return id
}

// settings are what every worker of a run is given: the suite's values
// with the command line's overrides.
type settings struct {
	suiteRef      string // a suite file, or a built-in suite's name
	iterations    int
	warmup        int
	duration      time.Duration
	settleTimeout time.Duration
	timeout       time.Duration       // per unit
	thresholds    map[string][]string // by metric, from --threshold: replace the suite's and the scenario's
}

// shard is --shard I/N: the I-th of N parts of a run (1-based).
type shard struct{ i, n int }

func (s shard) String() string {
	if s.n == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.i, s.n)
}

// parseShard reads "I/N" with 1 ≤ I ≤ N.
func parseShard(s string) (shard, error) {
	if s == "" {
		return shard{}, nil
	}
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return shard{}, fmt.Errorf("--shard %q: want I/N with 1 <= I <= N, such as 2/3", s)
	}
	return shard{i: i, n: n}, nil
}

// pick returns the units of shard s: the units sorted by id, dealt out in
// turn, so that every shard gets a fair share and N shards cover the list
// exactly once, whatever machine computes them.
func (s shard) pick(units []unit) []unit {
	units = slices.Clone(units)
	sort.Slice(units, func(a, b int) bool { return units[a].id() < units[b].id() })
	if s.n <= 1 {
		return units
	}
	var out []unit
	for k, u := range units {
		if k%s.n == s.i-1 {
			out = append(out, u)
		}
	}
	return out
}

// plan lists the units of scs in modes: a scenario that does not apply to
// a mode is left out (n/a), not reported.
func plan(scs []scenarios.Scenario, modes []scenarios.Mode) []unit {
	var out []unit
	for _, sc := range scs {
		for _, m := range modes {
			if sc.Applies(m) {
				out = append(out, unit{scenario: sc, mode: m})
			}
		}
	}
	return out
}

// loadSuite reads --suite: a file when one exists at ref or ref looks like
// a path, else a built-in suite's name.
func loadSuite(ref string) (*suite.Suite, error) {
	if ref == "" {
		ref = "ci"
	}
	if _, err := os.Stat(ref); err == nil || strings.ContainsAny(ref, `/\`) || filepath.Ext(ref) != "" {
		return suite.Load(ref)
	}
	return suite.Builtin(ref)
}

// addThresholdFlags adds --threshold values ('metric: expr', or 'metric:'
// for a metric reported but never failing) to m, replacing the suite's
// expressions for each metric named.
func addThresholdFlags(m map[string][]string, flags []string) error {
	seen := map[string]bool{}
	for _, s := range flags {
		metric, expr, ok := strings.Cut(s, ":")
		metric, expr = strings.TrimSpace(metric), strings.TrimSpace(expr)
		if !ok || metric == "" {
			return fmt.Errorf("--threshold %q: want 'metric: expression', such as 'goroutines: delta<=0'", s)
		}
		if !seen[metric] {
			seen[metric] = true
			m[metric] = []string{}
		}
		if expr == "" {
			continue
		}
		if _, err := harness.ParseThreshold(metric, expr); err != nil {
			return fmt.Errorf("--threshold %q: %w", s, err)
		}
		m[metric] = append(m[metric], expr)
	}
	return nil
}

// harnessOptions are the run options of settings, which come after the
// suite's (suite.RunOptions), so that the command line's values win.
func (s settings) harnessOptions(progress func(harness.Progress)) []harness.Option {
	opts := []harness.Option{
		harness.WithIterations(s.iterations),
		harness.WithWarmup(s.warmup),
		harness.WithSettleTimeout(s.settleTimeout),
		harness.WithDuration(s.duration),
	}
	metrics := make([]string, 0, len(s.thresholds))
	for m := range s.thresholds {
		metrics = append(metrics, m)
	}
	sort.Strings(metrics)
	for _, m := range metrics {
		opts = append(opts, harness.WithThreshold(m, s.thresholds[m]...))
	}
	if progress != nil {
		opts = append(opts, harness.WithProgress(progress))
	}
	return opts
}

// args are the worker's command-line arguments for settings.
func (s settings) args() []string {
	a := []string{
		"--suite", s.suiteRef,
		"--iterations", strconv.Itoa(s.iterations),
		"--warmup", strconv.Itoa(s.warmup),
		"--settle-timeout", s.settleTimeout.String(),
		"--duration", s.duration.String(),
	}
	metrics := make([]string, 0, len(s.thresholds))
	for m := range s.thresholds {
		metrics = append(metrics, m)
	}
	sort.Strings(metrics)
	for _, m := range metrics {
		if len(s.thresholds[m]) == 0 {
			a = append(a, "--threshold", m+":") // reported, never failing
		}
		for _, e := range s.thresholds[m] {
			a = append(a, "--threshold", m+": "+e)
		}
	}
	return a
}
