package exportbundle

import (
	"bytes"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
)

// BenchmarkBundle commits bundles of eight 16 KiB files, as an export of
// three symbols with a crew report writes.
func BenchmarkBundle(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	data := bytes.Repeat([]byte("x"), 16<<10)
	i := 0
	for b.Loop() {
		if err := commitBundle(s, fmt.Sprintf("b%d", i), data); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkBundleParallel commits the same bundles from eight goroutines
// at once, as eight job workers do: commits running together share the
// file system's syncs.
func BenchmarkBundleParallel(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	data := bytes.Repeat([]byte("x"), 16<<10)
	var n atomic.Int64
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := commitBundle(s, fmt.Sprintf("b%d", n.Add(1)), data); err != nil {
				b.Error(err) // not Fatal: this is not the benchmark's goroutine
				return
			}
		}
	})
}

// commitBundle commits bundle id of eight files holding data.
func commitBundle(s *Store, id string, data []byte) error {
	bu, err := s.Create(id)
	if err != nil {
		return err
	}
	for f := range 8 {
		if _, err := bu.AddBytes(fmt.Sprintf("f%d.csv", f), ContentTypeCSV, data); err != nil {
			return err
		}
	}
	_, err = bu.Commit(nil)
	return err
}
