package providers

import (
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/time/rate"
)

// Option configures a Client. Options are applied in order; later ones win.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// Defaults of a Client. Provider packages override some of them (for example
// their documented rate limits) before the caller's options are applied.
const (
	DefaultTimeout       = 15 * time.Second
	DefaultMaxAttempts   = 3
	DefaultBackoffBase   = 250 * time.Millisecond
	DefaultBackoffMax    = 8 * time.Second
	DefaultMaxRetryAfter = 30 * time.Second
	DefaultMaxBodyBytes  = 32 << 20
	DefaultUserAgent     = "leakgate-providers/1"
)

type options struct {
	timeout       time.Duration
	transport     http.RoundTripper
	limit         rate.Limit
	burst         int
	maxAttempts   int
	backoffBase   time.Duration
	backoffMax    time.Duration
	maxRetryAfter time.Duration
	maxBody       int64
	userAgent     string
	logger        *slog.Logger
	secrets       []string
	observer      func(RequestInfo)
	maxIdlePer    int
}

func defaultOptions() options {
	return options{
		timeout:       DefaultTimeout,
		limit:         rate.Inf,
		burst:         1,
		maxAttempts:   DefaultMaxAttempts,
		backoffBase:   DefaultBackoffBase,
		backoffMax:    DefaultBackoffMax,
		maxRetryAfter: DefaultMaxRetryAfter,
		maxBody:       DefaultMaxBodyBytes,
		userAgent:     DefaultUserAgent,
		maxIdlePer:    4,
	}
}

// WithTimeout bounds each attempt of a request, body included. A request
// that runs out of time fails with an error matching ErrTimeout and is
// retried like a 5xx answer.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) { o.timeout = d })
}

// WithTransport makes the client send requests through rt instead of a
// transport of its own (httpmock's, a recording one). The client does not own
// rt: Close leaves it open.
func WithTransport(rt http.RoundTripper) Option {
	return optionFunc(func(o *options) { o.transport = rt })
}

// WithRateLimit limits the client to r requests per second with the given
// burst; every attempt, retries included, waits for a token. rate.Inf turns
// limiting off.
func WithRateLimit(r rate.Limit, burst int) Option {
	return optionFunc(func(o *options) {
		o.limit = r
		if burst < 1 {
			burst = 1
		}
		o.burst = burst
	})
}

// WithRetry sets the number of attempts per request (1 means no retries) and
// the exponential backoff between them: attempt n waits a random duration in
// [0, min(max, base·2ⁿ)] ("full jitter"), or the server's Retry-After when it
// gave one.
func WithRetry(attempts int, base, max time.Duration) Option {
	return optionFunc(func(o *options) {
		if attempts < 1 {
			attempts = 1
		}
		o.maxAttempts, o.backoffBase, o.backoffMax = attempts, base, max
	})
}

// WithMaxRetryAfter is the longest Retry-After the client waits for before a
// retry; a longer one fails the request at once with the rate-limit error.
func WithMaxRetryAfter(d time.Duration) Option {
	return optionFunc(func(o *options) { o.maxRetryAfter = d })
}

// WithMaxBodyBytes bounds how much of a response body the client reads.
// A larger body fails the request with ErrUpstream.
func WithMaxBodyBytes(n int64) Option {
	return optionFunc(func(o *options) { o.maxBody = n })
}

// WithUserAgent sets the User-Agent header (Reddit, for one, rejects generic
// ones).
func WithUserAgent(ua string) Option {
	return optionFunc(func(o *options) { o.userAgent = ua })
}

// WithLogger sets where the client logs retries and the unclosed-client
// warning. The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) { o.logger = l })
}

// WithSecrets registers values (API keys, tokens) that must never appear in
// an error, a log line or a report: the client replaces them with REDACTED
// wherever it prints. Provider packages register their credentials
// themselves.
func WithSecrets(secrets ...string) Option {
	return optionFunc(func(o *options) {
		for _, s := range secrets {
			if s != "" {
				o.secrets = append(o.secrets, s)
			}
		}
	})
}

// WithObserver calls f after every attempt, for metrics. f must be fast and
// safe for concurrent use.
func WithObserver(f func(RequestInfo)) Option {
	return optionFunc(func(o *options) { o.observer = f })
}

// WithMaxIdleConnsPerHost sets how many idle keep-alive connections the
// client's own transport keeps per host.
func WithMaxIdleConnsPerHost(n int) Option {
	return optionFunc(func(o *options) { o.maxIdlePer = n })
}
