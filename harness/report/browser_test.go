package report_test

// The browser test opens an HTML report in headless Chromium and checks
// that it renders on its own: every chart drawn, nothing fetched, nothing
// logged. It needs Chromium (Debian package chromium; set CHROMIUM to use
// another binary) and skips without it unless CI=true.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness/report"
)

// chromium returns the Chromium binary, skipping the test when there is
// none, unless in CI, where it must be installed.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	p, err := exec.LookPath("chromium")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("chromium is required in CI: %v", err)
	}
	t.Skipf("no chromium (install the chromium package or set CHROMIUM): %v", err)
	return ""
}

// pageProblems collects what the page must not produce: console errors and
// warnings, exceptions, log entries of those levels, failed or refused
// requests.
type pageProblems struct {
	page string // the one URL the page may load: itself
	mu   sync.Mutex
	list []string
}

func (p *pageProblems) add(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *pageProblems) get() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.list...)
}

func (p *pageProblems) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			p.add("console.%s: %v", ev.Type, args)
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		p.add("exception at %d:%d: %s", d.LineNumber, d.ColumnNumber, msg)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
			p.add("log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventLoadingFailed:
		p.add("request failed: %s %s (blocked: %s)", ev.ErrorText, ev.RequestID, ev.BlockedReason)
	case *network.EventRequestWillBeSent:
		if ev.Request.URL != p.page {
			p.add("request: %s", ev.Request.URL)
		}
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			p.add("response %d: %s", int(ev.Response.Status), ev.Response.URL)
		}
	}
}

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
	exe := chromium(t)
	start := time.Now()

	r, err := report.Merge(handReport(), realReport(t), bigReport(6))
	require.NoError(t, err)
	dir := t.TempDir()
	paths, err := r.WriteFiles(dir, report.FormatHTML)
	require.NoError(t, err)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	url := srv.URL + "/" + filepath.Base(paths[0])

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 1024),
	)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()

	problems := pageProblems{page: url}
	require.NoError(t, chromedp.Listen(browserCtx, problems.listen))

	_, err = chromedp.Run(browserCtx, chromedp.Navigate(url))
	require.NoError(t, err)
	_, err = chromedp.Run(browserCtx, chromedp.WaitReady("body"))
	require.NoError(t, err)
	title, err := chromedp.Run(browserCtx, chromedp.Title())
	require.NoError(t, err)
	// Open every case and finding, so that every chart is laid out.
	_, err = chromedp.Run(browserCtx, chromedp.Evaluate[int](`document.querySelectorAll('details').forEach(d => d.open = true); 0`))
	require.NoError(t, err)
	charts, err := chromedp.Run(browserCtx, chromedp.Evaluate[[]chartBox](measureCharts))
	require.NoError(t, err)
	require.NoError(t, chromedp.Cancel(browserCtx), "close the browser")
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("the browser test timed out")
	}

	require.Equal(t, "leakgate big+ci+real: LEAK", title)
	require.Len(t, charts, chartsOf(r))
	for i, c := range charts {
		require.Positive(t, c.Width, "chart %d (%s) has no width", i, c.Metric)
		require.Positive(t, c.Height, "chart %d (%s) has no height", i, c.Metric)
		require.GreaterOrEqual(t, c.Drawn, 2, "chart %d (%s) draws the series and the baseline", i, c.Metric)
	}
	require.Empty(t, problems.get())
	t.Logf("%d charts rendered and checked in %s", len(charts), time.Since(start).Round(time.Millisecond))
}
