package load_test

// The browser test opens a load report in headless Chromium and checks
// that it renders on its own: every chart drawn, nothing fetched, nothing
// logged. It needs Chromium (set CHROMIUM to use another binary) and
// skips without it unless CI=true.

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/harness/internal/browsertest"
	"github.com/leakgate/leakgate/harness/load"
)

// chartBox is what the browser measured of one chart.
type chartBox struct {
	Metric string  `json:"metric"`
	Width  float64 `json:"width"`
	Drawn  int     `json:"drawn"`
}

const measureCharts = `Array.from(document.querySelectorAll('figure.chart')).map(f => {
	const svg = f.querySelector('svg');
	const box = svg ? svg.getBoundingClientRect() : {width: 0};
	const drawn = svg ? Array.from(svg.querySelectorAll('path, line, polyline'))
		.filter(p => p.getTotalLength() > 0).length : 0;
	return {metric: f.dataset.metric, width: box.width, drawn: drawn};
})`

func TestHTMLInBrowser(t *testing.T) {
	browsertest.Chromium(t)
	url := serve(t, ok)
	cfg := config(url, 100, time.Second)
	self := harness.Self()
	cfg.Server = &self
	rep, err := load.Run(t.Context(), cfg)
	require.NoError(t, err)
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "load.html"))
	require.NoError(t, err)
	require.NoError(t, rep.WriteHTML(f))
	require.NoError(t, f.Close())
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()

	page := browsertest.Open(t, srv.URL+"/load.html", 60*time.Second)
	var charts []chartBox
	page.Eval(measureCharts, &charts)
	page.Close()

	// latency, throughput, and goroutines, fds, conns, threads, rss, heap, cpu
	require.Len(t, charts, 9)
	for _, c := range charts {
		require.Positive(t, c.Width, c.Metric)
		require.GreaterOrEqual(t, c.Drawn, 2, "%s draws its series and the attack window", c.Metric)
	}
	require.Empty(t, page.Problems())
}
