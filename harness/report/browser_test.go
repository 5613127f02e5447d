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
type chartBox struct {
	Metric string  `json:"metric"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	Drawn  int     `json:"drawn"` // paths of non-zero length
}

const measureCharts = `Array.from(document.querySelectorAll('figure.chart')).map(f => {
	const svg = f.querySelector('svg');
	const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
	const drawn = svg ? Array.from(svg.querySelectorAll('path, line, polyline'))
		.filter(p => p.getTotalLength() > 0).length : 0;
	return {metric: f.dataset.metric, width: box.width, height: box.height, drawn: drawn};
})`

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
	page.Close()

	require.Equal(t, "leakgate big+ci+real: LEAK", title)
	require.Len(t, charts, chartsOf(r))
	for i, c := range charts {
		require.Positive(t, c.Width, "chart %d (%s) has no width", i, c.Metric)
		require.Positive(t, c.Height, "chart %d (%s) has no height", i, c.Metric)
		require.GreaterOrEqual(t, c.Drawn, 2, "chart %d (%s) draws the series and the baseline", i, c.Metric)
	}
	require.Empty(t, page.Problems())
	t.Logf("%d charts rendered and checked in %s", len(charts), time.Since(start).Round(time.Millisecond))
}
