package harness

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/pprof"
	"testing"
)

// startLabelled starts n goroutines parked until stop, half of them with
// the label of s's run and half with another run's; it returns a function
// that stops them and waits.
func startLabelled(b *testing.B, s *sampler, n int) func() {
	b.Helper()
	stop, done := make(chan struct{}), make(chan struct{}, n)
	for i := range n {
		label := s.attrLabel
		if i%2 == 1 {
			label = "other#0"
		}
		pprof.Do(context.Background(), pprof.Labels(LabelRun, label), func(context.Context) {
			go func() { <-stop; done <- struct{}{} }()
		})
	}
	return func() {
		close(stop)
		for range n {
			<-done
		}
	}
}

// BenchmarkLabelledGoroutines measures a per-iteration goroutine count of
// an attributed run, at 100 and 1000 goroutines (half of them the run's):
// the goroutine profile's text form read and counted (what the harness
// does), against writing the protocol buffer form alone and with its
// decompression, which any parse of it (github.com/google/pprof/profile)
// needs first, and against runtime.NumGoroutine, an unattributed count.
func BenchmarkLabelledGoroutines(b *testing.B) {
	for _, n := range []int{100, 1000} {
		s := &sampler{self: true}
		if _, err := s.attribute("bench", options{attribution: attributionOn}); err != nil {
			b.Fatal(err)
		}
		stop := startLabelled(b, s, n)
		p := pprof.Lookup("goroutine")
		b.Run(fmt.Sprintf("text/%d", n), func(b *testing.B) {
			for b.Loop() {
				got, err := s.countLabelled(p)
				if err != nil || got != n/2 {
					b.Fatalf("counted %d, want %d: %v", got, n/2, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/sample")
		})
		b.Run(fmt.Sprintf("proto-write/%d", n), func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := p.WriteTo(&buf, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/sample")
		})
		b.Run(fmt.Sprintf("proto-write-gunzip/%d", n), func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := p.WriteTo(&buf, 0); err != nil {
					b.Fatal(err)
				}
				zr, err := gzip.NewReader(&buf)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, zr); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/sample")
		})
		b.Run(fmt.Sprintf("numgoroutine/%d", n), func(b *testing.B) {
			for b.Loop() {
				runtime.NumGoroutine()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e3, "µs/sample")
		})
		stop()
	}
}

// BenchmarkLabelledDump measures the final snapshot's goroutine dump of an
// attributed run, with labels (GODEBUG set and restored), against the plain
// dump, at 1000 goroutines.
func BenchmarkLabelledDump(b *testing.B) {
	s := &sampler{self: true}
	if _, err := s.attribute("bench", options{attribution: attributionOn}); err != nil {
		b.Fatal(err)
	}
	defer startLabelled(b, s, 1000)()
	b.Run("labels", func(b *testing.B) {
		for b.Loop() {
			dumpWithLabels()
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/dump")
	})
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			s.attrLabel = ""
			s.dump()
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/dump")
	})
}

// BenchmarkGoroutineLeakProfile measures the collection of the goroutine
// leak profile (GOEXPERIMENT=goroutineleakprofile), a garbage collection
// with leak detection, counted as goroutines_leaked is, against a plain
// forced collection, at 1000 goroutines.
func BenchmarkGoroutineLeakProfile(b *testing.B) {
	p := goroutineLeakProfile()
	if p == nil {
		b.Skip("needs GOEXPERIMENT=goroutineleakprofile")
	}
	s := &sampler{self: true}
	if _, err := s.attribute("bench", options{attribution: attributionOn}); err != nil {
		b.Fatal(err)
	}
	defer startLabelled(b, s, 1000)()
	b.Run("goroutineleak", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.countLabelled(p); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/collection")
	})
	b.Run("runtime.GC", func(b *testing.B) {
		for b.Loop() {
			runtime.GC()
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/collection")
	})
}
