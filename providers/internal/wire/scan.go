package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// MaxDepth bounds the nesting of the values Skip reads.
const MaxDepth = 64

// ErrEnd reports input that stops inside a value.
var ErrEnd = errors.New("unexpected end of input")

// Scanner is a one-pass reader of JSON text for the decoders of the
// provider packages: they walk the values they want with it and skip the
// rest, without building a tree. Every method checks what it reads against
// the JSON grammar (RFC 8259), skipped values included, so input a decoder
// accepts is valid JSON as long as the decoder ends with End or AtEnd.
//
// A Scanner holds a position in a byte slice it does not copy; the zero
// value reads empty input. Methods skip white space before a token. On an
// error the position is unspecified: report the error, do not go on.
type Scanner struct {
	b []byte
	i int
}

// NewScanner returns a Scanner at the start of b.
func NewScanner(b []byte) Scanner { return Scanner{b: b} }

// SkipSpace advances past JSON white space.
func (s *Scanner) SkipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// Consume skips white space and then c, reporting whether c was there.
func (s *Scanner) Consume(c byte) bool {
	s.SkipSpace()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// Peek returns the next byte after white space, or 0 at the end.
func (s *Scanner) Peek() byte {
	s.SkipSpace()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// Near describes the input at the scanner's position for an error: up to
// 40 bytes of it, quoted, or "end of input".
func (s *Scanner) Near() string {
	if s.i >= len(s.b) {
		return "end of input"
	}
	return strconv.Quote(Truncate(string(s.b[s.i:min(len(s.b), s.i+40)])))
}

// AtEnd reports whether only white space is left.
func (s *Scanner) AtEnd() bool {
	s.SkipSpace()
	return s.i == len(s.b)
}

// End reports an error unless only white space is left.
func (s *Scanner) End() error {
	if !s.AtEnd() {
		return fmt.Errorf("unexpected data after the value: %s", s.Near())
	}
	return nil
}

// Key reads an object key and its colon. The key is returned raw, between
// the quotes: escapes are checked but not decoded (the keys decoders look
// for have none).
func (s *Scanner) Key() ([]byte, error) {
	k, _, err := s.RawString()
	if err != nil {
		return nil, err
	}
	if !s.Consume(':') {
		return nil, fmt.Errorf("want : after key %q, got %s", Truncate(string(k)), s.Near())
	}
	return k, nil
}

// RawString reads a string and returns its bytes between the quotes, and
// whether they hold escapes. Escapes and control characters are checked.
func (s *Scanner) RawString() (raw []byte, escaped bool, err error) {
	if !s.Consume('"') {
		return nil, false, fmt.Errorf("want a string, got %s", s.Near())
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], escaped, nil
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return nil, false, ErrEnd
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return nil, false, ErrEnd
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return nil, false, errors.New("bad \\u escape in string")
					}
				}
				s.i += 6
			default:
				return nil, false, fmt.Errorf("bad escape \\%c in string", s.b[s.i+1])
			}
		case c < 0x20:
			return nil, false, fmt.Errorf("control character %#x in string", c)
		default:
			s.i++
		}
	}
	return nil, false, ErrEnd
}

// Unquote reads a string value and returns its content. Without escapes
// that is the input itself; escapes (rare in provider answers) are decoded
// with encoding/json into a new slice.
func (s *Scanner) Unquote() ([]byte, error) {
	s.SkipSpace()
	start := s.i
	raw, escaped, err := s.RawString()
	if err != nil || !escaped {
		return raw, err
	}
	var out string
	if err := json.Unmarshal(s.b[start:s.i], &out); err != nil {
		return nil, err
	}
	return []byte(out), nil
}

// Number reads a number literal, checked against the JSON grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, and returns it.
func (s *Scanner) Number() ([]byte, error) {
	s.SkipSpace()
	start := s.i
	end, ok := numberEnd(s.b, start)
	switch {
	case !ok && end <= start+1: // no digit after the optional '-'
		return nil, fmt.Errorf("want a number, got %s", s.Near())
	case !ok:
		return nil, fmt.Errorf("bad number %q", Truncate(string(s.b[start:end])))
	}
	s.i = end
	return s.b[start:end], nil
}

// Float reads a number literal as Number does and parses it with
// ParseFloat.
func (s *Scanner) Float() (float64, error) {
	lit, err := s.Number()
	if err != nil {
		return 0, err
	}
	f, err := ParseFloat(lit)
	if err != nil {
		return 0, fmt.Errorf("%q is %w", Truncate(string(lit)), err)
	}
	return f, nil
}

// Literal reads true, false or null and returns it.
func (s *Scanner) Literal() ([]byte, error) {
	s.SkipSpace()
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
			s.i += len(lit)
			return s.b[s.i-len(lit) : s.i], nil
		}
	}
	return nil, fmt.Errorf("want a value, got %s", s.Near())
}

// Bool reads true or false.
func (s *Scanner) Bool() (bool, error) {
	lit, err := s.Literal()
	if err != nil || lit[0] == 'n' {
		return false, fmt.Errorf("want true or false, got %s", s.Near())
	}
	return lit[0] == 't', nil
}

// Skip reads and discards one value of any kind, checking it against the
// grammar. Arrays and objects may nest MaxDepth deep.
func (s *Scanner) Skip() error { return s.skip(0) }

func (s *Scanner) skip(depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("nesting deeper than %d", MaxDepth)
	}
	switch s.Peek() {
	case '"':
		_, _, err := s.RawString()
		return err
	case '{':
		s.i++
		for more := !s.Consume('}'); more; {
			if _, err := s.Key(); err != nil {
				return err
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			var err error
			if more, err = s.NextMember(); err != nil {
				return err
			}
		}
		return nil
	case '[':
		s.i++
		for more := !s.Consume(']'); more; {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			var err error
			if more, err = s.NextElement(); err != nil {
				return err
			}
		}
		return nil
	case 't', 'f', 'n':
		_, err := s.Literal()
		return err
	}
	_, err := s.Number()
	return err
}

// NextMember advances past the separator after an object member: it
// reports true when another member follows and false at the closing brace.
func (s *Scanner) NextMember() (bool, error) {
	if s.Consume(',') {
		return true, nil
	}
	if s.Consume('}') {
		return false, nil
	}
	return false, fmt.Errorf("want , or } in object, got %s", s.Near())
}

// NextElement is NextMember for arrays: true when another element follows,
// false at the closing bracket.
func (s *Scanner) NextElement() (bool, error) {
	if s.Consume(',') {
		return true, nil
	}
	if s.Consume(']') {
		return false, nil
	}
	return false, fmt.Errorf("want , or ] in array, got %s", s.Near())
}
