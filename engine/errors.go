package engine

import (
	"errors"
	"fmt"

	"github.com/leakgate/leakgate/engine/bars"
)

// Errors callers branch on with errors.Is.
var (
	// ErrClosed means the engine was used after Close.
	ErrClosed = errors.New("engine closed")
	// ErrAlreadyExecuted means execute was asked twice for one decision.
	ErrAlreadyExecuted = errors.New("decision already executed")
	// ErrRiskLimit means an order would break a risk limit.
	ErrRiskLimit = errors.New("risk limit")
	// ErrRejected means the platform refused an order.
	ErrRejected = errors.New("order rejected")
)

// UsageError is a mistake in how a command was called: an unknown symbol
// or decision id, a malformed flag value. The CLI exits with status 2 on
// it. The message says what to do instead.
type UsageError struct {
	// Err is the mistake and what to do instead.
	Err error
}

// Error implements error.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a *UsageError with a formatted message; %w wraps as in
// fmt.Errorf.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// BadDataError reports market data that failed validation: gaps, NaN,
// non-positive prices, unsorted bars. Nothing is decided or traded on such
// data.
type BadDataError struct {
	// Symbol is the instrument whose data failed.
	Symbol string
	// Source names where the data came from (a provider or a file).
	Source string
	Report *bars.Report
	Err    error
}

// Error implements error.
func (e *BadDataError) Error() string {
	return fmt.Sprintf("%s data from %s failed validation, nothing was decided: %v", e.Symbol, e.Source, e.Err)
}

// Unwrap returns the validation error, which wraps bars.ErrBadData.
func (e *BadDataError) Unwrap() error { return e.Err }
