// Package selftest is the table of the project's known leaks (package
// providers/leakinject) and what must catch each: the scenarios that
// exercise it, in which modes, and the metrics expected to fail. The
// leakgate selftest command runs it.
//
// The table exists only in leakinject builds, so that normal binaries
// carry no fault names: there Faults returns nothing.
package selftest

import "github.com/leakgate/leakgate/scenarios"

// Fault is one known leak and the cases that must catch it.
type Fault struct {
	// Name is the fault's name in LEAKINJECT.
	Name string
	// Leak says in one line what the fault does and where.
	Leak string
	// Cases are the scenarios that exercise the fault.
	Cases []Case
}

// Case is one scenario that must catch a fault.
type Case struct {
	// Scenario is a registered scenario's name.
	Scenario string
	// Modes are the modes in which the scenario must catch the fault; in
	// the scenario's other modes the fault does not apply (n/a), and the
	// reason is NA.
	Modes []scenarios.Mode
	// Metrics are the metrics expected to fail: a case that is caught only
	// by others is a failure of the self-test.
	Metrics []string
	// NA says why the fault does not apply in the scenario's other modes.
	NA string
}

// Faults returns the table, sorted by name; empty in a normal build.
func Faults() []Fault { return faults() }
