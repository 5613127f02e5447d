package harness

import (
	"context"
	"os"
	"testing"
	"time"
)

// Targets of the benchmarks, on the development machine (two shared
// cores). Each benchmark reports its measure against the target as a
// metric ("x-target", 1 meaning exactly on target); none fails on time, since
// a shared, loaded machine can miss any wall-clock bound.
const (
	targetSample   = 100 * time.Microsecond
	targetSnapshot = 10 * time.Millisecond
	targetOverhead = 5.0 // percent of the wall time, for 10ms iterations
)

// reportTarget reports the time per operation as a fraction of target.
func reportTarget(b *testing.B, target time.Duration) {
	b.Helper()
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per)/float64(target), "x-target")
}

// loadProcess opens 100 descriptors and starts 1,000 parked goroutines, the
// process the per-sample targets are stated for.
func loadProcess(b *testing.B) {
	b.Helper()
	stop := make(chan struct{})
	var files []*os.File
	for range 100 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
	}
	for range 1000 {
		go func() { <-stop }()
	}
	b.Cleanup(func() {
		close(stop)
		for _, f := range files {
			f.Close()
		}
	})
}

func benchSampler(b *testing.B) *sampler {
	b.Helper()
	o, err := buildOptions(nil)
	if err != nil {
		b.Fatal(err)
	}
	s, err := newSampler(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.close)
	return s
}

// BenchmarkSample is one per-iteration sample: every count, no forced
// collection. Target: under 100µs with 100 open descriptors and 1,000
// goroutines.
func BenchmarkSample(b *testing.B) {
	loadProcess(b)
	s := benchSampler(b)
	v := make([]float64, len(s.defs))
	ctx := context.Background()
	for b.Loop() {
		if err := s.sample(ctx, gcNone, false, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/sample")
	reportTarget(b, targetSample)
}

// BenchmarkSampleWithGC is a sample that also forces a collection for a
// heap point; the GC budget decides how often that happens.
func BenchmarkSampleWithGC(b *testing.B) {
	loadProcess(b)
	s := benchSampler(b)
	v := make([]float64, len(s.defs))
	ctx := context.Background()
	for b.Loop() {
		if err := s.sample(ctx, gcForce, false, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/sample")
}

// BenchmarkSnapshot is a full snapshot as at the baseline and the end:
// counts, goroutine stacks, descriptor and connection details, children.
// Target: under 10ms with 100 open descriptors and 1,000 goroutines.
func BenchmarkSnapshot(b *testing.B) {
	loadProcess(b)
	s := benchSampler(b)
	v := make([]float64, len(s.defs))
	ctx := context.Background()
	for b.Loop() {
		if err := s.sample(ctx, gcNone, true, v); err != nil {
			b.Fatal(err)
		}
		d, err := s.details(ctx)
		if err != nil {
			b.Fatal(err)
		}
		gs, err := s.goroutines()
		if err != nil {
			b.Fatal(err)
		}
		if len(gs) < 1000 || len(d.fds) < 100 {
			b.Fatalf("%d goroutines, %d fds", len(gs), len(d.fds))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/snapshot")
	reportTarget(b, targetSnapshot)
}

// BenchmarkOverhead runs a scenario of 10ms per iteration with default
// options and reports the harness's share of the wall time. Target: under
// 5% in a plain process; with 100 descriptors and 1,000 goroutines, whose
// stacks every forced collection scans, it is reported only.
func BenchmarkOverhead(b *testing.B) {
	for _, bc := range []struct {
		name   string
		loaded bool
	}{{"plain", false}, {"loaded", true}} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.loaded {
				loadProcess(b)
			}
			sc := Scenario{Name: "10ms", Run: func(context.Context, int) error {
				time.Sleep(10 * time.Millisecond)
				return nil
			}}
			var wall, harness float64
			for b.Loop() {
				res, err := Run(context.Background(), sc)
				if err != nil {
					b.Fatal(err)
				}
				wall += res.DurationSeconds
				harness += res.Timing.HarnessSeconds
			}
			overhead := 100 * harness / wall
			b.ReportMetric(overhead, "overhead-%")
			if !bc.loaded {
				b.ReportMetric(overhead/targetOverhead, "x-target")
			}
		})
	}
}
