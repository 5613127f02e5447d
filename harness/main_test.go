package harness_test

import (
	"testing"

	"go.uber.org/goleak"
)

// With GOEXPERIMENT=goroutineleakprofile, a test leaks goroutines blocked
// forever on purpose: the deadlocks that the runtime proves.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/leakgate/leakgate/harness_test.blockForever.func1"))
}
