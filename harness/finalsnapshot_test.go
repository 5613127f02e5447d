package harness_test

import (
	"context"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// parked is a resource whose goroutine ends only when the resource is
// garbage-collected, like an http.Transport's connection loops once its
// connection is dropped without Close.
type parked struct{ _ [64]byte }

func newParked() *parked {
	p := &parked{}
	done, exited := make(chan struct{}), make(chan struct{})
	// The cleanup returns once the goroutine has ended, so that the
	// harness, which waits for cleanups, sees it gone.
	runtime.AddCleanup(p, func(done chan struct{}) { close(done); <-exited }, done)
	go parkedLoop(done, exited)
	return p
}

func parkedLoop(done, exited chan struct{}) {
	<-done
	close(exited)
}

// The goroutines counted at the end are the ones the findings list, even
// when the final collection ends them.
func TestGoroutineFindingsBeforeTheFinalCollection(t *testing.T) {
	var keep *parked
	sc := harness.Scenario{Name: "dropped without Close", Run: func(context.Context, int) error {
		keep = newParked() // the previous one is dropped
		return nil
	}}
	res, err := harness.Run(t.Context(), sc, harness.WithIterations(10), harness.WithWarmup(1),
		harness.WithSettleTimeout(0))
	require.NoError(t, err)
	runtime.KeepAlive(keep)
	g, _ := res.Metric(harness.MetricGoroutines)
	require.Equal(t, harness.VerdictFail, g.Verdict, report(res))
	listed := 0
	for _, f := range res.FindingsFor(harness.MetricGoroutines) {
		require.Contains(t, f.Summary, "created by github.com/leakgate/leakgate/harness_test.newParked", report(res))
		listed += f.Count
	}
	require.GreaterOrEqual(t, listed, int(g.Delta), "every goroutine counted is listed\n%s", report(res))
	keep = nil
	runtime.GC()
}

// The descriptors the final collection released are told apart from what
// Teardown closes afterwards.
func TestReleasedDescriptorsExcludeTeardown(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("descriptor listings need /proc")
	}
	var ln net.Listener
	sc := harness.Scenario{
		Name: "files dropped without Close",
		Setup: func(context.Context) (err error) {
			ln, err = net.Listen("tcp", "127.0.0.1:0")
			return err
		},
		Run: func(context.Context, int) error {
			_, err := os.Open(os.DevNull) // dropped: closed by its finalizer
			return err
		},
		Teardown: func(context.Context) error { return ln.Close() },
	}
	res, err := harness.Run(t.Context(), sc, harness.WithIterations(10), harness.WithWarmup(1),
		harness.WithSettleTimeout(0))
	require.NoError(t, err)
	var released *harness.Finding
	for _, f := range res.FindingsFor(harness.MetricFDs) {
		if f.Kind == harness.FindingGCReleased {
			released = &f
		}
	}
	require.NotNil(t, released, report(res))
	require.NotEmpty(t, released.Items, report(res))
	for _, item := range released.Items {
		require.True(t, strings.Contains(item, os.DevNull), "only the dropped files: %s\n%s", item, report(res))
	}
}

// transientGoroutines is how many goroutines each iteration of
// withTransients leaves running for a few milliseconds, like an HTTP
// connection's loops after a request.
const transientGoroutines = 12

// withTransients is a scenario that leaves transientGoroutines ending
// shortly after every iteration and, when leak is set, one goroutine that
// never ends.
func withTransients(stop chan struct{}, leak bool) harness.Scenario {
	return harness.Scenario{Name: "transients", Run: func(context.Context, int) error {
		for range transientGoroutines {
			go func() {
				t := time.NewTimer(3 * time.Millisecond)
				defer t.Stop()
				select {
				case <-t.C:
				case <-stop:
				}
			}()
		}
		if leak {
			go func() { <-stop }()
		}
		return nil
	}}
}

// The start of the tail window is settled like its end: goroutines an
// iteration leaves running for a moment neither hide a leak of one per
// iteration nor fail a clean run.
func TestTailStartSettles(t *testing.T) {
	for _, leak := range []bool{true, false} {
		t.Run(map[bool]string{true: "leak", false: "clean"}[leak], func(t *testing.T) {
			stop := make(chan struct{})
			defer close(stop)
			res, err := harness.Run(t.Context(), withTransients(stop, leak), harness.WithIterations(10),
				harness.WithWarmup(1), harness.WithSettleTimeout(500*time.Millisecond))
			require.NoError(t, err)
			g, _ := res.Metric(harness.MetricGoroutines)
			if leak {
				require.Equal(t, harness.VerdictFail, g.Verdict, report(res))
				// One leaked per iteration over the last five: the
				// transients ended while the start settled.
				require.InDelta(t, 5.0, g.Tail, 1, report(res))
			} else {
				require.Equal(t, harness.VerdictPass, g.Verdict, report(res))
			}
		})
	}
}
