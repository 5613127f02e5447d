//go:build linux

package procfs

import (
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkSample reads this process, with a few files and loopback
// connections open, with each backend: ns/op is one sample (CountFDs,
// ReadStat, CountChildren), and the metrics split it by call. The
// connection listing (FDs) is measured on its own: the harness lists at
// the baseline and the end, not per sample.
func BenchmarkSample(b *testing.B) {
	for range 4 {
		f, err := os.Open(os.DevNull)
		require.NoError(b, err)
		b.Cleanup(func() { f.Close() })
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	b.Cleanup(func() { ln.Close() })
	for range 4 {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(b, err)
		b.Cleanup(func() { c.Close() })
		s, err := ln.Accept()
		require.NoError(b, err)
		b.Cleanup(func() { s.Close() })
	}
	open := map[string]func() (backend, error){
		"proc":     func() (backend, error) { return Open(0) },
		"portable": func() (backend, error) { return OpenPortable(0) },
	}
	for _, name := range []string{"proc", "portable"} {
		be, err := open[name]()
		require.NoError(b, err)
		b.Cleanup(func() { be.Close() })
		b.Run(name, func(b *testing.B) {
			var fdsT, statT, kidsT time.Duration
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				_, _, err := be.CountFDs(false)
				t1 := time.Now()
				_, _, err2 := be.ReadStat()
				t2 := time.Now()
				_, err3 := be.CountChildren()
				t3 := time.Now()
				if err != nil || err2 != nil || err3 != nil {
					b.Fatal(err, err2, err3)
				}
				fdsT += t1.Sub(t0)
				statT += t2.Sub(t1)
				kidsT += t3.Sub(t2)
			}
			n := float64(b.N)
			b.ReportMetric(float64(fdsT.Nanoseconds())/n, "ns/CountFDs")
			b.ReportMetric(float64(statT.Nanoseconds())/n, "ns/ReadStat")
			b.ReportMetric(float64(kidsT.Nanoseconds())/n, "ns/CountChildren")
		})
		b.Run(name+"/FDs", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := be.FDs(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
