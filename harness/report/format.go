package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leakgate/leakgate/harness"
)

// Formatting shared by the renderers. It follows harness.Result.WriteText:
// bytes in binary units, counts as integers where they are, "-" for what
// could not be measured.

func fmtSeconds(s float64) string {
	if math.IsNaN(s) || s < 0 {
		return "-"
	}
	d := seconds(s)
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(10 * time.Microsecond).String()
}

func fmtValue(unit string, v float64, signed bool) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	sign := ""
	if signed && v > 0 {
		sign = "+"
	}
	if unit == harness.UnitBytes {
		return sign + harness.FormatBytes(v)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return sign + strconv.FormatInt(int64(v), 10)
	}
	return sign + strconv.FormatFloat(v, 'f', 2, 64)
}

func fmtSlope(unit string, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	if unit == harness.UnitBytes {
		return fmtValue(unit, math.Round(v), true)
	}
	if math.Abs(v) < 0.005 {
		return "0"
	}
	return fmt.Sprintf("%+.2f", v)
}

// lhs is the left-hand statistic of a threshold expression ("delta" of
// "delta<=0").
func lhs(expr string) string {
	expr = strings.TrimSpace(expr)
	end := strings.IndexFunc(expr, func(r rune) bool { return (r < 'a' || r > 'z') && r != '_' })
	if end < 0 {
		return expr
	}
	return expr[:end]
}

// limitLine is the value a threshold's limit stands for on the metric's own
// scale, for drawing on a chart of its series: the limit itself for
// baseline, final, max and min; the baseline plus the limit for delta.
// A slope, or a limit that was not computed, has none.
func limitLine(m harness.MetricResult, t harness.ThresholdResult) (float64, bool) {
	var v float64
	switch lhs(t.Expr) {
	case "baseline", "final", "max", "min":
		v = t.Limit
	case "delta":
		v = m.Baseline + t.Limit
	default:
		return 0, false
	}
	return v, !math.IsNaN(v) && !math.IsInf(v, 0)
}

// Verdict marks, for tables.
const (
	markPass   = "✓"
	markFail   = "✗"
	markLeaked = "!!" // a finding the runtime proved leaked
)

// growthText is the shape of a metric's growth: "flat", "levels off",
// "grows", or "grows steadily" when the whole run's growth was steady too;
// "-" when the run could not tell (an unmeasured metric, a result written
// before shapes existed).
func growthText(m harness.MetricResult) string {
	switch {
	case m.Shape == "":
		return "-"
	case m.Shape == harness.ShapeGrows && m.Steady:
		return "grows steadily"
	}
	return string(m.Shape)
}

// processWide reports whether a metric's note says that it counts the
// whole process, not the run (an attributed run among parallel tests).
func processWide(m harness.MetricResult) bool {
	return strings.HasPrefix(m.Note, "process-wide")
}

// note is one note of a case and the metrics it is about.
type note struct {
	Metrics []string
	Note    string
}

// text is "goroutines, heap: the note".
func (n note) text() string { return strings.Join(n.Metrics, ", ") + ": " + n.Note }

// notes groups the metrics' notes, in the order they first appear: which
// goroutines an attributed run counted, which metrics are process-wide.
func notes(ms []harness.MetricResult) []note {
	var out []note
	for _, m := range ms {
		if m.Note == "" {
			continue
		}
		i := slices.IndexFunc(out, func(n note) bool { return n.Note == m.Note })
		if i < 0 {
			out = append(out, note{Note: m.Note})
			i = len(out) - 1
		}
		out[i].Metrics = append(out[i].Metrics, m.Name)
	}
	return out
}

// leakedCount is the number of goroutines the runtime proved leaked among
// findings.
func leakedCount(fs []harness.Finding) int {
	n := 0
	for _, f := range fs {
		if f.Leaked {
			n += f.Count
		}
	}
	return n
}

// verdictText is the last column of a metric row: a mark and, where it
// helps, why.
func verdictText(m harness.MetricResult) string {
	switch m.Verdict {
	case harness.VerdictPass:
		return markPass
	case harness.VerdictFail:
		for _, t := range m.Thresholds {
			if !t.Passed {
				return fmt.Sprintf("%s %s %s", markFail, lhs(t.Expr), fmtStat(m, t))
			}
		}
		return markFail
	case harness.VerdictError:
		return markFail + " error: " + m.Reason
	case harness.VerdictUnsupported:
		if m.Reason != "" {
			return "unsupported: " + m.Reason
		}
		return "unsupported"
	case harness.VerdictNone:
		if processWide(m) {
			return "- (not attributed)"
		}
		return "-"
	}
	return string(m.Verdict)
}

// fmtStat formats the actual value of a threshold in the metric's unit.
func fmtStat(m harness.MetricResult, t harness.ThresholdResult) string {
	switch lhs(t.Expr) {
	case "slope", "tail_slope":
		return fmtSlope(m.Unit, t.Actual) + "/it"
	case "delta", "tail":
		return fmtValue(m.Unit, t.Actual, true)
	}
	return fmtValue(m.Unit, t.Actual, false)
}

func thresholdsText(m harness.MetricResult) string {
	exprs := make([]string, len(m.Thresholds))
	for i, t := range m.Thresholds {
		exprs[i] = t.Expr
	}
	return strings.Join(exprs, ", ")
}

// failing reports whether a metric's findings belong under its row.
func failing(m harness.MetricResult) bool {
	return m.Verdict == harness.VerdictFail || m.Verdict == harness.VerdictError
}

// tail returns the last n lines of s, and how many lines it left out.
func tail(s string, n int) (string, int) {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "", 0
	}
	lines := strings.Split(s, "\n")
	if len(lines) <= n {
		return s, 0
	}
	return strings.Join(lines[len(lines)-n:], "\n"), len(lines) - n
}

// summary is the one-line summary of a report: counts by status in report
// order, and the duration.
func (r *Report) summary() string {
	counts := r.Counts()
	var parts []string
	for _, s := range Statuses {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
			delete(counts, s)
		}
	}
	for _, s := range sortedKeys(counts) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	noun := "cases"
	if len(r.Cases) == 1 {
		noun = "case"
	}
	out := fmt.Sprintf("%d %s", len(r.Cases), noun)
	if len(parts) > 0 {
		out += ": " + strings.Join(parts, ", ")
	}
	return out + " in " + fmtSeconds(r.DurationSeconds)
}

func sortedKeys(m map[Status]int) []Status {
	return slices.Sorted(maps.Keys(m))
}

// verdictWord is the word for the whole run, from its exit code.
func (r *Report) verdictWord() string {
	switch r.ExitCode() {
	case ExitPass:
		return "PASS"
	case ExitLeak:
		return "LEAK"
	}
	return "ERROR"
}
