package bars

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// Default bounds of a CSV read.
const (
	// DefaultMaxBytes caps a CSV input: 64 MiB holds about a million
	// daily or minute bars.
	DefaultMaxBytes int64 = 64 << 20
	// DefaultMaxLineBytes caps one line; a bar's line is under 200 bytes.
	DefaultMaxLineBytes = 1 << 20
)

// Errors of a bounded read, wrapped in a *LimitError.
var (
	// ErrTooLarge means the input is larger than Limits.MaxBytes.
	ErrTooLarge = errors.New("csv input too large")
	// ErrLineTooLong means a line is longer than Limits.MaxLineBytes.
	ErrLineTooLong = errors.New("csv line too long")
)

// Limits bound a CSV read. Zero fields take the defaults.
type Limits struct {
	// MaxBytes is the most bytes read [DefaultMaxBytes].
	MaxBytes int64
	// MaxLineBytes is the longest line, newline excluded
	// [DefaultMaxLineBytes].
	MaxLineBytes int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = DefaultMaxLineBytes
	}
	return l
}

// LimitError is a read stopped at one of its Limits; it wraps ErrTooLarge
// or ErrLineTooLong.
type LimitError struct {
	// Limit is the bound that was hit, in bytes; Line the 1-based line
	// being read.
	Limit int64
	Line  int
	Err   error
}

// Error implements error.
func (e *LimitError) Error() string {
	if errors.Is(e.Err, ErrLineTooLong) {
		return fmt.Sprintf("csv line %d is longer than %s: not a CSV of bars", e.Line, formatSize(e.Limit))
	}
	return fmt.Sprintf("csv input is larger than %s, the most read", formatSize(e.Limit))
}

// Unwrap returns ErrTooLarge or ErrLineTooLong.
func (e *LimitError) Unwrap() error { return e.Err }

func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// boundedReader reads at most max bytes and lines of at most maxLine
// bytes from r, and stops once ctx is done. Its first error sticks.
type boundedReader struct {
	ctx     context.Context
	r       io.Reader
	max     int64
	maxLine int
	n       int64 // bytes read
	lineLen int   // bytes of the current line
	line    int   // 1-based current line
	err     error
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if err := b.ctx.Err(); err != nil {
		b.err = err
		return 0, err
	}
	if room := b.max - b.n + 1; int64(len(p)) > room { // one past the cap tells "larger"
		p = p[:room]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.max {
		b.err = &LimitError{Limit: b.max, Line: b.line, Err: ErrTooLarge}
		return 0, b.err
	}
	for rest := p[:n]; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			b.lineLen += len(rest)
			break
		}
		b.lineLen += i
		if b.lineLen > b.maxLine {
			break
		}
		b.lineLen, b.line, rest = 0, b.line+1, rest[i+1:]
	}
	if b.lineLen > b.maxLine {
		b.err = &LimitError{Limit: int64(b.maxLine), Line: b.line, Err: ErrLineTooLong}
		return 0, b.err
	}
	if err != nil && !errors.Is(err, io.EOF) && b.ctx.Err() != nil {
		err = b.ctx.Err() // a read cut short by the cancellation (a deadline set on it)
	}
	if err != nil {
		b.err = err
	}
	return n, err
}
