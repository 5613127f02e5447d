package harness_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leakgate/leakgate/harness"
)

// A scenario that releases what it opens passes.
func Example() {
	sc := harness.Scenario{
		Name: "open and close",
		Run: func(ctx context.Context, iteration int) error {
			f, err := os.Open(os.DevNull)
			if err != nil {
				return err
			}
			return f.Close()
		},
	}
	res, err := harness.Run(context.Background(), sc)
	if err != nil {
		fmt.Println(err)
		return
	}
	fds, _ := res.Metric(harness.MetricFDs)
	fmt.Println(res.Status, fds.Delta, fds.Verdict)
	// Output: pass 0 pass
}

// A goroutine started per iteration and never ended fails the default
// goroutines threshold, and the finding names its creator.
func ExampleRun_leak() {
	stop := make(chan struct{})
	defer close(stop)
	sc := harness.Scenario{
		Name: "goroutine per call",
		Run: func(ctx context.Context, iteration int) error {
			go func() { <-stop }()
			return nil
		},
	}
	res, err := harness.Run(context.Background(), sc,
		harness.WithIterations(10), harness.WithSettleTimeout(10*time.Millisecond))
	if err != nil {
		fmt.Println(err)
		return
	}
	g, _ := res.Metric(harness.MetricGoroutines)
	fmt.Println(res.Status, g.Verdict, g.Steady, g.Thresholds[0].Expr)
	f := res.FindingsFor(harness.MetricGoroutines)[0]
	fmt.Println(f.Count, f.Summary)
	// Output:
	// leak fail true tail<=0
	// 10 blocked in chan receive at harness/example_test.go:46 in github.com/leakgate/leakgate/harness_test.ExampleRun_leak.func1.1, created by github.com/leakgate/leakgate/harness_test.ExampleRun_leak.func1
}

// Check fails a test with the text report when the run does not pass.
func ExampleCheck() {
	testExport := func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		harness.Check(t, harness.Scenario{
			Name: "dial and close",
			Run: func(ctx context.Context, _ int) error {
				var d net.Dialer
				c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
				if err != nil {
					return err
				}
				return c.Close()
			},
		}, harness.WithThreshold(harness.MetricHeap, "slope<4KiB"))
	}
	_ = testExport
}

// Custom gauges and the unclosed counter plug in as probes; thresholds on
// them are set by name.
func ExampleGauge() {
	var cache []string
	var unclosed atomic.Int64 // fed by a library's finalizers
	sc := harness.Scenario{
		Name: "cache grows",
		Run: func(ctx context.Context, i int) error {
			cache = append(cache, fmt.Sprint(i))
			return nil
		},
	}
	res, err := harness.Run(context.Background(), sc,
		harness.WithIterations(10),
		harness.WithProbes(
			harness.Gauge("cache_entries", func() float64 { return float64(len(cache)) }),
			harness.Unclosed(unclosed.Load),
		),
		harness.WithThreshold("cache_entries", "final<=baseline+5"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, _ := res.Metric("cache_entries")
	u, _ := res.Metric(harness.MetricUnclosed)
	fmt.Println(m.Baseline, m.Final, m.Slope, m.Verdict)
	fmt.Println(u.Delta, u.Verdict)
	// Output:
	// 5 15 1 fail
	// 0 pass
}

// Another process, in any language, is watched from outside by PID; its
// Prometheus endpoint, if any, supplies goroutines and heap.
func ExampleProcess() {
	pid := os.Getppid() // e.g. a server started by the test
	target := harness.Process(pid).WithMetricsURL("http://127.0.0.1:9090/metrics")
	sc := harness.Scenario{
		Name: "export cycle",
		Run: func(ctx context.Context, i int) error {
			return nil // send the server a request here
		},
	}
	res, err := harness.Run(context.Background(), sc, harness.WithTarget(target))
	if err != nil {
		fmt.Println(err)
		return
	}
	res.WriteText(os.Stdout)
}

// Threshold errors name the metric and the bad token.
func ExampleParseThreshold() {
	for _, expr := range []string{"slope<8KiB", "slope<8KX", "delta=<0", "avg<2"} {
		_, err := harness.ParseThreshold(harness.MetricHeap, expr)
		var te *harness.ThresholdError
		if errors.As(err, &te) {
			fmt.Printf("%s (token %q)\n", err, te.Token)
			continue
		}
		fmt.Println(expr, "ok")
	}
	// Output:
	// slope<8KiB ok
	// harness: threshold on heap "slope<8KX": unknown unit "KX" (want B, KB, KiB, MB, MiB, GB, GiB or %) (token "KX")
	// harness: threshold on heap "delta=<0": unknown comparison "=<" (want <, <=, >, >=, == or !=) (token "=<")
	// harness: threshold on heap "avg<2": unknown statistic "avg" (want baseline, final, delta, max, min, slope, tail, tail_slope, released) (token "avg")
}

// A snapshot is a value; Sub gives the growth between two.
func ExampleSnapshot_Sub() {
	before, _ := harness.Measure(context.Background())
	f, _ := os.Open(os.DevNull)
	defer f.Close()
	after, _ := harness.Measure(context.Background())
	fmt.Println(after.Sub(before)[harness.MetricFDs])
	// Output: 1
}
