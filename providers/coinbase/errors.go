package coinbase

import (
	"errors"
	"strings"

	"github.com/leakgate/leakgate/providers"
)

// Reasons an order is refused, matched with errors.Is against an *OrderError.
var (
	// ErrInsufficientFunds means the account cannot pay for the order
	// (INSUFFICIENT_FUND, PREVIEW_INSUFFICIENT_FUND, …).
	ErrInsufficientFunds = errors.New("insufficient funds")
	// ErrInvalidOrder means the order itself is wrong: an unknown product, a
	// size or price out of range or of too many decimals, an unsupported
	// configuration (INVALID_*, PREVIEW_INVALID_*, UNSUPPORTED_*).
	ErrInvalidOrder = errors.New("invalid order")
)

// OrderError is an order Coinbase refused: the create-order endpoint answers
// HTTP 200 with "success": false and an error_response. It matches
// providers.ErrUpstream, and ErrInsufficientFunds or ErrInvalidOrder when the
// reason says so.
type OrderError struct {
	// Reason is error_response.error, e.g. "INSUFFICIENT_FUND".
	Reason string
	// Message is Coinbase's text, e.g. "Insufficient balance in source account".
	Message string
	// Details is error_response.error_details.
	Details string
	// PreviewFailureReason and NewOrderFailureReason are the more specific
	// codes Coinbase may add, e.g. "PREVIEW_INSUFFICIENT_FUND".
	PreviewFailureReason  string
	NewOrderFailureReason string
	// FailureReason is the top-level failure_reason (often
	// "UNKNOWN_FAILURE_REASON").
	FailureReason string
}

// Error implements error.
func (e *OrderError) Error() string {
	var b strings.Builder
	b.WriteString("order rejected: ")
	b.WriteString(e.reason())
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Details != "" && e.Details != e.Message {
		b.WriteString(" (")
		b.WriteString(e.Details)
		b.WriteString(")")
	}
	for _, r := range []string{e.PreviewFailureReason, e.NewOrderFailureReason} {
		if known(r) && r != e.reason() {
			b.WriteString(" [")
			b.WriteString(r)
			b.WriteString("]")
		}
	}
	return b.String()
}

// reason is the most specific failure code present.
func (e *OrderError) reason() string {
	for _, r := range []string{e.Reason, e.NewOrderFailureReason, e.PreviewFailureReason, e.FailureReason} {
		if known(r) {
			return r
		}
	}
	return "UNKNOWN_FAILURE_REASON"
}

// known reports whether a failure code says something.
func known(r string) bool {
	return r != "" && !strings.HasPrefix(r, "UNKNOWN_") && !strings.HasSuffix(r, "_UNSPECIFIED")
}

// Is matches providers.ErrUpstream, and ErrInsufficientFunds or
// ErrInvalidOrder by the failure codes.
func (e *OrderError) Is(target error) bool {
	switch target {
	case providers.ErrUpstream:
		return true
	case ErrInsufficientFunds:
		return e.any(func(r string) bool { return strings.Contains(r, "INSUFFICIENT") })
	case ErrInvalidOrder:
		return e.any(func(r string) bool {
			return strings.Contains(r, "INVALID") || strings.HasPrefix(r, "UNSUPPORTED")
		})
	}
	return false
}

func (e *OrderError) any(f func(string) bool) bool {
	for _, r := range []string{e.Reason, e.PreviewFailureReason, e.NewOrderFailureReason, e.FailureReason} {
		if f(strings.ToUpper(r)) {
			return true
		}
	}
	return false
}
