package exportbundle

import (
	"bytes"
	"fmt"
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
		bu, err := s.Create(fmt.Sprintf("b%d", i))
		if err != nil {
			b.Fatal(err)
		}
		for f := range 8 {
			if _, err := bu.AddBytes(fmt.Sprintf("f%d.csv", f), ContentTypeCSV, data); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := bu.Commit(nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
