package providers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers/leakinject"
)

// Request is one call to an upstream API, relative to the client's base URL.
type Request struct {
	// Method defaults to GET.
	Method string
	// Path is appended to the base URL's path. It is in escaped form: escape
	// path segments that may hold reserved characters with url.PathEscape.
	Path  string
	Query url.Values
	// Header is added to every attempt.
	Header http.Header
	// Body is sent as is; ContentType defaults to application/json when Body
	// is set.
	Body        []byte
	ContentType string
	// Op names the operation in errors and logs, e.g. "quote AAPL".
	Op string
	// NoRetry forbids retries of this request whatever its method. Requests
	// that are not GET, HEAD, PUT or DELETE are retried only after a 429,
	// which guarantees the upstream did not act on them.
	NoRetry bool
}

// Response is a complete upstream answer: the body has been read (bounded)
// and closed.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Classifier inspects a complete response and returns an error when it is an
// error answer, for APIs that report errors in bodies (Alpha Vantage answers
// HTTP 200 with {"Note": …}). Returning nil leaves the decision to the
// status code. A classifier must not keep resp.
type Classifier func(resp *Response) error

// Authorizer adds credentials to one attempt of a request. It runs again on
// every retry, so signatures carry a fresh timestamp.
type Authorizer func(req *http.Request, body []byte) error

// RequestInfo describes one finished attempt, for observers.
type RequestInfo struct {
	Provider string
	Op       string
	Method   string
	Status   int // 0 when no answer was received
	Attempt  int // 1-based
	Duration time.Duration
	Err      error
}

// Client is the HTTP core every provider package is built on. It owns its
// http.Transport (unless one is injected with WithTransport), limits its
// request rate, retries with backoff, always reads and closes response
// bodies, maps error answers to the package's typed errors and redacts
// secrets. Close releases the transport's connections; a Client dropped
// without Close is reported by the unclosed-client tracker.
//
// A Client is safe for concurrent use.
type Client struct {
	name     string
	base     *url.URL
	hc       *http.Client
	own      *http.Transport // nil when the transport was injected
	limiter  *rate.Limiter
	opts     options
	classify Classifier
	auth     Authorizer
	logger   *slog.Logger
	redactor redactor
	forget   func() // drops the secrets from the open set

	ctx    context.Context // canceled by Close: stops in-flight requests
	cancel context.CancelFunc

	mu       sync.RWMutex // guards closed against new requests
	closed   bool
	inflight sync.WaitGroup
	once     sync.Once
	state    *closeState
}

// NewClient returns a Client named provider (used in errors, logs and the
// unclosed tracker) for the API at baseURL. classify and auth may be nil.
// The caller must call Close when done.
func NewClient(provider, baseURL string, classify Classifier, auth Authorizer, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("%s: base URL: %w", provider, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%s: base URL %q: want http(s)://host[/path]", provider, baseURL)
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	c := &Client{
		name:     provider,
		base:     u,
		limiter:  rate.NewLimiter(o.limit, o.burst),
		opts:     o,
		classify: classify,
		auth:     auth,
		logger:   o.logger.With("provider", provider),
		redactor: newRedactor(o.secrets),
		forget:   registerSecrets(o.secrets),
	}
	rt := o.transport
	if rt == nil {
		c.own = newTransport(o.maxIdlePer)
		rt = c.own
	}
	c.hc = &http.Client{
		Transport: rt,
		// Redirects are followed with the same transport; credentials in
		// headers are dropped by net/http on cross-host redirects.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			return nil
		},
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.state = track(c, provider, c.own, c.logger, c.forget)
	return c, nil
}

func newTransport(maxIdlePerHost int) *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * maxIdlePerHost,
		MaxIdleConnsPerHost:   maxIdlePerHost,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
}

// Name returns the provider name the client was created with.
func (c *Client) Name() string { return c.name }

// Redact replaces every registered secret in s with REDACTED.
func (c *Client) Redact(s string) string {
	return c.redactor.replace(s)
}

// Close cancels requests in flight, waits for them to return, and closes the
// idle connections of the client's own transport. It is idempotent and safe
// to call concurrently; every call returns nil.
func (c *Client) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		c.state.markClosed()
		c.cancel()
		c.inflight.Wait()
		c.forget()
		if c.own != nil {
			c.own.CloseIdleConnections()
		}
	})
	return nil
}

// Do sends req, retrying as the client's policy allows, and returns the
// complete successful response. Error answers are returned as *StatusError,
// transport failures wrapped with the operation; no error holds a secret.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return nil, fmt.Errorf("%s: %s: %w", c.name, req.Op, ErrClosed)
	}
	c.inflight.Add(1)
	c.mu.RUnlock()
	defer c.inflight.Done()

	// Close stops requests in flight: merge the caller's context with the
	// client's.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()

	if req.Method == "" {
		req.Method = http.MethodGet
	}
	target := c.url(req)
	idempotent := !req.NoRetry && (req.Method == http.MethodGet || req.Method == http.MethodHead ||
		req.Method == http.MethodPut || req.Method == http.MethodDelete)

	var lastErr error
	for attempt := 1; attempt <= c.opts.maxAttempts; attempt++ {
		if err := c.limiter.Wait(ctx); err != nil {
			return nil, c.ctxErr(ctx, req, err)
		}
		start := time.Now()
		resp, err := c.attempt(ctx, req, target)
		c.observe(req, resp, attempt, time.Since(start), err)
		if err == nil {
			return resp, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			return nil, c.ctxErr(ctx, req, ctx.Err())
		}
		retry := Retryable(err) && !req.NoRetry && (idempotent || errors.Is(err, ErrRateLimited))
		if !retry || attempt == c.opts.maxAttempts {
			break
		}
		wait := c.backoff(attempt)
		if ra := RetryAfter(err); ra > 0 {
			if ra > c.opts.maxRetryAfter {
				break // the upstream asks for longer than we may wait
			}
			wait = ra
		}
		c.logger.Debug("retrying", "op", req.Op, "attempt", attempt, "wait", wait, "err", c.Redact(err.Error()))
		if err := sleep(ctx, wait); err != nil {
			return nil, c.ctxErr(ctx, req, err)
		}
	}
	return nil, lastErr
}

// attempt performs one HTTP exchange and reads the whole body.
func (c *Client) attempt(ctx context.Context, req Request, target string) (*Response, error) {
	actx, cancel := context.WithTimeout(ctx, c.opts.timeout)
	defer cancel()
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(actx, req.Method, target, body)
	if err != nil {
		return nil, c.wrap(req, fmt.Errorf("build request: %w", err))
	}
	hreq.Header.Set("User-Agent", c.opts.userAgent)
	hreq.Header.Set("Accept", "application/json")
	if req.Body != nil {
		ct := req.ContentType
		if ct == "" {
			ct = "application/json"
		}
		hreq.Header.Set("Content-Type", ct)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	if c.auth != nil {
		if err := c.auth(hreq, req.Body); err != nil {
			return nil, c.wrap(req, fmt.Errorf("authorize: %w", err))
		}
	}
	if leakinject.On(leakinject.ProviderUnclosedBody) {
		// The leak: the exchange runs on a context that outlives the
		// attempt, as http.Get's does, and an error answer is returned
		// before its body is read or closed. The transport keeps the
		// connection for a read that never comes, with its goroutines.
		hreq = hreq.WithContext(context.WithoutCancel(actx))
	}
	hresp, err := c.hc.Do(hreq)
	if err != nil {
		return nil, c.transportErr(ctx, actx, req, err)
	}
	if leakinject.On(leakinject.ProviderUnclosedBody) && hresp.StatusCode >= 400 {
		return nil, c.statusErr(&Response{Status: hresp.StatusCode, Header: hresp.Header})
	}
	data, err := readBody(hresp.Body, c.opts.maxBody)
	hresp.Body.Close()
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return nil, &StatusError{Provider: c.name, Status: hresp.StatusCode, Kind: ErrUpstream,
				Message: fmt.Sprintf("response body larger than %d bytes", c.opts.maxBody)}
		}
		return nil, c.transportErr(ctx, actx, req, fmt.Errorf("read body: %w", err))
	}
	resp := &Response{Status: hresp.StatusCode, Header: hresp.Header, Body: data}
	if c.classify != nil {
		// The classifier sees the body with the secrets masked, so that
		// whatever text of it an error keeps, and however it is cut,
		// holds none.
		view := &Response{Status: resp.Status, Header: resp.Header, Body: c.redactor.body(resp.Body)}
		if err := c.classify(view); err != nil {
			return nil, c.scrub(err)
		}
	}
	if resp.Status >= 400 {
		return nil, c.statusErr(resp)
	}
	return resp, nil
}

var errBodyTooLarge = errors.New("body too large")

// readBody reads at most max bytes of r. It reads to EOF so the connection
// can be reused.
func readBody(r io.Reader, max int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, errBodyTooLarge
	}
	return buf.Bytes(), nil
}

// statusErr maps an HTTP error status to a *StatusError.
func (c *Client) statusErr(resp *Response) error {
	return &StatusError{
		Provider:   c.name,
		Status:     resp.Status,
		Kind:       KindForStatus(resp.Status),
		Message:    Excerpt(c.redactor.body(resp.Body)), // mask, then cut
		RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

// KindForStatus is the sentinel an HTTP error status maps to by default.
func KindForStatus(status int) error {
	switch status {
	case http.StatusTooManyRequests:
		return ErrRateLimited
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrUnauthorized
	case http.StatusNotFound:
		return ErrNotFound
	}
	return ErrUpstream
}

// NewStatusError builds the *StatusError a classifier returns for resp, with
// the Retry-After header parsed. message is the upstream's error text.
func (c *Client) NewStatusError(resp *Response, kind error, message string) *StatusError {
	return &StatusError{
		Provider:   c.name,
		Status:     resp.Status,
		Kind:       kind,
		Message:    truncate(c.Redact(message), 200), // mask, then cut
		RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

// transportErr turns a failed exchange into an error: a timeout of the
// attempt becomes ErrTimeout, the caller's cancellation stays a context
// error, anything else is wrapped without the URL (which may hold a key).
func (c *Client) transportErr(ctx, actx context.Context, req Request, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // drop the URL: it may carry credentials
	}
	switch {
	case ctx.Err() != nil:
		return c.ctxErr(ctx, req, ctx.Err())
	case actx.Err() != nil || isTimeout(err):
		return c.wrap(req, fmt.Errorf("%w after %s: %w", ErrTimeout, c.opts.timeout, err))
	}
	return c.wrap(req, &StatusError{Provider: c.name, Kind: ErrUpstream, Status: 0,
		Message: c.Redact(err.Error())})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// ctxErr reports a request stopped by its context: ErrClosed when Close
// stopped it, the caller's context error otherwise.
func (c *Client) ctxErr(_ context.Context, req Request, err error) error {
	if c.ctx.Err() != nil {
		return fmt.Errorf("%s: %s: %w", c.name, req.Op, ErrClosed)
	}
	return c.wrap(req, err)
}

// wrap prefixes err with the provider and operation, redacting secrets from
// its text while keeping it matchable with errors.Is and errors.As.
func (c *Client) wrap(req Request, err error) error {
	return c.scrub(fmt.Errorf("%s: %s: %w", c.name, req.Op, err))
}

func (c *Client) scrub(err error) error {
	if c.redactor.r == nil {
		return err
	}
	msg := err.Error()
	if red := c.Redact(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

// redactedError shows a redacted message and unwraps to the original error.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func (c *Client) url(req Request) string {
	u := *c.base
	if req.Path != "" {
		p := strings.TrimSuffix(c.base.EscapedPath(), "/") + "/" + strings.TrimPrefix(req.Path, "/")
		u.RawPath, u.Path = p, unescapePath(p)
	}
	if len(req.Query) > 0 {
		q := u.Query()
		for k, vs := range req.Query {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func unescapePath(p string) string {
	if s, err := url.PathUnescape(p); err == nil {
		return s
	}
	return p
}

func (c *Client) backoff(attempt int) time.Duration {
	ceil := c.opts.backoffBase << (attempt - 1)
	if ceil > c.opts.backoffMax || ceil <= 0 {
		ceil = c.opts.backoffMax
	}
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil + 1)
}

func (c *Client) observe(req Request, resp *Response, attempt int, d time.Duration, err error) {
	if c.opts.observer == nil {
		return
	}
	info := RequestInfo{Provider: c.name, Op: req.Op, Method: req.Method, Attempt: attempt, Duration: d, Err: err}
	if resp != nil {
		info.Status = resp.Status
	} else {
		var se *StatusError
		if errors.As(err, &se) {
			info.Status = se.Status
		}
	}
	c.opts.observer(info)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// maxRetryAfterSeconds caps a parsed Retry-After (a year) so that absurd
// values stay "very long" instead of overflowing time.Duration.
const maxRetryAfterSeconds = 365 * 24 * 3600

// ParseRetryAfter parses a Retry-After header: delay-seconds or an HTTP date.
// It returns zero for an empty or unparsable value.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		switch {
		case !(secs > 0): // also NaN
			return 0
		case secs > maxRetryAfterSeconds:
			return maxRetryAfterSeconds * time.Second
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
