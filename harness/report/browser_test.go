package report_test

// The browser test opens an HTML report in headless Chromium and checks
// that it renders on its own: every chart drawn, nothing fetched, nothing
// logged. It needs Chromium (Debian package chromium; set CHROMIUM to use
// another binary) and skips without it unless CI=true.

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness/internal/browsertest"
	"github.com/leakgate/leakgate/harness/report"
)

// chartBox is what the browser measured of one chart.
// bigLeaking is the number of leaking cases of bigReport(n).
func bigLeaking(n int) int { return (n + 2) / 3 }

type chartBox struct {
	Metric string  `json:"metric"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	Drawn  int     `json:"drawn"` // paths of non-zero length
	// The tail window's shade and its start line, relative to the chart.
	TailLeft, TailWidth, TailHeight float64
	TailLine                        float64 // length of the start line
}

// caseMarks is what the browser measured of the notes and proven leaks.
type caseMarks struct {
	Notes, Leaked, LeakedBorder int
	LeakedColor                 string
}

const measureCharts = `Array.from(document.querySelectorAll('figure.chart')).map(f => {
	const svg = f.querySelector('svg');
	const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
	const drawn = svg ? Array.from(svg.querySelectorAll('path, line, polyline'))
		.filter(p => p.getTotalLength() > 0).length : 0;
	const tail = svg ? svg.querySelector('g.tail-window rect') : null;
	const line = svg ? svg.querySelector('g.tail-window line') : null;
	const tb = tail ? tail.getBoundingClientRect() : {left: 0, width: 0, height: 0};
	return {metric: f.dataset.metric, width: box.width, height: box.height, drawn: drawn,
		TailLeft: tb.left - (svg ? box.left : 0), TailWidth: tb.width, TailHeight: tb.height,
		TailLine: line ? line.getTotalLength() : 0};
})`

const measureMarks = `(() => {
	const notes = Array.from(document.querySelectorAll('li.note')).filter(n => n.getBoundingClientRect().height > 0);
	const leaked = Array.from(document.querySelectorAll('.finding.leaked')).filter(n => n.getBoundingClientRect().height > 0);
	const style = leaked.length ? getComputedStyle(leaked[0]) : null;
	return {Notes: notes.length, Leaked: leaked.length,
		LeakedBorder: style ? parseFloat(style.borderLeftWidth) : 0,
		LeakedColor: style ? style.borderLeftColor : ''};
})()`

func TestHTMLInBrowser(t *testing.T) {
	browsertest.Chromium(t)
	start := time.Now()

	r, err := report.Merge(handReport(), realReport(t), bigReport(6))
	require.NoError(t, err)
	dir := t.TempDir()
	paths, err := r.WriteFiles(dir, report.FormatHTML)
	require.NoError(t, err)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()

	page := browsertest.Open(t, srv.URL+"/"+filepath.Base(paths[0]), 60*time.Second)
	title := page.Title()
	// Open every case and finding, so that every chart is laid out.
	page.Eval(`document.querySelectorAll('details').forEach(d => d.open = true)`, nil)
	var charts []chartBox
	page.Eval(measureCharts, &charts)
	var marks caseMarks
	page.Eval(measureMarks, &marks)
	page.Close()

	require.Equal(t, "leakgate big+ci+real: LEAK", title)
	require.Len(t, charts, chartsOf(r))
	for i, c := range charts {
		require.Positive(t, c.Width, "chart %d (%s) has no width", i, c.Metric)
		require.Positive(t, c.Height, "chart %d (%s) has no height", i, c.Metric)
		require.GreaterOrEqual(t, c.Drawn, 2, "chart %d (%s) draws the series and the baseline", i, c.Metric)
		// The tail window is the right part of the chart, about half.
		require.Positive(t, c.TailWidth, "chart %d (%s) shades its tail window", i, c.Metric)
		require.Positive(t, c.TailHeight, "chart %d (%s) shades its tail window", i, c.Metric)
		require.Less(t, c.TailWidth, 0.8*c.Width, "chart %d (%s)", i, c.Metric)
		require.Greater(t, c.TailLeft, 0.25*c.Width, "chart %d (%s) starts its tail window in the middle", i, c.Metric)
		require.Positive(t, c.TailLine, "chart %d (%s) draws the tail window's start", i, c.Metric)
	}
	// The hand report's leaking case has two notes and a proven leak; the
	// big report's leaking cases the same.
	require.Equal(t, 2*(1+bigLeaking(6)), marks.Notes)
	require.Equal(t, 1+bigLeaking(6), marks.Leaked)
	require.Positive(t, marks.LeakedBorder)
	require.Equal(t, "rgb(185, 28, 28)", marks.LeakedColor)
	require.Empty(t, page.Problems())
	t.Logf("%d charts rendered and checked in %s", len(charts), time.Since(start).Round(time.Millisecond))
}
