package providers

import (
	"log/slog"
	"net/http"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
)

// Process-wide counters of the unclosed-client tracker.
var (
	openClients     atomic.Int64
	unclosedClients atomic.Int64
)

// OpenClients returns how many Clients exist that have not been closed (nor
// garbage-collected). It is a gauge: an export job that returns it to its
// previous value released every client it made.
func OpenClients() int64 { return openClients.Load() }

// Unclosed returns how many Clients were garbage-collected without Close
// since the process started. Every one of them is a bug in the code that
// created it; the harness reads this counter as its "unclosed" metric.
func Unclosed() int64 { return unclosedClients.Load() }

// closeState is what the GC cleanup of a Client sees. It must not refer to
// the Client, or the Client would never become unreachable.
type closeState struct {
	closed   atomic.Bool
	provider string
	origin   string
	tr       *http.Transport
	logger   *slog.Logger
	forget   func() // drops the client's secrets from the open set
}

// markClosed records an explicit Close. It reports whether this call was the
// first.
func (s *closeState) markClosed() bool {
	if s.closed.CompareAndSwap(false, true) {
		openClients.Add(-1)
		return true
	}
	return false
}

// track registers c with the unclosed-client tracker: if c becomes
// unreachable before Close, a warning naming the provider and the place c
// was created is logged once, the Unclosed counter grows, and the idle
// connections of its transport are closed.
func track(c *Client, provider string, tr *http.Transport, logger *slog.Logger, forget func()) *closeState {
	s := &closeState{provider: provider, origin: creationSite(), tr: tr, logger: logger, forget: forget}
	openClients.Add(1)
	runtime.AddCleanup(c, func(s *closeState) {
		if !s.markClosed() {
			return
		}
		unclosedClients.Add(1)
		s.forget()
		s.logger.Warn("providers: client garbage-collected without Close; call Close when done with it",
			"provider", s.provider, "created_at", s.origin)
		if s.tr != nil {
			s.tr.CloseIdleConnections()
		}
	}, s)
	return s
}

// providersPkg is this package's import path; frames inside it and its
// subpackages are skipped when naming where a client was created.
var providersPkg = reflect.TypeFor[Client]().PkgPath()

// creationSite returns "function file:line" of the first caller outside the
// providers packages (their tests count as callers).
func creationSite() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	first := ""
	for {
		f, more := frames.Next()
		site := f.Function + " " + f.File + ":" + strconv.Itoa(f.Line)
		if first == "" {
			first = site
		}
		pkg := funcPackage(f.Function)
		if !strings.HasPrefix(pkg, providersPkg) || strings.HasSuffix(pkg, "_test") {
			return site
		}
		if !more {
			return first
		}
	}
}

// funcPackage returns the import path part of a fully qualified function
// name such as "example.com/a/b.(*T).M".
func funcPackage(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	if dot := strings.IndexByte(fn[slash+1:], '.'); dot >= 0 {
		return fn[:slash+1+dot]
	}
	return fn
}
