package oanda

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// scanner is a one-pass reader of JSON text for the candle decoders: it
// reads the fields it is asked for and skips (but still validates) the
// rest, without building a tree. Input it accepts is valid JSON.
type scanner struct {
	b []byte
	i int
}

// maxDepth bounds the nesting of skipped values.
const maxDepth = 64

var errEnd = errors.New("unexpected end of input")

func (s *scanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, reporting whether c was there.
func (s *scanner) consume(c byte) bool {
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// peek returns the next byte after white space, or 0 at the end.
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// near describes the input at the scanner's position, for errors.
func (s *scanner) near() string {
	if s.i >= len(s.b) {
		return "end of input"
	}
	return strconv.Quote(truncate(string(s.b[s.i:min(len(s.b), s.i+40)])))
}

// end reports an error unless only white space is left.
func (s *scanner) end() error {
	if s.skipSpace(); s.i != len(s.b) {
		return fmt.Errorf("unexpected data after the value: %s", s.near())
	}
	return nil
}

// key reads an object key and its colon. The key is returned raw (escapes
// are not decoded: the keys the decoders look for have none).
func (s *scanner) key() ([]byte, error) {
	k, _, err := s.rawString()
	if err != nil {
		return nil, err
	}
	if !s.consume(':') {
		return nil, fmt.Errorf("want : after key %q, got %s", truncate(string(k)), s.near())
	}
	return k, nil
}

// rawString reads a string and returns its bytes between the quotes, and
// whether it holds escapes.
func (s *scanner) rawString() ([]byte, bool, error) {
	if !s.consume('"') {
		return nil, false, fmt.Errorf("want a string, got %s", s.near())
	}
	start, escaped := s.i, false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], escaped, nil
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return nil, false, errEnd
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return nil, false, errEnd
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return nil, false, fmt.Errorf("bad \\u escape in string")
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
	return nil, false, errEnd
}

// str reads a string value, decoding escapes (rare in this API) with
// encoding/json.
func (s *scanner) str() ([]byte, error) {
	start := s.i
	raw, escaped, err := s.rawString()
	if err != nil || !escaped {
		return raw, err
	}
	var out string
	if err := json.Unmarshal(bytes.TrimSpace(s.b[start:s.i]), &out); err != nil {
		return nil, err
	}
	return []byte(out), nil
}

// number reads a number literal, checked against the JSON grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() ([]byte, error) {
	s.skipSpace()
	b, i := s.b, s.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, fmt.Errorf("want a number, got %s", s.near())
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, fmt.Errorf("bad number %q", truncate(string(b[start:i])))
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, fmt.Errorf("bad number %q", truncate(string(b[start:i])))
		}
	}
	s.i = i
	return b[start:i], nil
}

// literal reads true, false or null.
func (s *scanner) literal() ([]byte, error) {
	s.skipSpace()
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
			s.i += len(lit)
			return s.b[s.i-len(lit) : s.i], nil
		}
	}
	return nil, fmt.Errorf("want a value, got %s", s.near())
}

// boolean reads true or false.
func (s *scanner) boolean() (bool, error) {
	lit, err := s.literal()
	if err != nil || lit[0] == 'n' {
		return false, fmt.Errorf("want true or false, got %s", s.near())
	}
	return lit[0] == 't', nil
}

// skip reads and discards one value of any kind.
func (s *scanner) skip(depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("nesting deeper than %d", maxDepth)
	}
	switch s.peek() {
	case '"':
		_, _, err := s.rawString()
		return err
	case '{':
		s.i++
		if s.consume('}') {
			return nil
		}
		for {
			if _, err := s.key(); err != nil {
				return err
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			if s.consume(',') {
				continue
			}
			if s.consume('}') {
				return nil
			}
			return fmt.Errorf("want , or } in object, got %s", s.near())
		}
	case '[':
		s.i++
		if s.consume(']') {
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			if s.consume(',') {
				continue
			}
			if s.consume(']') {
				return nil
			}
			return fmt.Errorf("want , or ] in array, got %s", s.near())
		}
	case 't', 'f', 'n':
		_, err := s.literal()
		return err
	}
	_, err := s.number()
	return err
}

// nextMember advances past the separator after an object member: it
// reports true when another member follows and false at the closing brace.
func (s *scanner) nextMember() (bool, error) {
	if s.consume(',') {
		return true, nil
	}
	if s.consume('}') {
		return false, nil
	}
	return false, fmt.Errorf("want , or } in object, got %s", s.near())
}

// nextElement is nextMember for arrays.
func (s *scanner) nextElement() (bool, error) {
	if s.consume(',') {
		return true, nil
	}
	if s.consume(']') {
		return false, nil
	}
	return false, fmt.Errorf("want , or ] in array, got %s", s.near())
}
