package load

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/go-analyze/charts"
)

// line is one series of a chart.
type line struct {
	name   string
	values []float64 // NaN: no point
	color  charts.Color
}

var (
	colorBlue   = charts.Color{R: 37, G: 99, B: 235, A: 255}
	colorRed    = charts.Color{R: 220, G: 38, B: 38, A: 255}
	colorOrange = charts.Color{R: 234, G: 88, B: 12, A: 255}
	colorGreen  = charts.Color{R: 22, G: 163, B: 74, A: 255}
	colorAttack = charts.Color{R: 148, G: 163, B: 184, A: 255}
	colorDrain  = charts.Color{R: 168, G: 85, B: 247, A: 255}
)

// chart renders lines over the times xs (seconds) as an inline SVG
// element, with the attack window [0, attackEnd] and the drain window
// [attackEnd, drainEnd] drawn as bands along the top.
func chart(title string, xs []float64, lines []line, attackEnd, drainEnd float64, format func(float64) string) (template.HTML, error) {
	top := math.Inf(-1)
	for _, l := range lines {
		for _, v := range l.values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				top = max(top, v)
			}
		}
	}
	if math.IsInf(top, -1) || len(xs) < 2 {
		return "", nil
	}
	if top <= 0 {
		top = 1
	}
	band := func(from, to, level float64) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = charts.GetNullValue()
			if x >= from && x <= to {
				out[i] = level
			}
		}
		return out
	}
	var values [][]float64
	var names []string
	var colors []charts.Color
	for _, l := range lines {
		vs := make([]float64, len(l.values))
		for i, v := range l.values {
			vs[i] = v
			if math.IsNaN(v) || math.IsInf(v, 0) {
				vs[i] = charts.GetNullValue()
			}
		}
		values, names, colors = append(values, vs), append(names, l.name), append(colors, l.color)
	}
	values = append(values, band(0, attackEnd, top*1.08))
	names, colors = append(names, "attack"), append(colors, colorAttack)
	if drainEnd > attackEnd {
		values = append(values, band(attackEnd, drainEnd, top*1.04))
		names, colors = append(names, "drain"), append(colors, colorDrain)
	}
	opt := charts.NewLineChartOptionWithData(values)
	opt.Theme = charts.GetTheme(charts.ThemeLight).WithSeriesColors(colors)
	opt.LineStrokeWidth = 1.5
	opt.Symbol.Shape = charts.SymbolNone
	labels := make([]string, len(xs))
	for i, x := range xs {
		labels[i] = strconv.FormatFloat(x, 'f', 1, 64) + "s"
	}
	small := charts.FontStyle{FontSize: 9}
	opt.XAxis.Labels = labels
	opt.XAxis.BoundaryGap = charts.Ptr(false)
	opt.XAxis.LabelCount = min(len(xs), 8)
	opt.XAxis.LabelFontStyle = small
	opt.XAxis.Title = "seconds since the attack started"
	opt.XAxis.TitleFontStyle = small
	opt.Padding = charts.Box{Top: 8, Left: 8, Right: 16, Bottom: 8}
	opt.Legend.SeriesNames = names
	opt.Legend.FontStyle = small
	opt.YAxis = []charts.YAxisOption{{LabelFontStyle: small, ValueFormatter: format, LabelCount: 5, Min: charts.Ptr(0.0)}}
	p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputSVG, Width: 640, Height: 220})
	if err := p.LineChart(opt); err != nil {
		return "", fmt.Errorf("chart %s: %w", title, err)
	}
	svg, err := p.Bytes()
	if err != nil {
		return "", fmt.Errorf("chart %s: %w", title, err)
	}
	s := strings.Replace(string(svg), ` xmlns="http://www.w3.org/2000/svg"`, "", 1)
	s = strings.Replace(s, ` xmlns:xlink="http://www.w3.org/1999/xlink"`, "", 1)
	s = strings.Replace(s, "<svg", fmt.Sprintf(`<svg class="chart-svg" role="img" aria-label="%s over time"`, template.HTMLEscapeString(title)), 1)
	return template.HTML(s), nil //nolint:gosec // rendered by the chart library, which escapes its text
}

type htmlChart struct {
	Title string
	SVG   template.HTML
}

type htmlPage struct {
	R        *Report
	Headline string
	Pass     bool
	Rows     []htmlRow
	Text     string
	Charts   []htmlChart
}

type htmlRow struct {
	Mark, Expr, Actual string
	Passed             bool
}

// WriteHTML writes one self-contained page: the thresholds, the text
// summary, and charts of latency, throughput and each server resource over
// time with the attack and drain windows marked. It loads nothing.
func (r *Report) WriteHTML(w io.Writer) error {
	var text strings.Builder
	if err := r.WriteText(&text); err != nil {
		return err
	}
	pg := htmlPage{R: r, Headline: r.Headline(), Pass: r.Passed(), Text: text.String()}
	for _, t := range r.Thresholds {
		row := htmlRow{Mark: "✓", Expr: t.Expr, Actual: fmtKind(t.Kind, t.Actual), Passed: t.Passed}
		if !t.Passed {
			row.Mark = "✗"
		}
		pg.Rows = append(pg.Rows, row)
	}
	add := func(title string, xs []float64, lines []line, format func(float64) string) error {
		svg, err := chart(title, xs, lines, r.AttackEnd, r.DrainEnd, format)
		if err != nil || svg == "" {
			return err
		}
		pg.Charts = append(pg.Charts, htmlChart{Title: title, SVG: svg})
		return nil
	}
	xs := make([]float64, len(r.Timeline))
	p50, p99, cp99 := make([]float64, len(xs)), make([]float64, len(xs)), make([]float64, len(xs))
	sent, ok := make([]float64, len(xs)), make([]float64, len(xs))
	for i, b := range r.Timeline {
		xs[i] = b.T
		// In milliseconds: the chart's axis rounds small fractions of a
		// second up to whole seconds and flattens the lines.
		p50[i], p99[i], cp99[i] = b.P50*1e3, b.P99*1e3, b.CP99*1e3
		sent[i], ok[i] = float64(b.Sent)/b.Seconds, float64(b.OK)/b.Seconds
	}
	if err := add("latency", xs, []line{{"p50 (workers)", p50, colorBlue}, {"p99 (workers)", p99, colorOrange},
		{"p99 (scheduled)", cp99, colorRed}}, fmtMillis); err != nil {
		return err
	}
	rate := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + "/s" }
	if err := add("throughput", xs, []line{{"sent", sent, colorBlue}, {"succeeded", ok, colorGreen}}, rate); err != nil {
		return err
	}
	if s := r.Server; s != nil {
		sx := make([]float64, len(s.Samples))
		for i, smp := range s.Samples {
			sx[i] = smp.T
		}
		count := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
		series := func(f func(Sample) float64) []float64 {
			out := make([]float64, len(s.Samples))
			for i, smp := range s.Samples {
				out[i] = f(smp)
			}
			return out
		}
		known := func(v float64) float64 {
			if v < 0 {
				return nan
			}
			return v
		}
		for _, m := range []struct {
			name   string
			f      func(Sample) float64
			format func(float64) string
		}{
			{"goroutines", func(x Sample) float64 { return known(float64(x.Snapshot.Goroutines)) }, count},
			{"fds", func(x Sample) float64 { return known(float64(x.Snapshot.FDs)) }, count},
			{"conns", func(x Sample) float64 { return known(float64(x.ConnCount())) }, count},
			{"threads", func(x Sample) float64 { return known(float64(x.Snapshot.Threads)) }, count},
			{"rss", func(x Sample) float64 { return known(float64(x.Snapshot.RSS)) }, fmtBytes},
			{"heap", func(x Sample) float64 { return known(float64(x.Snapshot.Heap)) }, fmtBytes},
			{"cpu seconds", Sample.CPU, fmtDur},
		} {
			if err := add("server "+m.name, sx, []line{{m.name, series(m.f), colorBlue}}, m.format); err != nil {
				return err
			}
		}
	}
	return pageTmpl.Execute(w, pg)
}

var pageTmpl = template.Must(template.New("load").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>leakgate load {{.R.Name}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:60em;padding:0 1em;color:#111}
h1{font-size:1.2em}.pass{color:#15803d}.fail{color:#b91c1c}
table{border-collapse:collapse;margin:.5em 0}td{padding:.15em .8em .15em 0}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:12px}
figure{margin:1em 0}figcaption{font-weight:600}.chart-svg{width:100%;height:auto;max-width:640px}
</style>
</head>
<body>
<h1 class="{{if .Pass}}pass{{else}}fail{{end}}">{{.Headline}}</h1>
<table>
{{range .Rows}}<tr class="{{if .Passed}}pass{{else}}fail{{end}}"><td>{{.Mark}}</td><td>{{.Expr}}</td><td>{{.Actual}}</td></tr>
{{end}}</table>
{{range .Charts}}<figure class="chart" data-metric="{{.Title}}"><figcaption>{{.Title}}</figcaption>{{.SVG}}</figure>
{{end}}<pre>{{.Text}}</pre>
</body>
</html>
`))

// fmtMillis labels a latency axis in milliseconds.
func fmtMillis(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "ms" }
