package harness_test

import (
	"context"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// Each case is a leak written here, in the test, and its clean twin: the
// same work with the resource released. With default options the leak
// must fail on its metric, and on no other but those the leak really
// grows, and the twin must pass, run after run.

// heapSink keeps allocations reachable (the heap leak) or replaces them
// (its twin).
var heapSink [][]byte

type sensitivityCase struct {
	name    string
	metric  string
	also    []string // other metrics the leak grows, which must fail too
	mayFail []string // metrics the leak grows a little, which may fail
	leak    func(t *testing.T) harness.Scenario
	clean   func(t *testing.T) harness.Scenario
}

var sensitivityCases = []sensitivityCase{
	{name: "goroutine", metric: harness.MetricGoroutines, leak: goroutineLeak, clean: goroutineClean},
	{name: "fd", metric: harness.MetricFDs, leak: fdLeak, clean: fdClean},
	// Each connection is a descriptor at both ends.
	{name: "tcp", metric: harness.MetricConns, also: []string{harness.MetricFDs}, leak: connLeak, clean: connClean},
	// The goroutine that holds the thread is leaked with it, and the
	// runtime keeps about 6 KiB of heap per thread.
	{name: "thread", metric: harness.MetricThreads, also: []string{harness.MetricGoroutines},
		mayFail: []string{harness.MetricHeap}, leak: threadLeak, clean: threadClean},
	{name: "heap", metric: harness.MetricHeap, leak: heapLeak, clean: heapClean},
}

// cleanRuns is how many runs in a row each clean twin must pass.
func cleanRuns() int {
	if testing.Short() {
		return 3
	}
	return 20
}

func TestSensitivity(t *testing.T) {
	for _, tt := range sensitivityCases {
		t.Run(tt.name+"/leak", func(t *testing.T) {
			res, err := harness.Run(t.Context(), tt.leak(t))
			require.NoError(t, err)
			m, ok := res.Metric(tt.metric)
			require.True(t, ok)
			require.Equal(t, harness.VerdictFail, m.Verdict, report(res))
			require.Equal(t, harness.StatusLeak, res.Status)
			require.True(t, m.Steady, "one per iteration is steady growth\n%s", report(res))
			var failed []string
			for _, m := range res.Metrics {
				if m.Verdict == harness.VerdictFail && !slices.Contains(tt.mayFail, m.Name) {
					failed = append(failed, m.Name)
				}
			}
			require.ElementsMatch(t, append([]string{tt.metric}, tt.also...), failed, report(res))
		})
		t.Run(tt.name+"/clean", func(t *testing.T) {
			for i := range cleanRuns() {
				res, err := harness.Run(t.Context(), tt.clean(t))
				require.NoError(t, err)
				require.True(t, res.Passed(), "run %d:\n%s", i+1, report(res))
			}
		})
	}
}

func report(res *harness.Result) string {
	var b strings.Builder
	res.WriteText(&b)
	return b.String()
}

func goroutineLeak(t *testing.T) harness.Scenario {
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	return harness.Scenario{
		Name: "goroutine leak",
		Run: func(context.Context, int) error {
			go func() { <-stop }()
			return nil
		},
	}
}

func goroutineClean(*testing.T) harness.Scenario {
	return harness.Scenario{
		Name: "goroutine clean",
		Run: func(context.Context, int) error {
			// Exits on its own, after the iteration: settling waits for it.
			go func() { time.Sleep(time.Millisecond) }()
			return nil
		},
	}
}

func fdLeak(t *testing.T) harness.Scenario {
	var files []*os.File
	t.Cleanup(func() {
		for _, f := range files {
			f.Close()
		}
	})
	return harness.Scenario{
		Name: "fd leak",
		Run: func(context.Context, int) error {
			f, err := os.Open(os.DevNull)
			files = append(files, f)
			return err
		},
	}
}

func fdClean(*testing.T) harness.Scenario {
	return harness.Scenario{
		Name: "fd clean",
		Run: func(context.Context, int) error {
			f, err := os.Open(os.DevNull)
			if err != nil {
				return err
			}
			return f.Close()
		},
	}
}

// loopbackServer accepts connections on 127.0.0.1 and passes each to
// handle, until the test ends.
func loopbackServer(t *testing.T, handle func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			handle(c)
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

func connLeak(t *testing.T) harness.Scenario {
	var mu sync.Mutex
	var conns []net.Conn
	keep := func(c net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		conns = append(conns, c)
	}
	addr := loopbackServer(t, keep)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return harness.Scenario{
		Name: "tcp leak",
		Run: func(ctx context.Context, _ int) error {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				keep(c)
			}
			return err
		},
	}
}

func connClean(t *testing.T) harness.Scenario {
	var wg sync.WaitGroup
	addr := loopbackServer(t, func(c net.Conn) {
		wg.Go(func() {
			io.Copy(io.Discard, c)
			c.Close()
		})
	})
	t.Cleanup(wg.Wait)
	return harness.Scenario{
		Name: "tcp clean",
		Run: func(ctx context.Context, _ int) error {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return err
			}
			if _, err := c.Write([]byte("ping")); err != nil {
				return err
			}
			return c.Close()
		},
	}
}

func threadLeak(t *testing.T) harness.Scenario {
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	return harness.Scenario{
		Name: "thread leak",
		Run: func(context.Context, int) error {
			locked := make(chan struct{})
			go func() {
				runtime.LockOSThread()
				close(locked)
				<-stop // holds its thread until the test ends
				// Returning while locked ends the thread, so that the next
				// test does not start with idle threads to reuse.
			}()
			<-locked
			return nil
		},
	}
}

func threadClean(*testing.T) harness.Scenario {
	return harness.Scenario{
		Name: "thread clean",
		Run: func(context.Context, int) error {
			done := make(chan struct{})
			go func() {
				defer close(done)
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				runtime.Gosched()
			}()
			<-done
			return nil
		},
	}
}

func heapLeak(t *testing.T) harness.Scenario {
	t.Cleanup(func() { heapSink = nil })
	return harness.Scenario{
		Name: "heap leak",
		Run: func(context.Context, int) error {
			heapSink = append(heapSink, make([]byte, 16<<10))
			return nil
		},
	}
}

func heapClean(t *testing.T) harness.Scenario {
	t.Cleanup(func() { heapSink = nil })
	return harness.Scenario{
		Name: "heap clean",
		Run: func(context.Context, int) error {
			heapSink = [][]byte{make([]byte, 16<<10)}
			return nil
		},
	}
}

// A cache that fills during the warm-up and then replaces its entries, and
// a pool whose files are opened during the warm-up and then reused, keep a
// constant size: they must not read as leaks.
func TestPlateauCachePasses(t *testing.T) {
	var cache map[int][]byte
	var pool []*os.File
	closePool := func(context.Context) error {
		for _, f := range pool {
			f.Close()
		}
		pool, cache = nil, nil
		return nil
	}
	t.Cleanup(func() { closePool(t.Context()) })
	sc := harness.Scenario{
		Name: "plateau cache",
		Setup: func(context.Context) error {
			cache = map[int][]byte{}
			return nil
		},
		Run: func(_ context.Context, i int) error {
			slot := i % harness.DefaultWarmup
			cache[slot] = make([]byte, 16<<10)
			if slot == len(pool) {
				f, err := os.Open(os.DevNull)
				if err != nil {
					return err
				}
				pool = append(pool, f)
			}
			return nil
		},
		Teardown: closePool,
	}
	for i := range cleanRuns() {
		res, err := harness.Run(t.Context(), sc)
		require.NoError(t, err)
		require.True(t, res.Passed(), "run %d:\n%s", i+1, report(res))
		require.Len(t, pool, 0, "torn down")
	}
}

// Settling ends as soon as the counts are back at the baseline, not at the
// settle timeout.
func TestSettleReturnsWhenBack(t *testing.T) {
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	sc := harness.Scenario{
		Name: "late release",
		Run: func(_ context.Context, i int) error {
			f, err := os.Open(os.DevNull)
			if err != nil {
				return err
			}
			wg.Go(func() {
				time.Sleep(50 * time.Millisecond)
				f.Close()
			})
			return nil
		},
	}
	res, err := harness.Run(t.Context(), sc, harness.WithIterations(3), harness.WithWarmup(1),
		harness.WithSettleTimeout(time.Minute))
	require.NoError(t, err)
	require.True(t, res.Passed(), report(res))
	require.True(t, res.Timing.Settled)
	require.Less(t, res.Timing.SettleSeconds, 30.0, "well before the timeout")
	for _, name := range []string{harness.MetricGoroutines, harness.MetricFDs} {
		m, _ := res.Metric(name)
		require.LessOrEqual(t, m.Delta, 0.0, name)
		require.Greater(t, m.Max, m.Baseline, "%s was above the baseline during the iterations", name)
	}
}

// A file dropped without Close is closed by its finalizer at the next
// collection; the harness counts before collecting, so the leak shows, and
// reports what only the collection released.
func TestDroppedFileIsALeak(t *testing.T) {
	sc := harness.Scenario{
		Name: "dropped file",
		Run: func(context.Context, int) error {
			_, err := os.Open(os.DevNull)
			return err
		},
	}
	res, err := harness.Run(t.Context(), sc, harness.WithSettleTimeout(100*time.Millisecond))
	require.NoError(t, err)
	m, _ := res.Metric(harness.MetricFDs)
	require.Equal(t, harness.VerdictFail, m.Verdict, report(res))
	var released []harness.Finding
	for _, f := range res.FindingsFor(harness.MetricFDs) {
		if f.Kind == harness.FindingGCReleased {
			released = append(released, f)
		}
	}
	require.Len(t, released, 1, report(res))
	require.Positive(t, released[0].Count)
	require.Contains(t, released[0].Items[0], "file "+os.DevNull)
}

// The harness's own memory is not the scenario's: a goroutine dump grows
// with a goroutine leak, and must not make the heap fail with it.
func TestGoroutineLeakIsNotAHeapLeak(t *testing.T) {
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	sc := harness.Scenario{
		Name: "five goroutines per iteration",
		Run: func(context.Context, int) error {
			for range 5 {
				go func() { <-stop }()
			}
			return nil
		},
	}
	res, err := harness.Run(t.Context(), sc, harness.WithSettleTimeout(0))
	require.NoError(t, err)
	g, _ := res.Metric(harness.MetricGoroutines)
	require.Equal(t, harness.VerdictFail, g.Verdict, report(res))
	require.Equal(t, 250.0, g.Delta)
	heap, _ := res.Metric(harness.MetricHeap)
	require.Equal(t, harness.VerdictPass, heap.Verdict, "only the goroutines themselves, a few hundred bytes each\n%s", report(res))
}

// allocSink keeps the background allocator's latest block.
var allocSink []byte

// A process that allocates in the background collects garbage on its own,
// at any moment. A file dropped without Close must still be a finding: the
// runtime's own collections must not close it before the final count.
func TestDroppedFileIsALeakWhileTheProcessAllocates(t *testing.T) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				allocSink = make([]byte, 64<<10) // about 64 MB/s of garbage
			}
		}
	})
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
		allocSink = nil
	})
	percent, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	debug.SetGCPercent(percent)
	sc := harness.Scenario{
		Name: "dropped file, busy process",
		Run: func(context.Context, int) error {
			_, err := os.Open(os.DevNull)
			return err
		},
	}
	for i := range 3 {
		res, err := harness.Run(t.Context(), sc, harness.WithSettleTimeout(100*time.Millisecond))
		require.NoError(t, err)
		m, _ := res.Metric(harness.MetricFDs)
		require.Equal(t, harness.VerdictFail, m.Verdict, "run %d:\n%s", i+1, report(res))
		var released int
		for _, f := range res.FindingsFor(harness.MetricFDs) {
			if f.Kind == harness.FindingGCReleased {
				released += f.Count
			}
		}
		require.Positive(t, released, "run %d:\n%s", i+1, report(res))

		got := debug.SetGCPercent(percent)
		require.Equal(t, percent, got, "the GC percent is restored")
		require.Equal(t, limit, debug.SetMemoryLimit(-1), "the memory limit is restored")
	}
}
