package load_test

// The browser test opens a load report in headless Chromium and checks
// that it renders on its own: every chart drawn, nothing fetched, nothing
// logged. It needs Chromium (set CHROMIUM to use another binary) and
// skips without it unless CI=true.

import (
	"context"
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

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/harness/load"
)

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
	t.Skipf("no chromium: %v", err)
	return ""
}

type problems struct {
	page string
	mu   sync.Mutex
	list []string
}

func (p *problems) add(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *problems) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			p.add("console.%s", ev.Type)
		}
	case *runtime.EventExceptionThrown:
		p.add("exception: %s", ev.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
			p.add("log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventLoadingFailed:
		p.add("request failed: %s", ev.ErrorText)
	case *network.EventRequestWillBeSent:
		if ev.Request.URL != p.page {
			p.add("request: %s", ev.Request.URL)
		}
	}
}

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
	exe := chromium(t)
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
	page := srv.URL + "/load.html"

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 1024),
	)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	pr := problems{page: page}
	require.NoError(t, chromedp.Listen(browserCtx, pr.listen))
	_, err = chromedp.Run(browserCtx, chromedp.Navigate(page))
	require.NoError(t, err)
	_, err = chromedp.Run(browserCtx, chromedp.WaitReady("body"))
	require.NoError(t, err)
	charts, err := chromedp.Run(browserCtx, chromedp.Evaluate[[]chartBox](measureCharts))
	require.NoError(t, err)
	require.NoError(t, chromedp.Cancel(browserCtx))

	// latency, throughput, and goroutines, fds, conns, threads, rss, heap, cpu
	require.Len(t, charts, 9)
	for _, c := range charts {
		require.Positive(t, c.Width, c.Metric)
		require.GreaterOrEqual(t, c.Drawn, 2, "%s draws its series and the attack window", c.Metric)
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	require.Empty(t, pr.list)
}
