package cli

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/scenarios"
)

// The test binary is also the workers' executable: run re-executes
// os.Executable(), so TestMain runs the worker and ffe commands itself,
// with the test scenarios below registered in every process; and the
// load command, for the attackers of a sharded load.
func TestMain(m *testing.M) {
	if err := scenarios.Register(testScenarios()...); err != nil {
		panic(err)
	}
	if len(os.Args) > 1 && (os.Args[1] == "worker" || os.Args[1] == scenarios.FFECommand || os.Args[1] == "load") {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

// leakedStop is never closed: the goroutines of test/leaky-goroutine end
// with their worker process.
var leakedStop = make(chan struct{})

// testScenarios are scenarios written for the tests: one clean, one that
// leaks a goroutine per iteration, one that errors, one whose worker
// crashes and one whose worker hangs.
func testScenarios() []scenarios.Scenario {
	both := []scenarios.Mode{scenarios.Mock, scenarios.Live}
	build := func(run func(ctx context.Context, i int) error) func(*scenarios.Env) (*scenarios.Run, error) {
		return func(env *scenarios.Env) (*scenarios.Run, error) {
			return &scenarios.Run{Scenario: harness.Scenario{Name: "test", Run: run}}, nil
		}
	}
	return []scenarios.Scenario{
		{Name: "test/clean", Description: "nothing", Modes: both,
			Build: build(func(context.Context, int) error { return nil })},
		{Name: "test/leaky-goroutine", Description: "a goroutine per iteration that never ends", Modes: both,
			Build: build(func(context.Context, int) error {
				go leakForever()
				return nil
			})},
		{Name: "test/erroring", Description: "the third iteration fails", Modes: both,
			Build: build(func(_ context.Context, i int) error {
				if i == 2 {
					return errors.New("order book unavailable")
				}
				return nil
			})},
		{Name: "test/crash", Description: "the worker exits mid-run", Modes: []scenarios.Mode{scenarios.Mock},
			Build: build(func(_ context.Context, i int) error {
				if i == 1 {
					os.Stderr.WriteString("test/crash: exiting on purpose\n")
					os.Exit(7)
				}
				return nil
			})},
		{Name: "test/hang", Description: "the iteration ignores cancellation", Modes: []scenarios.Mode{scenarios.Mock},
			Build: build(func(context.Context, int) error {
				time.Sleep(time.Hour)
				return nil
			})},
		{Name: "test/skipped", Description: "needs a key nobody has", Modes: []scenarios.Mode{scenarios.Live},
			Build: func(*scenarios.Env) (*scenarios.Run, error) {
				return nil, scenarios.Skip("set LEAKGATE_TEST_KEY to run")
			}},
	}
}

// leakForever blocks until the process ends.
func leakForever() { <-leakedStop }
