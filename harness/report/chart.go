package report

import (
	"fmt"
	"html/template"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-analyze/charts"

	"github.com/leakgate/leakgate/harness"
)

// Chart sizes, in SVG units (the page scales them to its width). A full
// chart has axes and a legend; a spark chart, drawn for cases that did not
// fail, only the lines.
const (
	fullWidth, fullHeight   = 440, 200
	sparkWidth, sparkHeight = 220, 64
)

// Colors of the lines: the measured series, the baseline, the limits.
var (
	colorValue    = charts.Color{R: 37, G: 99, B: 235, A: 255}
	colorBaseline = charts.Color{R: 120, G: 120, B: 120, A: 255}
	colorLimit    = charts.Color{R: 220, G: 38, B: 38, A: 255}
)

// chartLines are the series of a metric's chart.
type chartLines struct {
	values   []float64 // per iteration; charts.GetNullValue() where not measured
	gaps     bool      // some points were not measured
	baseline float64
	limits   []float64
	exprs    []string // the threshold of each limit
}

// linesOf returns the lines of a metric's chart, and false when its series
// has no measured point.
func linesOf(m harness.MetricResult) (chartLines, bool) {
	l := chartLines{values: make([]float64, len(m.Series)), baseline: m.Baseline}
	measured := 0
	for i, v := range m.Series {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			l.values[i] = charts.GetNullValue()
			l.gaps = true
			continue
		}
		l.values[i] = v
		measured++
	}
	if measured == 0 {
		return l, false
	}
	for _, t := range m.Thresholds {
		v, ok := limitLine(m, t)
		if !ok {
			continue
		}
		if i := indexOf(l.limits, v); i >= 0 {
			l.exprs[i] += ", " + t.Expr
			continue
		}
		l.limits = append(l.limits, v)
		l.exprs = append(l.exprs, t.Expr)
	}
	return l, true
}

func indexOf(fs []float64, v float64) int {
	for i, f := range fs {
		if f == v {
			return i
		}
	}
	return -1
}

// chartSVG renders a metric's series as an inline SVG element: the value
// per iteration (points not measured are left out), the baseline and each
// threshold's limit as horizontal lines. It returns "" when the series has
// no measured point.
func chartSVG(m harness.MetricResult, full bool) (template.HTML, error) {
	l, ok := linesOf(m)
	if !ok {
		return "", nil
	}
	n := len(l.values)
	flat := func(v float64) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = v
		}
		return s
	}
	values := [][]float64{l.values}
	names := []string{m.Name}
	colors := []charts.Color{colorValue}
	if !math.IsNaN(l.baseline) && !math.IsInf(l.baseline, 0) {
		values = append(values, flat(l.baseline))
		names = append(names, "baseline")
		colors = append(colors, colorBaseline)
	}
	for i, v := range l.limits {
		values = append(values, flat(v))
		names = append(names, "limit "+l.exprs[i])
		colors = append(colors, colorLimit)
	}
	// Two invisible lines at the top and the bottom of what is drawn:
	// their paths give the x of every iteration and the y extent, where
	// markTail draws the tail window. They have no legend entry.
	lo, hi := extent(values)
	window := n >= 2 && !math.IsNaN(lo)
	if window {
		values = append(values, flat(hi), flat(lo))
		colors = append(colors, colorProbeHi, colorProbeLo)
	}

	opt := charts.NewLineChartOptionWithData(values)
	opt.Theme = charts.GetTheme(charts.ThemeLight).WithSeriesColors(colors)
	opt.LineStrokeWidth = 1.5
	opt.Symbol.Shape = charts.SymbolNone
	if l.gaps {
		// Measured points between unmeasured ones would be invisible as a
		// line: mark every measured point.
		opt.SeriesList[0].Symbol = charts.Symbol{Shape: charts.SymbolCircle, Size: 2}
	}
	labels := make([]string, n)
	for i := range labels {
		labels[i] = strconv.Itoa(i + 1)
	}
	opt.XAxis.Labels = labels
	opt.XAxis.BoundaryGap = charts.Ptr(false)
	format := func(v float64) string { return fmtValue(m.Unit, v, false) }
	width, height := sparkWidth, sparkHeight
	if full {
		width, height = fullWidth, fullHeight
		small := charts.FontStyle{FontSize: 9}
		opt.Padding = charts.Box{Top: 8, Left: 8, Right: 16, Bottom: 8}
		opt.Legend.SeriesNames = names
		opt.Legend.FontStyle = small
		opt.XAxis.LabelFontStyle = small
		opt.XAxis.LabelCount = min(n, 8)
		opt.XAxis.Title = "iteration"
		opt.XAxis.TitleFontStyle = small
		opt.YAxis = []charts.YAxisOption{{LabelFontStyle: small, ValueFormatter: format, LabelCount: 5}}
	} else {
		opt.Padding = charts.Box{Top: 4, Left: 4, Right: 4, Bottom: 4}
		opt.Legend.Show = charts.Ptr(false)
		opt.XAxis.Show = charts.Ptr(false)
		opt.YAxis = []charts.YAxisOption{{Show: charts.Ptr(false)}}
	}
	p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputSVG, Width: width, Height: height})
	if err := p.LineChart(opt); err != nil {
		return "", fmt.Errorf("chart of %s: %w", m.Name, err)
	}
	svg, err := p.Bytes()
	if err != nil {
		return "", fmt.Errorf("chart of %s: %w", m.Name, err)
	}
	out := string(svg)
	if window {
		out = markTail(out, n)
	}
	return inlineSVG(out, m.Name), nil
}

// Colors of the probe lines, which markTail replaces by the tail window:
// all but transparent, and used by nothing else.
var (
	colorProbeHi = charts.Color{R: 1, G: 2, B: 3, A: 1}
	colorProbeLo = charts.Color{R: 3, G: 2, B: 1, A: 1}
)

// Colors of the tail window: a light shade and its dashed start.
const (
	tailFill   = "rgba(245,158,11,0.14)"
	tailStroke = "rgb(217,119,6)"
)

// extent returns the lowest and highest value of the lines, NaN when none
// has one.
func extent(lines [][]float64) (lo, hi float64) {
	lo, hi = math.NaN(), math.NaN()
	null := charts.GetNullValue()
	for _, line := range lines {
		for _, v := range line {
			if v == null || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			if math.IsNaN(lo) || v < lo {
				lo = v
			}
			if math.IsNaN(hi) || v > hi {
				hi = v
			}
		}
	}
	return lo, hi
}

// tailStart is where the tail window of n measured iterations starts, as
// the harness places it: the last half of the iterations, at least three
// of them. 0 is the baseline, i the point after iteration i.
func tailStart(n int) int { return max(n-max(n/2, 3), 0) }

// probePath matches a probe line's path: its points, and its color.
var probePath = regexp.MustCompile(`<path d="(M [-\d.]+ [-\d.]+(?:\s+L [-\d.]+ [-\d.]+)*)" style="[^"]*stroke:rgba\((1,2,3|3,2,1),[^"]*"/>`)

// markTail replaces the two probe lines of a chart of n iterations by the
// tail window: a shaded region from the window's start (the middle of the
// measured iterations) to the last iteration, over the height of the lines,
// with a dashed vertical line at its start. A chart whose probes are not
// found is returned without them and unmarked.
func markTail(svg string, n int) string {
	var xs []float64
	yHi, yLo := math.NaN(), math.NaN()
	for _, m := range probePath.FindAllStringSubmatch(svg, -1) {
		pts := strings.Fields(strings.NewReplacer("M", " ", "L", " ").Replace(m[1]))
		var px, py []float64
		for i := 0; i+1 < len(pts); i += 2 {
			x, errX := strconv.ParseFloat(pts[i], 64)
			y, errY := strconv.ParseFloat(pts[i+1], 64)
			if errX != nil || errY != nil {
				return probePath.ReplaceAllString(svg, "")
			}
			px, py = append(px, x), append(py, y)
		}
		if len(px) != n {
			return probePath.ReplaceAllString(svg, "")
		}
		xs = px
		if m[2] == "1,2,3" {
			yHi = py[0]
		} else {
			yLo = py[0]
		}
	}
	svg = probePath.ReplaceAllString(svg, "")
	if xs == nil || math.IsNaN(yHi) || math.IsNaN(yLo) {
		return svg
	}
	j := tailStart(n)
	x0 := xs[max(j-1, 0)]
	top, bottom := min(yHi, yLo)-3, max(yHi, yLo)+3
	mark := fmt.Sprintf(`<g class="tail-window"><title>tail window: iterations %d–%d, the last half the verdict judged</title>`+
		`<rect x="%g" y="%g" width="%g" height="%g" style="fill:%s;stroke:none"/>`+
		`<line x1="%g" y1="%g" x2="%g" y2="%g" style="stroke:%s;stroke-width:1;stroke-dasharray:3 2"/></g>`,
		j+1, n, x0, top, xs[n-1]-x0, bottom-top, tailFill, x0, top, x0, bottom, tailStroke)
	// Under the lines: after the chart's background, its first element.
	if i := strings.Index(svg, "/>"); i >= 0 {
		return svg[:i+2] + mark + svg[i+2:]
	}
	return svg
}

// inlineSVG makes the library's SVG document an element of an HTML page:
// the namespace declarations go (the HTML parser puts <svg> in the SVG
// namespace by itself, and the page then holds no URL at all), and the
// element gets a class and an accessible name.
func inlineSVG(svg, name string) template.HTML {
	svg = strings.Replace(svg, ` xmlns="http://www.w3.org/2000/svg"`, "", 1)
	svg = strings.Replace(svg, ` xmlns:xlink="http://www.w3.org/1999/xlink"`, "", 1)
	attrs := fmt.Sprintf(`<svg class="chart-svg" role="img" aria-label="%s per iteration"`, template.HTMLEscapeString(name))
	svg = strings.Replace(svg, "<svg", attrs, 1)
	return template.HTML(svg) //nolint:gosec // rendered by the chart library, which escapes its text
}
