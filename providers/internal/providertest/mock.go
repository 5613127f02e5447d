package providertest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jarcoal/httpmock"
	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers"
)

// Options returns the client options tests use, then extra (later options
// win): a logger that discards, no rate limit, and three attempts per
// request with backoffs of 1 to 5 ms.
func Options(extra ...providers.Option) []providers.Option {
	return append([]providers.Option{
		providers.WithLogger(slog.New(slog.DiscardHandler)),
		providers.WithRateLimit(rate.Inf, 1),
		providers.WithRetry(3, time.Millisecond, 5*time.Millisecond),
	}, extra...)
}

// MockOptions is Options for a client whose requests go to tr, usually an
// *httpmock.MockTransport.
func MockOptions(tr http.RoundTripper, extra ...providers.Option) []providers.Option {
	return Options(append([]providers.Option{providers.WithTransport(tr)}, extra...)...)
}

// Recorder keeps a copy of every request a responder saw, with its body
// and arrival time, for assertions in the test goroutine (httpmock runs
// responders on goroutines of its own). The zero value is ready.
type Recorder struct {
	mu     sync.Mutex
	reqs   []*http.Request
	bodies [][]byte
	at     []time.Time
}

// Wrap returns next, recording each request before next answers it. The
// request body is read in full; next sees it consumed.
func (r *Recorder) Wrap(next httpmock.Responder) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		var body []byte
		if req.Body != nil {
			body, _ = io.ReadAll(req.Body)
		}
		now := time.Now()
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Clone(context.Background()))
		r.bodies = append(r.bodies, body)
		r.at = append(r.at, now)
		r.mu.Unlock()
		return next(req)
	}
}

// Requests returns copies of the requests seen so far and their bodies, in
// order.
func (r *Recorder) Requests() ([]*http.Request, [][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.reqs...), append([][]byte(nil), r.bodies...)
}

// Len returns how many requests were seen.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// Times returns when each request arrived, in order.
func (r *Recorder) Times() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.at...)
}

// RespondJSON returns a responder of status and body with Content-Type
// application/json and the given headers, as name, value pairs (an odd
// name without a value is ignored).
func RespondJSON(status int, body []byte, header ...string) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewBytesResponse(status, body)
		resp.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			resp.Header.Set(header[i], header[i+1])
		}
		return resp, nil
	}
}

// RespondHTML returns a responder of status and an HTML page, as a proxy
// or CDN in front of an API answers.
func RespondHTML(status int, page string) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(status, page)
		resp.Header.Set("Content-Type", "text/html")
		return resp, nil
	}
}

// Request returns a copy of the i-th request seen, counting from zero.
func (r *Recorder) Request(i int) *http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[i]
}

// Last returns a copy of the latest request seen.
func (r *Recorder) Last() *http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[len(r.reqs)-1]
}

// Step is one scripted answer: Status and Body, with Header as given (no
// Content-Type is added), after Delay. A request whose context ends during
// the delay gets its context's error.
type Step struct {
	Status int
	Body   []byte
	Header http.Header
	Delay  time.Duration
}

// OK is a Step answering 200 with body at once.
func OK(body []byte) Step { return Step{Status: http.StatusOK, Body: body} }

// Responder returns a responder answering as s says.
func (s Step) Responder() httpmock.Responder {
	r := httpmock.Responder(func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewBytesResponse(s.Status, s.Body)
		for k, vs := range s.Header {
			resp.Header[k] = vs
		}
		return resp, nil
	})
	if s.Delay > 0 {
		r = r.Delay(s.Delay)
	}
	return r
}

// Script returns a responder answering the n-th request with steps[n],
// and every request after the last step with the last. steps must not be
// empty.
func Script(steps ...Step) httpmock.Responder {
	r := steps[0].Responder()
	for _, s := range steps[1:] {
		r = r.Then(s.Responder())
	}
	return r
}

// OnGet makes mt answer GET requests to url with Script(steps) and returns
// the Recorder of those requests. As with RegisterResponder, a url that
// begins with "=~" is a regular expression.
func OnGet(mt *httpmock.MockTransport, url string, steps ...Step) *Recorder {
	rec := new(Recorder)
	mt.RegisterResponder(http.MethodGet, url, rec.Wrap(Script(steps...)))
	return rec
}
