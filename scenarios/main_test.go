package scenarios

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: the
// scenarios' markets, engines and servers must all be closed.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
