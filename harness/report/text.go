package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/leakgate/leakgate/harness"
)

// Limits of the text, JUnit and HTML renderings; the JSON keeps everything.
const (
	maxFindings   = 8  // findings shown under one metric
	maxItems      = 3  // example items shown per finding
	maxStackLines = 16 // lines of a finding's example stack
	maxLogLines   = 20 // lines of a failed worker's log
)

// WriteText writes the report as plain text: a summary line (counts by
// status, duration), then one block per case, failures first (leak, error,
// cancelled, then pass, then skipped). A case's block starts with
// "scenario [mode]: STATUS"; a measured case has a table of its metrics
// (baseline → final, delta, tail, slope per iteration, the shape of the
// growth, thresholds, ✓ or ✗) with the findings of each failing metric
// under its row (proven goroutine leaks marked "!!"), and the metrics'
// notes under the table; a skipped case shows
// the reason and an errored one the reason and the tail of its log. The
// output depends only on the report, so it suits golden tests.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(r.title() + ": " + r.verdictWord() + ", " + r.summary())
	if !r.Started.IsZero() {
		bw.WriteString(", started " + r.Started.UTC().Format("2006-01-02 15:04:05Z"))
	}
	if len(r.Shards) > 0 {
		bw.WriteString(", shards " + strings.Join(r.Shards, " "))
	}
	bw.WriteString("\n")
	for _, c := range r.ordered() {
		bw.WriteString("\n")
		bw.WriteString(caseText(c))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: write text: %w", err)
	}
	return nil
}

// title names the run: "leakgate" and the suite.
func (r *Report) title() string {
	if r.Suite == "" {
		return "leakgate"
	}
	return "leakgate " + r.Suite
}

// caseText returns the text block of one case, with the control
// characters of its text (a log's color escapes, say) made visible.
func caseText(c Case) string {
	var b strings.Builder
	bw := bufio.NewWriter(&b)
	writeCaseText(bw, c)
	bw.Flush()
	return printable(b.String())
}

// printable replaces control characters other than tab and newline with
// U+FFFD, so that a report shown on a terminal cannot drive it.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || !unicode.IsControl(r) {
			return r
		}
		return '\uFFFD'
	}, s)
}

// caseHeader is "scenario [mode]: STATUS in 1.2s, 50/50 iterations (warm-up 5)".
func caseHeader(c Case) string {
	h := c.ID() + ": " + strings.ToUpper(string(c.Status))
	if c.DurationSeconds > 0 || c.Status != StatusSkipped {
		h += " in " + fmtSeconds(c.DurationSeconds)
	}
	if res := c.Result; res != nil {
		h += fmt.Sprintf(", %d/%d iterations (warm-up %d)", res.Iterations.Completed, res.Iterations.Requested, res.Iterations.Warmup)
		if res.Iterations.Completed > 0 {
			h += fmt.Sprintf(", p50 %s p95 %s", fmtSeconds(res.Timing.P50Seconds), fmtSeconds(res.Timing.P95Seconds))
		}
		if !res.Target.Self && res.Target.PID > 0 {
			h += fmt.Sprintf(", target pid %d", res.Target.PID)
		}
	}
	return h
}

func writeCaseText(w *bufio.Writer, c Case) {
	w.WriteString(caseHeader(c) + "\n")
	if c.Reason != "" {
		label := "error"
		if c.Status == StatusSkipped {
			label = "skipped"
		}
		if c.Status == StatusCancelled {
			label = "cancelled"
		}
		w.WriteString(indent(label+": "+c.Reason, "  ") + "\n")
	}
	if res := c.Result; res != nil && res.Error != "" && res.Error != c.Reason {
		w.WriteString(indent("error: "+res.Error, "  ") + "\n")
	}
	if c.Result != nil && len(c.Result.Metrics) > 0 {
		writeMetricTable(w, c.Result)
	}
	if c.Log != "" && c.Failed() {
		log, cut := tail(c.Log, maxLogLines)
		if cut > 0 {
			fmt.Fprintf(w, "  log (last %d lines):\n", maxLogLines)
		} else {
			w.WriteString("  log:\n")
		}
		w.WriteString(indent(log, "  | ") + "\n")
	}
}

func writeMetricTable(w *bufio.Writer, res *harness.Result) {
	rows := [][]string{{"METRIC", "BASELINE → FINAL", "DELTA", "TAIL", "SLOPE/IT", "GROWTH", "THRESHOLD", "VERDICT"}}
	for _, m := range res.Metrics {
		span := fmtValue(m.Unit, m.Baseline, false) + " → " + fmtValue(m.Unit, m.Final, false)
		if !m.Supported {
			span = "-"
		}
		rows = append(rows, []string{
			m.Name, span, fmtValue(m.Unit, m.Delta, true), fmtValue(m.Unit, m.Tail, true),
			fmtSlope(m.Unit, m.Slope), growthText(m), thresholdsText(m), verdictText(m),
		})
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for ri, row := range rows {
		var line strings.Builder
		line.WriteString("  ")
		for i, cell := range row {
			line.WriteString(cell)
			if i < len(row)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+2))
			}
		}
		w.WriteString(strings.TrimRight(line.String(), " ") + "\n")
		if ri > 0 && failing(res.Metrics[ri-1]) {
			writeFindings(w, res.FindingsFor(res.Metrics[ri-1].Name))
		}
	}
	for _, n := range notes(res.Metrics) {
		w.WriteString(indent("note: "+n.text(), "  ") + "\n")
	}
}

// writeFindings writes findings under a metric row: "count × summary", a
// few items, and an excerpt of the example stack.
func writeFindings(w *bufio.Writer, fs []harness.Finding) {
	more := len(fs) - maxFindings
	fs = fs[:min(len(fs), maxFindings)]
	for _, f := range fs {
		// A proven leak stands out in the gutter, on top of its summary's
		// "leaked: blocked forever…".
		gutter := "      "
		if f.Leaked {
			gutter = "   " + markLeaked + " "
		}
		fmt.Fprintf(w, "%s%d × %s\n", gutter, f.Count, f.Summary)
		shown := f.Items[:min(len(f.Items), maxItems)]
		for _, item := range shown {
			w.WriteString(indent(item, "          ") + "\n")
		}
		if n := max(f.Count, len(f.Items)) - len(shown); n > 0 && len(shown) > 0 {
			fmt.Fprintf(w, "          … %d more\n", n)
		}
		if f.Stack != "" {
			w.WriteString(indent(stackExcerpt(f.Stack), "          ") + "\n")
		}
	}
	if more > 0 {
		fmt.Fprintf(w, "      … %d more findings\n", more)
	}
}

// stackExcerpt is the first lines of a stack.
func stackExcerpt(stack string) string {
	lines := strings.Split(strings.TrimRight(stack, "\n"), "\n")
	if len(lines) > maxStackLines {
		lines = append(lines[:maxStackLines], fmt.Sprintf("… %d more lines", len(lines)-maxStackLines))
	}
	return strings.Join(lines, "\n")
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
