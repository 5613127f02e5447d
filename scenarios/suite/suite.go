// Package suite reads leakgate suite files: YAML that picks registered
// scenarios by name or glob, the modes to run them in, the iterations,
// warm-up, settle timeout and thresholds of every run, and declares
// scenarios of its own for services in any language.
//
//	name: nightly
//	description: every scenario but the real APIs', both modes
//	scenarios: ["*", "!real/*"]
//	modes: both
//	iterations: 50
//	thresholds:
//	  goroutines: delta<=0
//	  heap: [slope<8KiB]
//	declared:
//	  - name: orders/create
//	    spawn:
//	      command: ["./bin/orders", "--addr", "127.0.0.1:0"]
//	      ready: {log: 'listening on (http://\S+)'}
//	    metrics_url: "{base}/metrics"
//	    iteration:
//	      requests:
//	        - {method: POST, url: "{base}/api/orders", body: '{"qty":1}', expect: 201}
//
// # Fields
//
//	name            the suite's name (default: the file name without extension)
//	description     one line
//	scenarios       names or globs of scenarios, registered or declared:
//	                path.Match globs whose * and ? also match "/", so "*" is
//	                every scenario and "cmd/*" includes
//	                "cmd/analyze/interrupted"; "!pattern" excludes, and a list
//	                of exclusions alone selects every other scenario. Each
//	                pattern must match something. Without scenarios, the
//	                declared ones run.
//	modes           mock, live or both, or a list of them (default both)
//	iterations      measured iterations per run, at least 2 (default 50);
//	                with duration, the most that run
//	warmup          iterations before the baseline, 0 or more (default 5)
//	duration        optional: measured iterations go on until this much time
//	                has passed (soak runs)
//	settle_timeout  the wait for counts to return to the baseline (default 2s)
//	timeout         the limit of one scenario in one mode (default 10m, plus
//	                duration)
//	thresholds      metric: expression or list of expressions, replacing the
//	                harness's defaults for that metric in every run
//	declared        scenarios without Go code; see Declared
//
// Durations are time.ParseDuration strings ("500ms", "2m"); thresholds use
// the harness's grammar (harness.ParseThreshold). Unknown fields, wrong
// types and bad values are errors of type *Error that name the file, the
// line and the field.
package suite

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/scenarios"
)

// Defaults of the suite fields that the harness has no default for.
const (
	// DefaultTimeout bounds one scenario in one mode when the suite sets no
	// timeout. With a duration, the duration is added.
	DefaultTimeout = 10 * time.Minute
	// MaxFileSize is the largest suite file Load reads.
	MaxFileSize = 1 << 20
)

// Suite is a parsed suite file. Its fields hold the suite's values with
// the defaults filled in; treat it as read-only.
type Suite struct {
	// File is the name the suite was read from, as used in errors.
	File string
	// Name and Description are the suite's own.
	Name, Description string
	// Patterns are the scenario patterns in file order, exclusions with
	// their leading "!".
	Patterns []string
	// Modes are the modes to run, in scenarios.AllModes order.
	Modes []scenarios.Mode
	// Iterations, Warmup and SettleTimeout are the harness's
	// WithIterations, WithWarmup and WithSettleTimeout.
	Iterations, Warmup int
	SettleTimeout      time.Duration
	// Duration, when not zero, makes the measured iterations go on until
	// that much time has passed; Iterations is then the most that run.
	Duration time.Duration
	// Timeout bounds one scenario in one mode.
	Timeout time.Duration
	// Thresholds are the expressions by metric that replace the harness's
	// defaults in every run; an empty list means reported, never failing.
	Thresholds map[string][]string
	// Declared are the suite's own scenarios, in file order.
	Declared []*Declared

	dir          string       // where relative paths of declared scenarios start
	patternLines []*yaml.Node // the node of each pattern, for errors
}

// Load reads and parses a suite file. Relative paths in its declared
// scenarios (spawn.dir, pid_file) are taken from the file's directory.
func Load(path string) (*Suite, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Err: fmt.Errorf("read suite: %w", err)}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &Error{File: path, Err: fmt.Errorf("read suite: %w", err)}
	}
	if len(data) > MaxFileSize {
		return nil, &Error{File: path, Err: fmt.Errorf("suite file larger than %d bytes", MaxFileSize)}
	}
	s, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	s.dir = filepath.Dir(path)
	for _, d := range s.Declared {
		d.dir = s.dir
	}
	return s, nil
}

// Builtin returns one of the suites embedded in the scenarios package:
// "ci" or "soak" (scenarios.BuiltinSuiteNames).
func Builtin(name string) (*Suite, error) {
	data, ok := scenarios.BuiltinSuite(name)
	if !ok {
		return nil, &Error{File: name, Err: fmt.Errorf("no built-in suite %q (want %s)", name, strings.Join(scenarios.BuiltinSuiteNames(), " or "))}
	}
	return Parse(name+".yaml", data)
}

// Parse parses a suite. name is the file name used in errors and as the
// default suite name; relative paths in declared scenarios are taken from
// the working directory.
func Parse(name string, data []byte) (*Suite, error) {
	d := &decoder{file: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, d.syntaxError(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &Error{File: name, Line: 1, Err: errors.New("empty suite")}
	}
	root := resolve(doc.Content[0])
	s := &Suite{
		File:          name,
		Name:          strings.TrimSuffix(filepath.Base(name), filepath.Ext(name)),
		Modes:         slices.Clone(scenarios.AllModes),
		Iterations:    harness.DefaultIterations,
		Warmup:        harness.DefaultWarmup,
		SettleTimeout: harness.DefaultSettleTimeout,
		Thresholds:    map[string][]string{},
		dir:           ".",
	}
	var declared *yaml.Node
	var timeoutNode *yaml.Node
	seen, err := d.mapping(root, "", []field{
		{"name", func(v *yaml.Node, p string) (err error) {
			if s.Name, err = d.text(v, p); err == nil && !validName(s.Name) {
				err = d.errf(v, p, "%q: use letters, digits and - _ . / only", s.Name)
			}
			return err
		}},
		{"description", func(v *yaml.Node, p string) (err error) { s.Description, err = d.str(v, p); return err }},
		{"scenarios", func(v *yaml.Node, p string) error { return s.decodePatterns(d, v, p) }},
		{"modes", func(v *yaml.Node, p string) (err error) { s.Modes, err = decodeModes(d, v, p); return err }},
		{"iterations", func(v *yaml.Node, p string) (err error) {
			if s.Iterations, err = d.integer(v, p); err == nil && s.Iterations < 2 {
				err = d.errf(v, p, "must be at least 2, got %d", s.Iterations)
			}
			return err
		}},
		{"warmup", func(v *yaml.Node, p string) (err error) {
			if s.Warmup, err = d.integer(v, p); err == nil && s.Warmup < 0 {
				err = d.errf(v, p, "must not be negative, got %d", s.Warmup)
			}
			return err
		}},
		{"duration", func(v *yaml.Node, p string) (err error) { s.Duration, err = d.duration(v, p); return err }},
		{"settle_timeout", func(v *yaml.Node, p string) (err error) { s.SettleTimeout, err = d.duration(v, p); return err }},
		{"timeout", func(v *yaml.Node, p string) (err error) {
			timeoutNode = v
			s.Timeout, err = d.duration(v, p)
			return err
		}},
		{"thresholds", func(v *yaml.Node, p string) (err error) {
			s.Thresholds, err = decodeThresholds(d, v, p, thresholdMetricOK)
			return err
		}},
		{"declared", func(v *yaml.Node, p string) error { declared = v; return nil }},
	})
	if err != nil {
		return nil, err
	}
	switch {
	case s.Timeout == 0:
		s.Timeout = DefaultTimeout + s.Duration
	case s.Duration > 0 && s.Timeout <= s.Duration:
		return nil, d.errf(timeoutNode, "timeout", "%v must be longer than duration %v", s.Timeout, s.Duration)
	}
	if declared != nil {
		if s.Declared, err = decodeDeclared(d, declared, "declared"); err != nil {
			return nil, err
		}
		for _, dc := range s.Declared {
			dc.dir = s.dir
		}
	}
	if seen["scenarios"] == nil && len(s.Declared) == 0 {
		return nil, d.errf(root, "scenarios", "missing: the suite selects no scenarios and declares none")
	}
	return s, nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)

func validName(s string) bool { return nameRE.MatchString(s) }

func (s *Suite) decodePatterns(d *decoder, v *yaml.Node, p string) error {
	pats, nodes, err := d.list(v, p)
	if err != nil {
		return err
	}
	for i, pat := range pats {
		g := strings.TrimPrefix(pat, "!")
		if g == "" {
			return d.errf(nodes[i], fmt.Sprintf("%s[%d]", p, i), "%q: an exclusion needs a pattern", pat)
		}
		if _, err := path.Match(g, ""); err != nil {
			return d.errf(nodes[i], fmt.Sprintf("%s[%d]", p, i), "pattern %q: %v", pat, err)
		}
	}
	s.Patterns, s.patternLines = pats, nodes
	return nil
}

func decodeModes(d *decoder, v *yaml.Node, p string) ([]scenarios.Mode, error) {
	names, nodes, err := d.list(v, p)
	if err != nil {
		return nil, err
	}
	set := map[scenarios.Mode]bool{}
	for i, n := range names {
		ms, err := scenarios.ParseMode(n)
		if err != nil || strings.TrimSpace(n) == "" {
			return nil, d.errf(nodes[i], p, "%q: want mock, live or both", n)
		}
		for _, m := range ms {
			set[m] = true
		}
	}
	var out []scenarios.Mode
	for _, m := range scenarios.AllModes {
		if set[m] {
			out = append(out, m)
		}
	}
	return out, nil
}

// metricRE is the syntax of the names of metrics that scenarios add.
var metricRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// thresholdMetricOK accepts the built-in metrics and any lower-case
// identifier: a metric that a scenario adds (open_clients, say). The
// harness rejects, when a run starts, a metric its scenario does not have.
func thresholdMetricOK(metric string) error {
	if slices.Contains(harness.BuiltinMetrics(), metric) || metricRE.MatchString(metric) {
		return nil
	}
	return fmt.Errorf("unknown metric (want %s, or the lower-case name of a metric a scenario adds)", strings.Join(harness.BuiltinMetrics(), ", "))
}

func decodeThresholds(d *decoder, v *yaml.Node, p string, metricOK func(string) error) (map[string][]string, error) {
	if v.Kind != yaml.MappingNode {
		return nil, d.errf(v, p, "want a mapping of metric to expression, got %s", kindName(v))
	}
	out := map[string][]string{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], resolve(v.Content[i+1])
		fp := join(p, k.Value)
		if k.Kind != yaml.ScalarNode {
			return nil, d.errf(k, p, "want a metric name, got %s", kindName(k))
		}
		if _, dup := out[k.Value]; dup {
			return nil, d.errf(k, fp, "metric given twice")
		}
		if err := metricOK(k.Value); err != nil {
			return nil, d.errf(k, fp, "%v", err)
		}
		var exprs []string
		var nodes []*yaml.Node
		if val.Kind == yaml.SequenceNode && len(val.Content) == 0 {
			exprs = []string{} // reported, never failing
		} else {
			var err error
			if exprs, nodes, err = d.list(val, fp); err != nil {
				return nil, err
			}
		}
		for j, e := range exprs {
			if _, err := harness.ParseThreshold(k.Value, e); err != nil {
				return nil, d.errf(nodes[j], fp, "%v", err)
			}
		}
		out[k.Value] = exprs
	}
	return out, nil
}

// Scenarios resolves the suite's patterns against the registered
// scenarios (scenarios.All) and its declared ones, and returns the
// selected scenarios sorted by name. Patterns select among both; with no
// patterns the suite runs its declared scenarios, and when every pattern
// is an exclusion, every scenario but the excluded ones. A pattern that
// matches nothing is an *Error on its line. Declared scenarios apply to
// scenarios.Live only.
func (s *Suite) Scenarios() ([]scenarios.Scenario, error) {
	d := &decoder{file: s.File}
	all := scenarios.All()
	for _, dc := range s.Declared {
		all = append(all, dc.Scenario())
	}
	include := map[string]bool{}
	if len(s.Patterns) == 0 {
		for _, dc := range s.Declared {
			include[dc.Name] = true
		}
	}
	onlyExclusions := len(s.Patterns) > 0
	for _, p := range s.Patterns {
		if !strings.HasPrefix(p, "!") {
			onlyExclusions = false
		}
	}
	if onlyExclusions {
		for _, sc := range all {
			include[sc.Name] = true
		}
	}
	exclude := map[string]bool{}
	for i, p := range s.Patterns {
		g, neg := strings.CutPrefix(p, "!")
		n := 0
		for _, sc := range all {
			if scenarios.MatchName(g, sc.Name) {
				n++
				if neg {
					exclude[sc.Name] = true
				} else {
					include[sc.Name] = true
				}
			}
		}
		if n == 0 {
			return nil, d.errf(s.patternLines[i], fmt.Sprintf("scenarios[%d]", i), "%q matches no scenario (see leakgate list)", p)
		}
	}
	var out []scenarios.Scenario
	for _, sc := range all {
		if include[sc.Name] && !exclude[sc.Name] {
			out = append(out, sc)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// HarnessOptions returns the suite's run options: iterations, warm-up,
// settle timeout, duration (when set) and thresholds.
func (s *Suite) HarnessOptions() []harness.Option {
	return append(s.runOptions(), s.thresholdOptions(func(string) bool { return true })...)
}

// runOptions are the suite's options other than thresholds.
func (s *Suite) runOptions() []harness.Option {
	opts := []harness.Option{
		harness.WithIterations(s.Iterations),
		harness.WithWarmup(s.Warmup),
		harness.WithSettleTimeout(s.SettleTimeout),
	}
	if s.Duration > 0 {
		opts = append(opts, harness.WithDuration(s.Duration))
	}
	return opts
}

// thresholdOptions are the suite's thresholds on the metrics keep accepts.
func (s *Suite) thresholdOptions(keep func(metric string) bool) []harness.Option {
	var opts []harness.Option
	for _, m := range sortedKeys(s.Thresholds) {
		if keep(m) {
			opts = append(opts, harness.WithThreshold(m, s.Thresholds[m]...))
		}
	}
	return opts
}

// RunOptions returns the options for one built run of one of the suite's
// scenarios: the run's own options (its target, probes and thresholds),
// then HarnessOptions, so that the suite's thresholds replace a registered
// scenario's for the same metric. For a declared scenario its own
// thresholds come last and win, and the suite's thresholds on metrics its
// target cannot measure are left out: goroutines and heap without
// metrics_url, and any metric other than the built-in ones.
func (s *Suite) RunOptions(name string, run *scenarios.Run) []harness.Option {
	var opts []harness.Option
	if run != nil {
		opts = append(opts, run.Options...)
	}
	dc := s.declared(name)
	if dc == nil {
		return append(opts, s.HarnessOptions()...)
	}
	opts = append(opts, s.runOptions()...)
	return append(opts, s.thresholdOptions(func(m string) bool {
		_, own := dc.Thresholds[m]
		return dc.measures(m) && !own
	})...)
}

func (s *Suite) declared(name string) *Declared {
	for _, dc := range s.Declared {
		if dc.Name == name {
			return dc
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
