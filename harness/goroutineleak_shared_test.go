package harness_test

import (
	"context"
	"testing"

	"github.com/leakgate/leakgate/harness"
)

// parkedScenario leaks, in each of up to four runs of its Run (warm-up
// included), a goroutine parked on a channel the test still holds: a leak
// by count that the runtime cannot prove, since the channel is reachable.
// The test's cleanup releases them.
func parkedScenario(t *testing.T) harness.Scenario {
	stop := make(chan struct{})
	done := make(chan struct{}, 16)
	started := 0
	t.Cleanup(func() {
		close(stop)
		for range started {
			<-done
		}
	})
	return harness.Scenario{Name: "parked", Run: func(context.Context, int) error {
		started++
		go func() { <-stop; done <- struct{}{} }()
		return nil
	}}
}
