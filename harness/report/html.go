package report

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/leakgate/leakgate/harness"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"join": func(s []string) string { return strings.Join(s, ", ") },
}).Parse(htmlSource))

// WriteHTML writes the report as one self-contained HTML page: it loads
// nothing (no script, font, stylesheet or image from anywhere, enforced by
// its Content-Security-Policy) and opens from a file. It has a summary, an
// index of the cases, then a card per case, failures first, with the
// metric table (with each metric's tail and the shape of its growth), the
// findings of failing metrics (in <details>; proven goroutine leaks
// highlighted), the metrics' notes, and a chart per measured metric: the
// value per iteration with the baseline and each threshold's limit as
// horizontal lines, and the tail window, the last half of the iterations
// that the tail statistics and the shape judge, shaded. Failed cases are open and
// have full charts with axes; the others are collapsed and have small
// charts of the lines alone, which keeps a page of 80 cases of 9 metrics
// to a few MB. All text is escaped by html/template.
func (r *Report) WriteHTML(w io.Writer) error {
	page := htmlPage{
		Schema:       Schema,
		Title:        r.title(),
		Verdict:      r.verdictWord(),
		VerdictClass: verdictClass(r.ExitCode()),
		Summary:      r.summary(),
		Shards:       strings.Join(r.Shards, " "),
		ExitCode:     r.ExitCode(),
	}
	if !r.Started.IsZero() {
		page.Started = r.Started.UTC().Format("2006-01-02 15:04:05Z")
	}
	counts := r.Counts()
	for _, s := range append(slices.Clone(Statuses), sortedUnknown(counts)...) {
		if counts[s] > 0 {
			page.Counts = append(page.Counts, htmlCount{Status: string(s), Class: statusClass(s), N: counts[s]})
		}
	}
	for i, c := range r.ordered() {
		page.Cases = append(page.Cases, newHTMLCase(i, c))
	}
	bw := bufio.NewWriter(w)
	if err := htmlTemplate.Execute(bw, page); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	return nil
}

type htmlPage struct {
	Schema, Title, Verdict, VerdictClass string
	Summary, Started, Shards             string
	ExitCode                             int
	Counts                               []htmlCount
	Cases                                []htmlCase
}

type htmlCount struct {
	Status, Class string
	N             int
}

type htmlCase struct {
	Anchor, ID, Status, Class, Duration, Meta string
	Failing                                   string // the failing metrics, for the index
	Open, FullCharts                          bool
	Reason, ReasonLabel, ResultError          string
	Metrics                                   []htmlMetric
	Notes                                     []note
	Leaked                                    int // goroutines the runtime proved leaked
	Log                                       string
	LogCut, LogLines                          int
}

type htmlMetric struct {
	Name, Span, Delta, Max, Slope, Thresholds string
	Tail, Growth, GrowthClass                 string
	Verdict, VerdictClass                     string
	OpenFindings                              bool
	Findings                                  []htmlFinding
	MoreFindings                              int
	Chart                                     template.HTML
	ChartError                                string
	Limits                                    string
}

type htmlFinding struct {
	Kind, Summary, Stack string
	Count, More          int
	Items                []string
	Leaked               bool // proven leaked by the runtime
}

func newHTMLCase(i int, c Case) htmlCase {
	hc := htmlCase{
		Anchor:     fmt.Sprintf("case-%d", i+1),
		ID:         c.ID(),
		Status:     string(c.Status),
		Class:      statusClass(c.Status),
		Duration:   fmtSeconds(c.DurationSeconds),
		Meta:       strings.TrimPrefix(caseHeader(c), c.ID()+": "+strings.ToUpper(string(c.Status))),
		Open:       c.Failed(),
		FullCharts: c.Failed(),
		Reason:     c.Reason,
	}
	switch c.Status {
	case StatusSkipped:
		hc.ReasonLabel = "skipped"
	case StatusCancelled:
		hc.ReasonLabel = "cancelled"
	default:
		hc.ReasonLabel = "error"
	}
	if c.Failed() && c.Log != "" {
		hc.Log, hc.LogCut = tail(c.Log, maxLogLines*5)
		hc.LogLines = maxLogLines * 5
	}
	res := c.Result
	if res == nil {
		return hc
	}
	if res.Error != "" && res.Error != c.Reason {
		hc.ResultError = res.Error
	}
	var failingNames []string
	for _, m := range res.Metrics {
		hm := htmlMetric{
			Name:         m.Name,
			Span:         fmtValue(m.Unit, m.Baseline, false) + " → " + fmtValue(m.Unit, m.Final, false),
			Delta:        fmtValue(m.Unit, m.Delta, true),
			Tail:         fmtValue(m.Unit, m.Tail, true),
			Growth:       growthText(m),
			GrowthClass:  growthClass(m.Shape),
			Max:          fmtValue(m.Unit, m.Max, false),
			Slope:        fmtSlope(m.Unit, m.Slope),
			Thresholds:   thresholdsText(m),
			Verdict:      verdictText(m),
			VerdictClass: verdictClassOf(m.Verdict),
			OpenFindings: c.Failed(),
		}
		if !m.Supported {
			hm.Span = "-"
		}
		if failing(m) {
			failingNames = append(failingNames, m.Name)
			fs := res.FindingsFor(m.Name)
			hm.MoreFindings = max(0, len(fs)-maxFindings)
			for _, f := range fs[:min(len(fs), maxFindings)] {
				hm.Findings = append(hm.Findings, newHTMLFinding(f))
			}
			hc.Leaked += leakedCount(fs)
		}
		if l, ok := linesOf(m); ok {
			hm.Limits = strings.Join(limitTexts(m, l), ", ")
		}
		chart, err := chartSVG(m, hc.FullCharts)
		if err != nil {
			hm.ChartError = err.Error()
		}
		hm.Chart = chart
		hc.Metrics = append(hc.Metrics, hm)
	}
	hc.Failing = strings.Join(failingNames, ", ")
	hc.Notes = notes(res.Metrics)
	return hc
}

// limitTexts are the limits of a chart in the metric's unit.
func limitTexts(m harness.MetricResult, l chartLines) []string {
	out := make([]string, len(l.limits))
	for i, v := range l.limits {
		out[i] = fmtValue(m.Unit, v, false) + " (" + l.exprs[i] + ")"
	}
	return out
}

func newHTMLFinding(f harness.Finding) htmlFinding {
	hf := htmlFinding{Kind: f.Kind, Summary: f.Summary, Count: f.Count, Leaked: f.Leaked}
	hf.Items = f.Items[:min(len(f.Items), maxItems*3)]
	if n := max(f.Count, len(f.Items)) - len(hf.Items); n > 0 && len(hf.Items) > 0 {
		hf.More = n
	}
	if f.Stack != "" {
		lines := strings.Split(strings.TrimRight(f.Stack, "\n"), "\n")
		if len(lines) > maxStackLines*4 {
			lines = append(lines[:maxStackLines*4], fmt.Sprintf("… %d more lines", len(lines)-maxStackLines*4))
		}
		hf.Stack = strings.Join(lines, "\n")
	}
	return hf
}

// statusClass is the CSS class suffix of a status: an unknown status looks
// like an error.
func statusClass(s Status) string {
	switch s {
	case StatusPass, StatusLeak, StatusError, StatusCancelled, StatusSkipped:
		return string(s)
	}
	return string(StatusError)
}

func verdictClass(code int) string {
	switch code {
	case ExitPass:
		return string(StatusPass)
	case ExitLeak:
		return string(StatusLeak)
	}
	return string(StatusError)
}

// growthClass is the CSS class of a growth shape.
func growthClass(s harness.Shape) string {
	switch s {
	case harness.ShapeGrows:
		return "grows"
	case harness.ShapeLevelsOff:
		return "levels"
	case harness.ShapeFlat:
		return "flat"
	}
	return "na"
}

func verdictClassOf(v harness.Verdict) string {
	switch v {
	case harness.VerdictPass:
		return "ok"
	case harness.VerdictFail, harness.VerdictError:
		return "fail"
	}
	return "na"
}

// sortedUnknown returns the statuses of counts that Statuses does not list.
func sortedUnknown(counts map[Status]int) []Status {
	var out []Status
	for _, s := range sortedKeys(counts) {
		if rank(s) == rank(StatusError) && s != StatusError {
			out = append(out, s)
		}
	}
	return out
}
