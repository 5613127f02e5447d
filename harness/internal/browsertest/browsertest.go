// Package browsertest opens a page in headless Chromium for the tests that
// check an HTML report renders on its own: it finds the browser, starts it
// with a fixed set of flags, and records everything the page must not
// produce (console errors and warnings, exceptions, error and warning log
// entries, failed or refused loads, any request other than the page itself,
// responses of status 400 or more).
//
// The browser needs Chromium (Debian package chromium; set CHROMIUM to use
// another binary). Without it the test is skipped, unless CI=true, where it
// fails.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Chromium returns the Chromium binary: $CHROMIUM if set, else chromium on
// the PATH. Without one it skips the test, unless CI=true, where Chromium
// must be installed and the test fails.
func Chromium(t testing.TB) string {
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

// Page is one page open in its own headless Chromium. Its methods fail the
// test on any error. Close it before checking Problems; Open also closes it
// when the test ends, so that no browser or chromedp goroutine outlives the
// test.
type Page struct {
	t       testing.TB
	url     string
	ctx     context.Context // the chromedp context of the tab
	timeout context.Context // bounds the whole browser
	stop    func()          // cancels every context and waits for the browser

	closeOnce sync.Once
	mu        sync.Mutex
	problems  []string
}

// Open starts Chromium (see [Chromium]), opens url, and waits until its body
// is ready. The browser, and everything done with it, must finish within
// timeout. Only url itself may be loaded: any other request is a problem.
func Open(t testing.TB, url string, timeout time.Duration) *Page {
	t.Helper()
	exe := Chromium(t)

	ctx, cancel := context.WithTimeout(t.Context(), timeout)
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
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	p := &Page{
		t:       t,
		url:     url,
		ctx:     browserCtx,
		timeout: ctx,
		stop: func() {
			cancelBrowser()
			cancelAlloc()
			cancel()
		},
	}
	// Registered before anything can fail, so that the browser stops
	// however the test ends.
	t.Cleanup(func() { p.closeOnce.Do(p.stop) })

	require.NoError(t, chromedp.Listen(browserCtx, p.listen), "start the browser")
	_, err := chromedp.Run(browserCtx, chromedp.Navigate(url))
	require.NoError(t, err, "open %s", url)
	_, err = chromedp.Run(browserCtx, chromedp.WaitReady("body"))
	require.NoError(t, err, "wait for the body of %s", url)
	return p
}

// Title returns the title of the document.
func (p *Page) Title() string {
	p.t.Helper()
	title, err := chromedp.Run(p.ctx, chromedp.Title())
	require.NoError(p.t, err, "read the title")
	return title
}

// Eval evaluates the JavaScript expression js in the page and decodes its
// value, as encoding/json does, into v. With a nil v it only runs js. A
// thrown exception, or a value that does not decode into v, fails the test.
func (p *Page) Eval(js string, v any) {
	p.t.Helper()
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]byte](js))
	require.NoError(p.t, err, "evaluate %s", js)
	if v == nil {
		return
	}
	require.NotEmpty(p.t, raw, "%s has no value", js)
	require.NoError(p.t, json.Unmarshal(raw, v), "decode the value of %s", js)
}

// Close closes the browser gracefully and waits until it and its chromedp
// goroutines have stopped. It fails the test when the browser does not close
// cleanly or the timeout of Open ran out. Calls after the first do nothing.
func (p *Page) Close() {
	p.t.Helper()
	var err error
	p.closeOnce.Do(func() {
		err = chromedp.Cancel(p.ctx)
		p.stop()
	})
	require.NoError(p.t, err, "close the browser")
	if errors.Is(p.timeout.Err(), context.DeadlineExceeded) {
		p.t.Fatal("the browser test timed out")
	}
}

// Problems returns what the page produced that it must not have, one line
// each, in the order the browser reported it. Call it after Close to see
// every event.
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

func (p *Page) add(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

// listen records the events of the tab that are problems. It runs in the
// loop that reads the tab's messages, so it must not block.
func (p *Page) listen(ev any) {
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
		if ev.Request.URL != p.url {
			p.add("request: %s", ev.Request.URL)
		}
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			p.add("response %d: %s", int(ev.Response.Status), ev.Response.URL)
		}
	}
}
