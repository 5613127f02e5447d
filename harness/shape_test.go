//go:build unix

// The study's rss resource maps memory with mmap(2).

package harness_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// The shape study: for each metric, a clean twin whose resource is a pool
// of a random size (1 to 32) that fills in the first measured iterations
// and then stays level, and a leaky twin that takes one resource more
// every iteration. With the default thresholds no clean twin may fail and
// no leaky twin may pass; with the old defaults (delta<=0 on counts) every
// plateau of a count fails, which is why the defaults judge the tail.
//
// By default it runs each twin a couple of times. LEAKGATE_SHAPE_RUNS=20
// runs each twin that many times and logs the table (go test -run
// TestShapeStudy -v); LEAKGATE_SHAPE_SEED picks the pool sizes.

// resource takes one resource and returns its release.
type resource func(ctx context.Context) (release func() error, err error)

type shapeCase struct {
	metric string
	// old is the old default threshold and whether a run's result fails it.
	old      string
	oldFails func(m harness.MetricResult) bool
	// setup returns the resource and the options its metric needs (a
	// probe, its threshold); it may register cleanups on t.
	setup func(t *testing.T) (resource, []harness.Option)
}

// maxPool is the largest pool of a clean twin; fillIterations is how many
// measured iterations at most it takes to fill.
const (
	maxPool        = 32
	fillIterations = 4
)

var shapeCases = []shapeCase{
	{metric: harness.MetricGoroutines, old: "delta<=0", oldFails: deltaAbove(0), setup: goroutineResource},
	{metric: harness.MetricFDs, old: "delta<=0", oldFails: deltaAbove(0), setup: fdResource},
	{metric: harness.MetricConns, old: "delta<=0", oldFails: deltaAbove(0), setup: connResource},
	{metric: harness.MetricThreads, old: "delta<=2", oldFails: deltaAbove(2), setup: threadResource},
	{metric: harness.MetricChildren, old: "delta<=0", oldFails: deltaAbove(0), setup: childResource},
	{metric: harness.MetricRSS, old: "delta<50MB", oldFails: deltaAbove(50e6 - 1), setup: rssResource},
	{metric: harness.MetricHeap, old: "slope<8KiB", oldFails: func(m harness.MetricResult) bool { return m.Slope >= 8<<10 },
		setup: heapResource},
	{metric: harness.MetricUnclosed, old: "delta<=0", oldFails: deltaAbove(0), setup: unclosedResource},
	{metric: "pool_size", old: "delta<=0", oldFails: deltaAbove(0), setup: gaugeResource},
}

func deltaAbove(limit float64) func(harness.MetricResult) bool {
	return func(m harness.MetricResult) bool { return m.Delta > limit }
}

// shapeRuns is how many times each twin runs: LEAKGATE_SHAPE_RUNS, or 2
// (1 with -short).
func shapeRuns(t *testing.T) int {
	if s := os.Getenv("LEAKGATE_SHAPE_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "LEAKGATE_SHAPE_RUNS")
		return n
	}
	if testing.Short() {
		return 1
	}
	return 2
}

// twin is a scenario over a resource: the leaky twin takes one every
// iteration, warm-up included; the clean twin fills a pool of size
// resources in the first measured iterations, at most fillIterations of
// them, and then takes none. Teardown releases everything.
func twin(name string, acquire resource, leaky bool, size int) harness.Scenario {
	var held []func() error
	per := (size + fillIterations - 1) / fillIterations
	return harness.Scenario{
		Name: name,
		Run: func(ctx context.Context, i int) error {
			n := 1
			if !leaky {
				if i < harness.DefaultWarmup {
					return nil
				}
				n = min(per, size-len(held))
			}
			for range n {
				release, err := acquire(ctx)
				if err != nil {
					return err
				}
				held = append(held, release)
			}
			return nil
		},
		Teardown: func(context.Context) error {
			var errs []error
			for _, release := range held {
				errs = append(errs, release())
			}
			held = nil
			return errors.Join(errs...)
		},
	}
}

type shapeRow struct {
	metric                  string
	clean, falseFail        int
	leaky, missed           int
	oldFails                int
	oldExpr, newExpr, sizes string
}

func TestShapeStudy(t *testing.T) {
	runs := shapeRuns(t)
	seed := uint64(1)
	if s := os.Getenv("LEAKGATE_SHAPE_SEED"); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "LEAKGATE_SHAPE_SEED")
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	// Settling waits for transient goroutines, descriptors and connections;
	// the twins have none (they hold their resources until Teardown), so a
	// short settle only saves the time of waiting for what never returns.
	opts := []harness.Option{harness.WithSettleTimeout(250 * time.Millisecond)}
	var rows []shapeRow
	for _, tc := range shapeCases {
		t.Run(tc.metric, func(t *testing.T) {
			acquire, extra := tc.setup(t)
			o := append(append([]harness.Option(nil), opts...), extra...)
			row := shapeRow{metric: tc.metric, oldExpr: tc.old}
			var sizes []string
			for r := range runs {
				size := 1 + rng.IntN(maxPool)
				sizes = append(sizes, strconv.Itoa(size))
				res, err := harness.Run(t.Context(), twin(tc.metric+" plateau", acquire, false, size), o...)
				require.NoError(t, err)
				m, ok := res.Metric(tc.metric)
				require.True(t, ok)
				row.newExpr = strings.Join(exprs(m), ", ")
				row.clean++
				if !res.Passed() {
					row.falseFail++
					t.Logf("clean run %d (pool %d) failed:\n%s", r+1, size, report(res))
				}
				if tc.oldFails(m) {
					row.oldFails++
				}
				// A heap pool as small as 16 KiB, or a pool of threads the
				// runtime's idle threads partly cover (4 new threads counted
				// as 2), is within the noise of the shape, which then reads
				// flat.
				require.NotEqual(t, harness.ShapeGrows, m.Shape, "pool %d\n%s", size, report(res))
				if m.Unit != harness.UnitBytes && (tc.metric != harness.MetricThreads || m.Delta > 2) {
					require.Equal(t, harness.ShapeLevelsOff, m.Shape, "pool %d\n%s", size, report(res))
				}

				res, err = harness.Run(t.Context(), twin(tc.metric+" leak", acquire, true, 0), o...)
				require.NoError(t, err)
				m, _ = res.Metric(tc.metric)
				row.leaky++
				if m.Verdict != harness.VerdictFail {
					row.missed++
					t.Logf("leaky run %d passed:\n%s", r+1, report(res))
				}
				require.Equal(t, harness.ShapeGrows, m.Shape, report(res))
			}
			row.sizes = strings.Join(sizes, " ")
			rows = append(rows, row)
			require.Zero(t, row.falseFail, "clean twins failed")
			require.Zero(t, row.missed, "leaky twins passed")
			if tc.old == "delta<=0" {
				require.Equal(t, row.clean, row.oldFails, "the old default %s fails every plateau", tc.old)
			}
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d, %d runs per twin\n", seed, runs)
	fmt.Fprintf(&b, "%-10s  %-21s  %5s  %10s  %5s  %6s  %-10s  %-15s  %s\n",
		"METRIC", "DEFAULT", "CLEAN", "FALSE FAIL", "LEAKY", "MISSED", "OLD", "OLD FAILS CLEAN", "POOL SIZES")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-10s  %-21s  %5d  %10d  %5d  %6d  %-10s  %-15s  %s\n",
			r.metric, r.newExpr, r.clean, r.falseFail, r.leaky, r.missed, r.oldExpr,
			fmt.Sprintf("%d/%d", r.oldFails, r.clean), r.sizes)
	}
	t.Log("\n" + b.String())
}

func exprs(m harness.MetricResult) []string {
	var out []string
	for _, th := range m.Thresholds {
		out = append(out, th.Expr)
	}
	return out
}

func goroutineResource(*testing.T) (resource, []harness.Option) {
	return func(context.Context) (func() error, error) { return park(func() {}), nil }, nil
}

// park starts a goroutine that runs first, signals, and then waits; it
// returns once first has run, with the release that ends the goroutine and
// waits for it.
func park(first func()) (release func() error) {
	stop, ready, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		first()
		close(ready)
		<-stop
	}()
	<-ready
	return func() error {
		close(stop)
		<-done
		return nil
	}
}

func fdResource(*testing.T) (resource, []harness.Option) {
	return func(context.Context) (func() error, error) {
		f, err := os.Open(os.DevNull)
		if err != nil {
			return nil, err
		}
		return f.Close, nil
	}, nil
}

// connResource is one loopback TCP connection, both of its ends held.
func connResource(t *testing.T) (resource, []harness.Option) {
	accepted := make(chan net.Conn)
	addr := loopbackServer(t, func(c net.Conn) { accepted <- c })
	return func(ctx context.Context) (func() error, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		select {
		case s := <-accepted:
			return func() error { return errors.Join(c.Close(), s.Close()) }, nil
		case <-ctx.Done():
			c.Close()
			return nil, ctx.Err()
		}
	}, nil
}

// threadResource is one OS thread, held by a goroutine locked to it; the
// goroutine returns still locked, which ends the thread.
func threadResource(*testing.T) (resource, []harness.Option) {
	return func(context.Context) (func() error, error) { return park(runtime.LockOSThread), nil }, nil
}

func childResource(*testing.T) (resource, []harness.Option) {
	return func(context.Context) (func() error, error) {
		// Not CommandContext: the child outlives the iteration.
		cmd := exec.Command("sleep", "3600")
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start child: %w", err)
		}
		return func() error {
			cmd.Process.Kill()
			cmd.Wait() // killed: its error says so
			return nil
		}, nil
	}, nil
}

// rssResource is 1 MiB of anonymous memory outside the Go heap, every page
// touched.
func rssResource(*testing.T) (resource, []harness.Option) {
	return func(context.Context) (func() error, error) {
		b, err := syscall.Mmap(-1, 0, 1<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			return nil, fmt.Errorf("mmap: %w", err)
		}
		for i := 0; i < len(b); i += os.Getpagesize() {
			b[i] = 1
		}
		return func() error { return syscall.Munmap(b) }, nil
	}, nil
}

// heapResource is 16 KiB of live heap, as in the sensitivity test's heap
// leak.
func heapResource(*testing.T) (resource, []harness.Option) {
	return func(context.Context) (func() error, error) {
		b := make([]byte, 16<<10)
		return func() error {
			runtime.KeepAlive(b)
			return nil
		}, nil
	}, nil
}

// unclosedResource is one tick of the unclosed counter.
func unclosedResource(*testing.T) (resource, []harness.Option) {
	var n atomic.Int64
	return func(context.Context) (func() error, error) {
		n.Add(1)
		return func() error { return nil }, nil
	}, []harness.Option{harness.WithProbes(harness.Unclosed(n.Load))}
}

// gaugeResource is one unit of a gauge: added probes have no default
// thresholds, so it gets the one the count metrics default to.
func gaugeResource(*testing.T) (resource, []harness.Option) {
	var n atomic.Int64
	return func(context.Context) (func() error, error) {
			n.Add(1)
			return func() error { n.Add(-1); return nil }, nil
		}, []harness.Option{
			harness.WithProbes(harness.Gauge("pool_size", func() float64 { return float64(n.Load()) })),
			harness.WithThreshold("pool_size", harness.DefaultThresholds(harness.MetricGoroutines)...),
		}
}

// A file dropped without Close every iteration, with a collection after
// every iteration, is closed by its finalizer soon after its sample: the
// count stays level and tail passes, but the final collection closes the
// last ones, and released<=0 fails (export-file-not-closed in
// export/in-process is this leak).
func TestDroppedFileCollectedEveryIterationIsALeak(t *testing.T) {
	sc := harness.Scenario{Name: "dropped file, collected", Run: func(context.Context, int) error {
		_, err := os.Open(os.DevNull)
		return err
	}}
	for i := range 3 {
		res, err := harness.Run(t.Context(), sc, harness.WithGCBudget(math.Inf(1)),
			harness.WithSettleTimeout(100*time.Millisecond))
		require.NoError(t, err)
		m, _ := res.Metric(harness.MetricFDs)
		require.Equal(t, harness.VerdictFail, m.Verdict, "run %d:\n%s", i+1, report(res))
		var failed []string
		for _, th := range m.Thresholds {
			if !th.Passed {
				failed = append(failed, th.Expr)
			}
		}
		require.Contains(t, failed, "released<=0", "run %d:\n%s", i+1, report(res))
		require.Equal(t, harness.ShapeLevelsOff, m.Shape, "run %d:\n%s", i+1, report(res))
	}
}
