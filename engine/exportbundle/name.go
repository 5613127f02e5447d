package exportbundle

import (
	"errors"
	"fmt"
)

// MaxNameLen is the longest id or file name ValidName accepts.
const MaxNameLen = 128

// ErrInvalidName is matched (errors.Is) by the error of every operation
// given an id or file name outside the allowed character set.
var ErrInvalidName = errors.New("invalid name")

// ValidName reports whether s may be used as an export id or a file name: 1
// to MaxNameLen characters from [A-Za-z0-9._-], starting with a letter or
// digit, and without "..". Such a name is a single path element that can
// never refer to a parent directory, a hidden file or a staging directory.
func ValidName(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if len(s) > MaxNameLen {
		return fmt.Errorf("%w: longer than %d characters", ErrInvalidName, MaxNameLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return fmt.Errorf("%w: %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", ErrInvalidName, s)
		}
	}
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '.' && s[i+1] == '.' {
			return fmt.Errorf("%w: %q contains \"..\"", ErrInvalidName, s)
		}
	}
	return nil
}
