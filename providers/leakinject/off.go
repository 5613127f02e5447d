//go:build !leakinject

package leakinject

import (
	"errors"
	"strings"
)

// Enabled reports whether this build carries the faults.
const Enabled = false

// On reports whether fault f is turned on: never, in a normal build.
func On(Fault) bool { return false }

// Check reports a LEAKINJECT setting that names unknown faults; a normal
// build has none to turn on and ignores it.
func Check() error { return nil }

// Names returns the names of every fault: none in a normal build.
func Names() []string { return nil }

// Parse reads a list of fault names: in a normal build any name is
// unknown.
func Parse(s string) ([]Fault, error) {
	if strings.TrimSpace(strings.ReplaceAll(s, ",", "")) != "" {
		return nil, errors.New("this build has no known leaks: build with -tags leakinject")
	}
	return nil, nil
}
