package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/leakgate/leakgate/harness/internal/stack"
)

// LabelRun is the pprof label that marks the goroutines of one run: the
// scenario's Setup, iterations and Teardown run with it, and every
// goroutine they start inherits it. Its value is the scenario's name, "#"
// and a number unique in the process ("export#3").
const LabelRun = "leakgate.run"

// attribution says whether a run counts only its own goroutines.
type attribution int

const (
	attributionOff  attribution = iota // the whole process (the default of Run)
	attributionOn                      // WithAttribution(true)
	attributionAuto                    // Check in a parallel test: on for this process
)

// WithAttribution makes the goroutine metrics count only the goroutines
// of this run: those that carry its LabelRun label, which the scenario's
// Setup, iterations and Teardown run with and every goroutine they start
// inherits. Goroutine findings then list only those. Descriptors,
// connections, threads, children, RSS, the heap and "unclosed" cannot be
// attributed so: they are reported with a note that they are process-wide,
// and their default thresholds are not applied (explicit WithThreshold ones
// are). Check turns attribution on by itself in a test that runs in
// parallel (t.Parallel, or a subtest of one); WithAttribution(false) turns
// that off. Attribution needs this process as the target: with another
// one, WithAttribution(true) is an error.
//
// Goroutines started outside the run and serving it (the connection
// goroutines of a server started before Run, not in Setup) carry no label
// and are not counted: start such servers in Setup, or turn attribution
// off and do not run the test in parallel.
func WithAttribution(on bool) Option {
	return optionFunc(func(o *options) {
		o.attribution = attributionOff
		if on {
			o.attribution = attributionOn
		}
	})
}

// attributeIfParallel is Check's default in a parallel test.
var attributeIfParallel = optionFunc(func(o *options) { o.attribution = attributionAuto })

// runSeq numbers the runs of the process, for unique labels.
var runSeq atomic.Uint64

// notAttributed is the note of a process-wide metric in an attributed run.
const notAttributed = "process-wide: not attributable to this run; other parallel tests add to it"

// attributable metrics count only the run's goroutines when it is attributed.
func attributable(metric string) bool {
	return metric == MetricGoroutines || metric == MetricGoroutinesLeaked
}

// attribute labels the run, for this process, and turns attribution on as
// the options say. It returns the run's label ("" for another process).
func (s *sampler) attribute(scenario string, o options) (string, error) {
	if !s.self {
		if o.attribution == attributionOn {
			return "", errors.New("harness: WithAttribution: goroutines can be attributed to a run only in this process")
		}
		return "", nil
	}
	label := scenario + "#" + strconv.FormatUint(runSeq.Add(1), 10)
	if o.attribution != attributionOff {
		s.attrLabel = label
		s.attrKey = strconv.Quote(LabelRun) + ":" + strconv.Quote(label)
	}
	return label, nil
}

// unattributed reports whether a metric is process-wide in an attributed
// run: its default thresholds do not apply.
func (s *sampler) unattributed(metric string) bool {
	_, builtin := lookupBuiltin(metric)
	return s.attrLabel != "" && builtin && !attributable(metric)
}

// labelled calls f with the run's label on the calling goroutine and in
// its context, so that every goroutine f starts inherits it.
func (r *runner) labelled(ctx context.Context, f func(context.Context) error) error {
	if r.label == "" {
		return f(ctx)
	}
	lctx := pprof.WithLabels(ctx, pprof.Labels(LabelRun, r.label))
	pprof.SetGoroutineLabels(lctx)
	defer pprof.SetGoroutineLabels(ctx)
	return f(lctx)
}

// noteAttribution notes, in an attributed run, which goroutines the
// goroutine metrics count and that the other built-in metrics are
// process-wide.
func (r *runner) noteAttribution() {
	if r.s.attrLabel == "" {
		return
	}
	for i := range r.res.Metrics {
		m := &r.res.Metrics[i]
		switch {
		case attributable(m.Name) && m.Supported:
			m.Note = fmt.Sprintf("this run's goroutines only: labelled %s=%s", LabelRun, r.s.attrLabel)
		case r.s.unattributed(m.Name):
			m.Note = notAttributed
		}
	}
}

// goroutineCount is the goroutine metric: every goroutine of the process,
// or in an attributed run those with its label.
func (s *sampler) goroutineCount() (float64, error) {
	if s.attrLabel == "" {
		return float64(runtime.NumGoroutine()), nil
	}
	n, err := s.countLabelled(pprof.Lookup("goroutine"))
	if err != nil {
		return 0, fmt.Errorf("goroutine profile: %w", err)
	}
	return float64(n), nil
}

// countLabelled writes a count profile (goroutine, goroutineleak) in its
// text form (debug=1) and counts its samples: all of them, or in an
// attributed run those with the run's label. The text form groups
// goroutines by stack and labels, "N @ 0x… 0x…", followed by
// "# labels: {…}" when they have labels; see BenchmarkLabelledGoroutines
// for why it is read rather than the protocol buffer form.
func (s *sampler) countLabelled(p *pprof.Profile) (int, error) {
	s.profBuf.Reset()
	if err := p.WriteTo(&s.profBuf, 1); err != nil {
		return 0, err
	}
	return countProfile(s.profBuf.Bytes(), s.attrKey)
}

// countProfile counts the samples of a count profile's text form: its
// total when key is "", else the samples whose labels include key
// (`"leakgate.run":"export#3"`).
func countProfile(text []byte, key string) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() {
		return 0, errors.New("empty profile")
	}
	_, total, ok := strings.Cut(sc.Text(), " profile: total ")
	if !ok {
		return 0, fmt.Errorf("unexpected first line %q", sc.Text())
	}
	n, err := strconv.Atoi(total)
	if err != nil {
		return 0, fmt.Errorf("total in %q: %w", sc.Text(), err)
	}
	if key == "" {
		return n, nil
	}
	count, last := 0, 0
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		if line[0] >= '0' && line[0] <= '9' {
			num, _, _ := bytes.Cut(line, []byte(" @"))
			if last, err = strconv.Atoi(string(num)); err != nil {
				return 0, fmt.Errorf("count in %q: %w", line, err)
			}
			continue
		}
		if labels, ok := bytes.CutPrefix(line, []byte("# labels: {")); ok && hasLabel(labels, key) {
			count += last
		}
	}
	return count, sc.Err()
}

// hasLabel reports whether the labels `"k":"v", "k2":"v2"}` include key,
// `"k":"v"`.
func hasLabel(labels []byte, key string) bool {
	for {
		i := bytes.Index(labels, []byte(key))
		if i < 0 {
			return false
		}
		if rest := labels[i+len(key):]; (i == 0 || bytes.HasSuffix(labels[:i], []byte(", "))) &&
			(bytes.HasPrefix(rest, []byte(",")) || bytes.HasPrefix(rest, []byte("}"))) {
			return true
		}
		labels = labels[i+1:]
	}
}

// dump returns the goroutine dump: in an attributed run, with each
// goroutine's labels in its header.
func (s *sampler) dump() []byte {
	if s.attrLabel == "" {
		return stack.Dump(nil)
	}
	return dumpWithLabels()
}

// attributed keeps, in an attributed run, the goroutines with its label.
func (s *sampler) attributed(gs []stack.Goroutine) []stack.Goroutine {
	if s.attrLabel == "" {
		return gs
	}
	out := gs[:0]
	for _, g := range gs {
		if g.Labels[LabelRun] == s.attrLabel {
			out = append(out, g)
		}
	}
	return out
}

// tracebackLabels serialises the dumps that turn GODEBUG=tracebacklabels=1
// on for their duration.
var tracebackLabels sync.Mutex

const tracebackLabelsOn = "tracebacklabels=1"

// dumpWithLabels dumps every goroutine with its pprof labels in its header.
// The runtime prints them with GODEBUG=tracebacklabels=1 (Go 1.26), which
// it re-reads whenever the variable is set: the dump sets it for its
// duration, unless the process already has it, and restores it after.
func dumpWithLabels() []byte {
	tracebackLabels.Lock()
	defer tracebackLabels.Unlock()
	old, had := os.LookupEnv("GODEBUG")
	if !hasSetting(old, tracebackLabelsOn) {
		on := tracebackLabelsOn
		if old != "" {
			on = old + "," + tracebackLabelsOn // the last setting wins
		}
		if err := os.Setenv("GODEBUG", on); err == nil {
			defer func() {
				if had {
					os.Setenv("GODEBUG", old)
				} else {
					os.Unsetenv("GODEBUG")
				}
			}()
		}
	}
	return stack.Dump(nil)
}

// hasSetting reports whether the GODEBUG value's last setting of a key is
// kv's.
func hasSetting(godebug, kv string) bool {
	key, _, _ := strings.Cut(kv, "=")
	last := ""
	for s := range strings.SplitSeq(godebug, ",") {
		if k, _, _ := strings.Cut(strings.TrimSpace(s), "="); k == key {
			last = strings.TrimSpace(s)
		}
	}
	return last == kv
}

// inParallel reports whether t is a test that runs in parallel with
// others: *testing.T (or *testing.B) on which t.Parallel was called, or
// whose parent test was. The testing package has no method that says so;
// its unexported fields are read, and anything else (a TestingT of one's
// own, a future testing package without those fields) is not parallel.
func inParallel(t TestingT) bool {
	v := reflect.ValueOf(t)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return false
	}
	v = v.Elem()
	if v.Kind() != reflect.Struct || v.Type().PkgPath() != "testing" {
		return false
	}
	c := v.FieldByName("common")
	for depth := 0; c.IsValid() && c.Kind() == reflect.Struct && depth < 64; depth++ {
		if p := c.FieldByName("isParallel"); p.IsValid() && p.Kind() == reflect.Bool && p.Bool() {
			return true
		}
		parent := c.FieldByName("parent")
		if !parent.IsValid() || parent.Kind() != reflect.Pointer || parent.IsNil() {
			return false
		}
		c = parent.Elem()
	}
	return false
}

// attributionVerdict is the verdict column of a process-wide metric in an
// attributed run: "" when the metric is not such or has thresholds.
func attributionVerdict(m MetricResult) string {
	if m.Note == notAttributed && m.Verdict == VerdictNone {
		return "none (not attributed)"
	}
	return ""
}

// writeNotes writes, under the report's table, the metrics' notes:
// which goroutines an attributed run counted, which metrics are
// process-wide.
func writeNotes(w *bufio.Writer, ms []MetricResult) {
	var order []string
	names := map[string][]string{}
	for _, m := range ms {
		if m.Note == "" {
			continue
		}
		if _, ok := names[m.Note]; !ok {
			order = append(order, m.Note)
		}
		names[m.Note] = append(names[m.Note], m.Name)
	}
	for _, note := range order {
		fmt.Fprintf(w, "note: %s: %s\n", strings.Join(names[note], ", "), note)
	}
}
