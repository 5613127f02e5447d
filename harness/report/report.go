// Package report is the report of a leakgate run over many scenarios: one
// document (schema leakgate.report/v1) holding a harness.Result per
// scenario and mode, merged from shards, and rendered as text, JSON, JUnit
// XML and a self-contained HTML page.
//
// It imports only the harness: it knows nothing of the code measured.
package report

import (
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

// ID is "scenario [mode]", unique within a report.
func (c Case) ID() string { return c.Scenario + " [" + c.Mode + "]" }
