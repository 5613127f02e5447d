package harness

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// WriteText writes a compact report: a header line, a table with one row
// per metric (baseline, final, delta, tail, max, slope per iteration, the
// shape of its growth, thresholds, verdict), and under each failing row its
// findings.
func (r *Result) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "leakgate: %s: %s, %d/%d iterations (warm-up %d) in %s", r.Scenario, strings.ToUpper(string(r.Status)),
		r.Iterations.Completed, r.Iterations.Requested, r.Iterations.Warmup, fmtSeconds(r.DurationSeconds))
	if r.Iterations.Completed > 0 {
		fmt.Fprintf(bw, ", iteration p50 %s p95 %s", fmtSeconds(r.Timing.P50Seconds), fmtSeconds(r.Timing.P95Seconds))
	}
	if r.Timing.Settled {
		fmt.Fprintf(bw, ", settled in %s", fmtSeconds(r.Timing.SettleSeconds))
	} else if r.Timing.SettleSeconds > 0 {
		fmt.Fprintf(bw, ", not settled after %s", fmtSeconds(r.Timing.SettleSeconds))
	}
	if !r.Target.Self {
		fmt.Fprintf(bw, ", target pid %d", r.Target.PID)
	}
	bw.WriteString("\n")
	if r.Error != "" {
		fmt.Fprintf(bw, "error: %s\n", r.Error)
	}
	if len(r.Metrics) == 0 {
		return bw.Flush()
	}
	rows := [][]string{{"METRIC", "BASELINE", "FINAL", "DELTA", "TAIL", "MAX", "SLOPE/IT", "GROWTH", "THRESHOLD", "VERDICT"}}
	for _, m := range r.Metrics {
		rows = append(rows, metricRow(m))
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len(c))
		}
	}
	for ri, row := range rows {
		var line strings.Builder
		for i, c := range row {
			if i == len(row)-1 {
				line.WriteString(c)
				break
			}
			line.WriteString(c)
			line.WriteString(strings.Repeat(" ", widths[i]-len(c)+2))
		}
		bw.WriteString(strings.TrimRight(line.String(), " "))
		bw.WriteString("\n")
		if ri == 0 {
			continue
		}
		m := r.Metrics[ri-1]
		if m.Verdict == VerdictFail || m.Verdict == VerdictError {
			writeFindings(bw, r.FindingsFor(m.Name))
		}
	}
	writeNotes(bw, r.Metrics)
	return bw.Flush()
}

func metricRow(m MetricResult) []string {
	if !m.Supported {
		verdict := "unsupported: " + m.Reason
		if m.Verdict == VerdictError {
			verdict = "ERROR: " + m.Reason
		}
		return []string{m.Name, "-", "-", "-", "-", "-", "-", "", "", verdict}
	}
	var th []string
	for _, t := range m.Thresholds {
		th = append(th, t.Expr)
	}
	growth := string(m.Shape)
	if m.Shape == ShapeGrows && m.Steady {
		growth = "grows steadily"
	}
	verdict := string(m.Verdict)
	if m.Verdict == VerdictFail {
		verdict = "FAIL"
		for _, t := range m.Thresholds {
			if !t.Passed {
				verdict += fmt.Sprintf(" (%s %s)", m.statText(t.Expr), fmtValue(m.Unit, t.Actual, false))
				break
			}
		}
	}
	if m.Verdict == VerdictError {
		verdict = "ERROR: " + m.Reason
	}
	if v := attributionVerdict(m); v != "" {
		verdict = v
	}
	return []string{
		m.Name,
		fmtValue(m.Unit, m.Baseline, false),
		fmtValue(m.Unit, m.Final, false),
		fmtValue(m.Unit, m.Delta, true),
		fmtValue(m.Unit, m.Tail, true),
		fmtValue(m.Unit, m.Max, false),
		fmtSlope(m.Unit, m.Slope),
		growth,
		strings.Join(th, ", "),
		verdict,
	}
}

// statText is the left-hand statistic of an expression.
func (m MetricResult) statText(expr string) string {
	expr = strings.TrimSpace(expr)
	end := strings.IndexFunc(expr, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r == '_') })
	if end < 0 {
		return expr
	}
	return expr[:end]
}

// Limits of the text report; the JSON has every finding with up to ten
// items.
const (
	maxTextItems    = 3
	maxStackLines   = 24
	maxTextFindings = 8
)

func writeFindings(w *bufio.Writer, fs []Finding) {
	if len(fs) > maxTextFindings {
		defer fmt.Fprintf(w, "    … %d more findings\n", len(fs)-maxTextFindings)
		fs = fs[:maxTextFindings]
	}
	for _, f := range fs {
		fmt.Fprintf(w, "    %d × %s\n", f.Count, f.Summary)
		shown := f.Items[:min(len(f.Items), maxTextItems)]
		for _, item := range shown {
			fmt.Fprintf(w, "        %s\n", item)
		}
		if f.Count > len(shown) && len(shown) > 0 {
			fmt.Fprintf(w, "        … %d more\n", f.Count-len(shown))
		}
		if f.Stack != "" {
			lines := strings.Split(f.Stack, "\n")
			if len(lines) > maxStackLines {
				lines = append(lines[:maxStackLines], "…")
			}
			w.WriteString(indent(strings.Join(lines, "\n"), "        "))
			w.WriteString("\n")
		}
	}
}

func fmtSeconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(10 * time.Microsecond).String()
}

// fmtValue formats a number of a metric: bytes in binary units, counts as
// integers where they are.
func fmtValue(unit string, v float64, signed bool) string {
	if math.IsNaN(v) {
		return "-"
	}
	sign := ""
	if signed && v > 0 {
		sign = "+"
	}
	if unit == UnitBytes {
		return sign + FormatBytes(v)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return sign + strconv.FormatInt(int64(v), 10)
	}
	return sign + strconv.FormatFloat(v, 'f', 2, 64)
}

func fmtSlope(unit string, v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	if unit == UnitBytes {
		return fmtValue(unit, math.Round(v), true)
	}
	if math.Abs(v) < 0.005 {
		return "0"
	}
	return fmt.Sprintf("%+.2f", v)
}

// FormatBytes formats a number of bytes in binary units: whole bytes below
// 1KiB ("512B"), one decimal in KiB and MiB ("1.5KiB", "12.0MiB"), two in
// GiB ("2.25GiB"), with a leading "-" when v is negative.
func FormatBytes(v float64) string {
	neg := ""
	if v < 0 {
		neg, v = "-", -v
	}
	switch {
	case v < 1<<10:
		return fmt.Sprintf("%s%.0fB", neg, v)
	case v < 1<<20:
		return fmt.Sprintf("%s%.1fKiB", neg, v/(1<<10))
	case v < 1<<30:
		return fmt.Sprintf("%s%.1fMiB", neg, v/(1<<20))
	}
	return fmt.Sprintf("%s%.2fGiB", neg, v/(1<<30))
}
