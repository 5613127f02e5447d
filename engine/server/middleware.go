package server

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// discardWriter records what the mux's own 404 and 405 handlers write, so
// they can be answered with problem details instead.
type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }

// handler is the API's http.Handler: it logs and counts requests, recovers
// from panics, refuses traversal, checks the bearer token under /api/, and
// answers unknown routes and methods with problem details.
func (s *Server) handler() http.Handler {
	mux := s.routes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		route := "unmatched"
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("server: handler panicked", "path", r.URL.Path, "panic", v)
				if sw.status == 0 {
					writeProblem(sw, r, Problem{Status: http.StatusInternalServerError})
				}
			}
			s.metrics.observeHTTP(route, sw.status)
			s.log.Debug("server: request", "method", r.Method, "path", r.URL.Path, "route", route,
				"status", sw.status, "duration", time.Since(start))
		}()
		sw.Header().Set("X-Content-Type-Options", "nosniff")

		if strings.HasPrefix(r.URL.Path, "/api/") && !s.authorized(r) {
			sw.Header().Set("WWW-Authenticate", `Bearer realm="ffe"`)
			writeProblem(sw, r, Problem{Type: ProblemUnauthorized, Status: http.StatusUnauthorized,
				Detail: "missing or wrong bearer token in the Authorization header"})
			return
		}
		if !cleanPath(r) {
			writeProblem(sw, r, Problem{Type: ProblemInvalidPath, Title: "Invalid path", Status: http.StatusBadRequest,
				Detail: "the path must not hold '.' or '..' segments, empty segments or encoded slashes"})
			return
		}
		h, pattern := mux.Handler(r)
		if pattern == "" {
			// The mux's own answer: 404, or 405 with an Allow header.
			d := &discardWriter{h: http.Header{}}
			h.ServeHTTP(d, r)
			if allow := d.h.Get("Allow"); allow != "" {
				sw.Header().Set("Allow", allow)
			}
			status := d.status
			if status == 0 || status == http.StatusOK {
				status = http.StatusNotFound
			}
			writeProblem(sw, r, Problem{Status: status})
			return
		}
		route = pattern
		mux.ServeHTTP(sw, r)
	})
}

// cleanPath reports whether the request path is in canonical form: no
// dot segments, no empty segments, and no encoded slash or backslash that
// could smuggle a separator into an id or file name.
func cleanPath(r *http.Request) bool {
	p := r.URL.Path
	if p == "" || p[0] != '/' || strings.Contains(p, "//") || strings.ContainsAny(p, "\\\x00") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	raw := strings.ToLower(r.URL.RawPath)
	return !strings.Contains(raw, "%2f") && !strings.Contains(raw, "%5c") && !strings.Contains(raw, "%00")
}

// authorized reports whether r carries the server's bearer token. The
// comparison takes the same time whatever the token given.
func (s *Server) authorized(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], s.tokenSum[:]) == 1
}

// slogWriter adapts net/http's error log to slog.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.log.Warn("server: http", "msg", string(bytes.TrimSpace(p)))
	return len(p), nil
}
