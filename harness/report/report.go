// Package report is the report of a leakgate run over many scenarios: one
// document (schema leakgate.report/v1) holding a harness.Result per
// scenario and mode, merged from shards, and rendered as text, JSON, JUnit
// XML and a self-contained HTML page.
//
// It imports only the harness: it knows nothing of the code measured.
package report

import (
	"cmp"
	"slices"
	"time"

	"github.com/leakgate/leakgate/harness"
)

// Schema is the value of the "schema" field of a Report's JSON.
const Schema = "leakgate.report/v1"

// Status is the outcome of one case.
type Status string

// Statuses of a case. Pass and Skipped do not fail a run.
const (
	StatusPass      Status = "pass"      // every threshold held
	StatusLeak      Status = "leak"      // a threshold failed
	StatusError     Status = "error"     // the scenario, its worker or the measurement failed
	StatusCancelled Status = "cancelled" // the run was interrupted
	StatusSkipped   Status = "skipped"   // cannot run here (no key, no binary): never a pass
)

// Exit codes of a run, from its cases: see Report.ExitCode.
const (
	ExitPass  = 0 // every case passed or was skipped
	ExitLeak  = 1 // a threshold failed
	ExitUsage = 2 // usage or suite error (the caller's, never a report's)
	ExitError = 3 // a scenario errored or was cancelled, and nothing leaked
)

// Report is the outcome of one run over many scenarios and modes.
type Report struct {
	Schema          string    `json:"schema"`
	Suite           string    `json:"suite,omitempty"` // the suite's name
	Started         time.Time `json:"started"`
	DurationSeconds float64   `json:"duration_seconds"`
	// Shards lists the shards the report covers ("1/3"), empty for an
	// unsharded run.
	Shards []string `json:"shards,omitempty"`
	Cases  []Case   `json:"cases"`
}

// Case is one scenario in one mode.
type Case struct {
	Scenario        string  `json:"scenario"`
	Mode            string  `json:"mode"`
	Status          Status  `json:"status"`
	Reason          string  `json:"reason,omitempty"` // why it was skipped or errored
	DurationSeconds float64 `json:"duration_seconds"`
	// Result is the harness's measurement; nil when the case was skipped
	// or its worker failed before measuring.
	Result *harness.Result `json:"result,omitempty"`
	// Log is the tail of the worker's standard error when it failed.
	Log string `json:"log,omitempty"`
}

// ID is "scenario [mode]", unique within a report; the scenario alone when
// the mode is empty (a report read from a single harness.Result).
func (c Case) ID() string {
	if c.Mode == "" {
		return c.Scenario
	}
	return c.Scenario + " [" + c.Mode + "]"
}

// Failed reports whether the case fails a run: it leaked, errored, was
// cancelled, or has a status this package does not know.
func (c Case) Failed() bool { return c.Status != StatusPass && c.Status != StatusSkipped }

// Statuses lists the statuses in report order: failures first (leak, error,
// cancelled), then pass, then skipped. Renderers list cases in this order.
var Statuses = []Status{StatusLeak, StatusError, StatusCancelled, StatusPass, StatusSkipped}

// rank is the position of a status in Statuses; an unknown status ranks
// with the errors.
func rank(s Status) int {
	if i := slices.Index(Statuses, s); i >= 0 {
		return i
	}
	return slices.Index(Statuses, StatusError)
}

// ExitCode is the exit code of the run the report describes: ExitLeak when
// any case leaked, else ExitError when any case errored, was cancelled or
// has an unknown status, else ExitPass (every case passed or was skipped,
// and also when there are no cases).
func (r *Report) ExitCode() int {
	code := ExitPass
	for _, c := range r.Cases {
		switch {
		case c.Status == StatusLeak:
			return ExitLeak
		case c.Failed():
			code = ExitError
		}
	}
	return code
}

// Counts returns the number of cases per status. Statuses with no case are
// absent.
func (r *Report) Counts() map[Status]int {
	n := map[Status]int{}
	for _, c := range r.Cases {
		n[c.Status]++
	}
	return n
}

// Sort orders the cases by scenario, then mode: a deterministic order that
// does not depend on which worker or shard finished first.
func (r *Report) Sort() {
	slices.SortStableFunc(r.Cases, compareCases)
}

func compareCases(a, b Case) int {
	return cmp.Or(cmp.Compare(a.Scenario, b.Scenario), cmp.Compare(a.Mode, b.Mode))
}

// ordered returns the cases in report order: failures first (see
// Statuses), each group sorted by scenario and mode. r is not modified.
func (r *Report) ordered() []Case {
	cs := slices.Clone(r.Cases)
	slices.SortStableFunc(cs, func(a, b Case) int {
		return cmp.Or(cmp.Compare(rank(a.Status), rank(b.Status)), compareCases(a, b))
	})
	return cs
}
