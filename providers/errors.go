package providers

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Every error a provider returns wraps at most one of them,
// so callers branch with errors.Is.
var (
	// ErrRateLimited means the upstream refused the request for exceeding a
	// quota. Errors wrapping it may carry a RetryAfter (see *StatusError).
	ErrRateLimited = errors.New("rate limited")
	// ErrUnauthorized means the credentials are missing, wrong or lack the
	// permission the request needs.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound means the symbol, account or order does not exist upstream.
	ErrNotFound = errors.New("not found")
	// ErrUpstream means the upstream answered with an error not covered by the
	// more specific sentinels (5xx, unexpected 4xx, an error body).
	ErrUpstream = errors.New("upstream error")
	// ErrDecode means the response could not be parsed into domain types.
	ErrDecode = errors.New("decode error")
	// ErrNoData means the request was valid but the range holds no data.
	ErrNoData = errors.New("no data")
	// ErrUnsupported means the provider does not offer the operation or the
	// asset class asked for.
	ErrUnsupported = errors.New("unsupported")
	// ErrClosed means the client was used after Close.
	ErrClosed = errors.New("client closed")
	// ErrBadSymbol means a symbol could not be parsed or normalised.
	ErrBadSymbol = errors.New("bad symbol")
	// ErrTimeout means the request did not complete within the client's
	// timeout (the caller's own context was still live).
	ErrTimeout = errors.New("timeout")
)

// StatusError is an error answer from an upstream API: an HTTP error status,
// or a success status whose body says it is an error (Alpha Vantage's "Note",
// Reddit's 200 with an error body). It never holds credentials.
type StatusError struct {
	Provider string
	// Status is the HTTP status code of the answer; 0 when none arrived
	// (connection refused, reset, cut short).
	Status int
	// Kind is the sentinel this error matches with errors.Is: one of
	// ErrRateLimited, ErrUnauthorized, ErrNotFound, ErrNoData, ErrUpstream.
	Kind error
	// Message is the upstream's own error text, or an excerpt of the body
	// (at most 200 bytes, secrets redacted).
	Message string
	// RetryAfter is the wait the upstream asked for; zero if none.
	RetryAfter time.Duration
}

// Error implements error.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s: %v (HTTP %d)", e.Provider, e.Kind, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return msg
}

// Is reports whether target is the error's Kind.
func (e *StatusError) Is(target error) bool { return target == e.Kind }

// DecodeError is a response that could not be parsed.
type DecodeError struct {
	Provider string
	// Field names the JSON field or CSV column at fault, if known.
	Field string
	Err   error
}

// Error implements error.
func (e *DecodeError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: decode %s: %v", e.Provider, e.Field, e.Err)
	}
	return fmt.Sprintf("%s: decode: %v", e.Provider, e.Err)
}

// Unwrap returns the underlying parse error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is makes every DecodeError match ErrDecode.
func (e *DecodeError) Is(target error) bool { return target == ErrDecode }

// Decodef returns a *DecodeError for provider and field.
func Decodef(provider, field, format string, args ...any) error {
	return &DecodeError{Provider: provider, Field: field, Err: fmt.Errorf(format, args...)}
}

// Retryable reports whether a request that failed with err is worth trying
// again: rate limits, 5xx answers, timeouts and exchanges that got no answer
// at all (connection refused or reset: Status 0) are; everything else is
// not. The client retries non-idempotent requests only after a rate limit.
func Retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Kind == ErrRateLimited || se.Status >= 500 || se.Status == 0 && se.Kind == ErrUpstream
	}
	return errors.Is(err, ErrTimeout)
}

// RetryAfter returns the wait an error asks for, or zero.
func RetryAfter(err error) time.Duration {
	var se *StatusError
	if errors.As(err, &se) {
		return se.RetryAfter
	}
	return 0
}
