//go:build leakinject

package selftest

import (
	"slices"
	"strings"
)

// faults joins the tables of the providers' and the engine's faults.
func faults() []Fault {
	out := slices.Concat(providerFaults, engineFaults)
	slices.SortFunc(out, func(a, b Fault) int { return strings.Compare(a.Name, b.Name) })
	return out
}
