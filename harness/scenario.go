package harness

import (
	"context"
	"errors"
	"fmt"
)

// Scenario is the unit of work the harness repeats.
//
// Setup runs once before the warm-up and Teardown once after the final
// snapshot, so whatever Setup holds for the whole run (a server, a pool) is
// part of both the baseline and the final snapshot and is not counted as
// growth. Run is called once per iteration with a number that counts from 0
// across the warm-up and the measured iterations; it should return promptly
// when ctx is done.
type Scenario struct {
	// Name identifies the scenario in reports.
	Name string
	// Setup, if set, prepares the run.
	Setup func(ctx context.Context) error
	// Run performs one iteration. It is required.
	Run func(ctx context.Context, iteration int) error
	// Teardown, if set, releases what Setup acquired. It runs even when the
	// run was cancelled, with a context that is not.
	Teardown func(ctx context.Context) error
}

func (s Scenario) validate() error {
	if s.Run == nil {
		return fmt.Errorf("harness: scenario %q has no Run function", s.Name)
	}
	return nil
}

// ErrScenario marks a run that stopped because the scenario itself failed
// (Setup, an iteration or Teardown returned an error), as opposed to a run
// that measured a leak. Test with errors.Is.
var ErrScenario = errors.New("harness: scenario failed")

// ScenarioError is the error of a failed scenario phase.
type ScenarioError struct {
	Phase     string // "setup", "iteration" or "teardown"
	Iteration int    // for Phase "iteration": the iteration number
	Err       error
}

func (e *ScenarioError) Error() string {
	if e.Phase == "iteration" {
		return fmt.Sprintf("scenario iteration %d: %v", e.Iteration, e.Err)
	}
	return fmt.Sprintf("scenario %s: %v", e.Phase, e.Err)
}

// Unwrap returns both the scenario's error and ErrScenario.
func (e *ScenarioError) Unwrap() []error { return []error{ErrScenario, e.Err} }
