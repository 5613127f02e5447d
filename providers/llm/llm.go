// Package llm is a client of OpenAI-compatible chat completion APIs
// (OpenAI itself, and servers such as vLLM or Ollama that speak its wire
// format), for the analytics crew.
//
// Endpoint covered:
//
//	POST /v1/chat/completions    Authorization: Bearer <key>
//	     {"model","messages":[{"role","content"}],"temperature","max_tokens"}
//
// No streaming: Complete returns the whole answer.
//
// # Retries
//
// A chat completion is not idempotent in cost: a request the server
// received is billed whether or not its answer arrives. So Complete
// retries only answers that prove the request was refused before any work
// was done or failed on the server's side: rate limits (429
// rate_limit_exceeded, after Retry-After or OpenAI's x-ratelimit-reset-*
// headers) and 5xx answers. It does not retry a timeout by default — the
// model may have generated (and billed) the answer that did not arrive in
// time; set Config.RetryTimeouts to retry anyway. It never retries
// insufficient_quota (429 too, but waiting does not refill a quota).
//
// Retries follow Config.MaxAttempts and Config.RetryBackoff; the core's
// providers.WithRetry option has no effect on this client.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers"
)

// name is the provider name in errors, logs and the unclosed tracker.
const name = "llm"

// Defaults of Config.
const (
	DefaultBaseURL      = "https://api.openai.com"
	DefaultModel        = "gpt-4o-mini"
	DefaultTimeout      = 60 * time.Second
	DefaultMaxAttempts  = 3
	DefaultRetryBackoff = 500 * time.Millisecond
	// maxBackoff caps the exponential backoff between attempts.
	maxBackoff = 8 * time.Second
)

// DefaultRate and DefaultBurst are the client's default rate limit. OpenAI's
// limits depend on the account's tier and the model; one request a second
// is below every paid tier. Raise it with providers.WithRateLimit.
const (
	DefaultRate  rate.Limit = 1
	DefaultBurst int        = 4
)

// Config configures a Client.
type Config struct {
	// BaseURL is the API root without /v1; empty means DefaultBaseURL.
	BaseURL string
	// APIKey is sent as a bearer token; required. Servers that ignore keys
	// accept any non-empty value.
	APIKey string
	// Model names the model; empty means DefaultModel.
	Model string
	// Temperature is sent when set (0 to 2; lower is more deterministic);
	// nil leaves the server's default. Some reasoning models accept only
	// their default, so nil is the portable choice.
	Temperature *float64
	// MaxTokens bounds the answer's length; zero leaves it to the server.
	// An answer cut short has FinishReason "length".
	MaxTokens int
	// Timeout bounds each attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxAttempts is the number of attempts per completion, retries
	// included; zero means DefaultMaxAttempts, one disables retries.
	MaxAttempts int
	// RetryBackoff is the base of the exponential backoff between
	// attempts; zero means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// RetryTimeouts makes a timed-out attempt retried like a 5xx answer.
	// Off by default: see the package documentation.
	RetryTimeouts bool
}

// Client sends chat completions. It is safe for concurrent use; call
// Close when done.
type Client struct {
	core          *providers.Client
	key           string
	model         string
	temperature   *float64
	maxTokens     int
	maxAttempts   int
	backoffBase   time.Duration
	retryTimeouts bool

	closing   chan struct{} // closed by Close: stops backoff waits
	closeOnce sync.Once
}

// New returns a Client. The defaults (timeout, rate limit) come first, so
// opts override them.
func New(cfg Config, opts ...providers.Option) (*Client, error) {
	switch {
	case cfg.APIKey == "":
		return nil, errors.New("llm: Config.APIKey is required")
	case cfg.Temperature != nil && (*cfg.Temperature < 0 || *cfg.Temperature > 2):
		return nil, fmt.Errorf("llm: Config.Temperature %g is outside [0, 2]", *cfg.Temperature)
	case cfg.MaxTokens < 0:
		return nil, fmt.Errorf("llm: Config.MaxTokens %d is negative", cfg.MaxTokens)
	case cfg.Timeout < 0, cfg.MaxAttempts < 0, cfg.RetryBackoff < 0:
		return nil, errors.New("llm: Config.Timeout, MaxAttempts and RetryBackoff must not be negative")
	}
	c := &Client{
		key:           cfg.APIKey,
		model:         cfg.Model,
		temperature:   cfg.Temperature,
		maxTokens:     cfg.MaxTokens,
		maxAttempts:   cfg.MaxAttempts,
		backoffBase:   cfg.RetryBackoff,
		retryTimeouts: cfg.RetryTimeouts,
		closing:       make(chan struct{}),
	}
	if c.model == "" {
		c.model = DefaultModel
	}
	if c.maxAttempts == 0 {
		c.maxAttempts = DefaultMaxAttempts
	}
	if c.backoffBase == 0 {
		c.backoffBase = DefaultRetryBackoff
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	all := append([]providers.Option{
		providers.WithTimeout(timeout),
		providers.WithRateLimit(DefaultRate, DefaultBurst),
	}, opts...)
	all = append(all, providers.WithSecrets(cfg.APIKey))
	core, err := providers.NewClient(name, base, c.classify, c.authorize, all...)
	if err != nil {
		return nil, err
	}
	c.core = core
	return c, nil
}

// Name returns "llm".
func (c *Client) Name() string { return name }

// Model returns the model the client asks for.
func (c *Client) Model() string { return c.model }

// Close stops requests in flight and releases the client's connections.
// It is idempotent and safe to call concurrently.
func (c *Client) Close() error {
	c.closeOnce.Do(func() { close(c.closing) })
	return c.core.Close()
}

// request is the body of POST /v1/chat/completions.
type request struct {
	Model       string    `json:"model"`
	Messages    []Message `json:"messages"`
	Temperature *float64  `json:"temperature,omitempty"`
	MaxTokens   int       `json:"max_tokens,omitempty"`
}

// Complete asks the model to answer messages. See the package
// documentation for which failures are retried. Errors are *APIError for
// the API's error answers, wrapping providers' sentinels.
func (c *Client) Complete(ctx context.Context, messages []Message) (Completion, error) {
	if len(messages) == 0 {
		return Completion{}, errors.New("llm: complete: no messages")
	}
	for i, m := range messages {
		if m.Role == "" {
			return Completion{}, fmt.Errorf("llm: complete: message %d has no role", i)
		}
	}
	body, err := json.Marshal(request{Model: c.model, Messages: messages, Temperature: c.temperature, MaxTokens: c.maxTokens})
	if err != nil {
		return Completion{}, fmt.Errorf("llm: complete: %w", err)
	}
	req := providers.Request{
		Method:  http.MethodPost,
		Path:    "/v1/chat/completions",
		Body:    body,
		Op:      "chat completion " + c.model,
		NoRetry: true, // the retry policy is Complete's own
	}
	for attempt := 1; ; attempt++ {
		resp, err := c.core.Do(ctx, req)
		if err == nil {
			comp, err := ParseCompletion(resp.Body)
			if err != nil {
				return Completion{}, fmt.Errorf("%s: %s: %w", name, req.Op, err)
			}
			return comp, nil
		}
		if attempt >= c.maxAttempts || !c.retryable(err) {
			return Completion{}, err
		}
		wait := c.backoff(attempt)
		if ra := providers.RetryAfter(err); ra > 0 {
			if ra > providers.DefaultMaxRetryAfter {
				return Completion{}, err // the server asks for longer than a caller should wait
			}
			wait = ra
		}
		if werr := c.sleep(ctx, wait); werr != nil {
			return Completion{}, werr
		}
	}
}

// retryable applies the package's retry policy to a failed attempt.
func (c *Client) retryable(err error) bool {
	var se *providers.StatusError
	switch {
	case errors.Is(err, ErrQuotaExceeded):
		return false
	case errors.Is(err, providers.ErrTimeout):
		return c.retryTimeouts
	case errors.As(err, &se):
		return se.Kind == providers.ErrRateLimited || se.Status >= 500
	}
	return false
}

// backoff is a random wait in [0, min(maxBackoff, base·2^(attempt-1))].
func (c *Client) backoff(attempt int) time.Duration {
	ceil := c.backoffBase << (attempt - 1)
	if ceil > maxBackoff || ceil <= 0 {
		ceil = maxBackoff
	}
	return rand.N(ceil + 1)
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: chat completion: %w", name, ctx.Err())
	case <-c.closing:
		return fmt.Errorf("%s: chat completion: %w", name, providers.ErrClosed)
	}
}

// authorize adds the API key to one attempt.
func (c *Client) authorize(req *http.Request, _ []byte) error {
	req.Header.Set("Authorization", "Bearer "+c.key)
	return nil
}

// classify maps error answers ({"error":{…}} at any status, HTML pages
// where JSON was expected) to *APIError and *providers.StatusError.
func (c *Client) classify(resp *providers.Response) error {
	b := bytes.TrimSpace(resp.Body)
	if resp.Status < 400 {
		if len(b) > 0 && b[0] == '<' {
			return &providers.StatusError{Provider: name, Status: resp.Status, Kind: providers.ErrUpstream,
				Message: providers.Excerpt(resp.Body)}
		}
		if !bytes.Contains(b, []byte(`"error"`)) {
			return nil // the common case: a completion
		}
	}
	var w struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(b, &w) != nil {
		return nil // not JSON: the status decides
	}
	we := parseWireError(w.Error)
	if we == nil {
		return nil
	}
	return newAPIError(we, resp.Status, resp.Header, c.core.Redact)
}
