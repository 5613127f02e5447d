package export

import (
	"strings"
	"testing"
)

// FuzzParseRange checks that ParseRange never panics, keeps every range it
// accepts within its bounds, and never repeats a long input in its error.
func FuzzParseRange(f *testing.F) {
	for _, seed := range []string{"", "1d", "5d", "2w", "6mo", "1y", "101y", "9999y", "ytd", "max", "sometime",
		"2016-01-01/2016-12-31", "0001-01-01/9999-12-31", "1917-01-02/2016-12-31", "2016-02-30/2016-03-01",
		"2016-12-31/2016-01-01", "/", "2016-01-01/", strings.Repeat("x", 1000), " 1Y "} {
		f.Add(seed)
	}
	earliest := now.AddDate(-MaxRangeYears, 0, 0)
	latest := now.AddDate(1, 0, 1)
	f.Fuzz(func(t *testing.T, s string) {
		from, to, err := ParseRange(s, now)
		if err != nil {
			if len(err.Error()) > 400 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		if !from.Before(to) || from.Before(earliest) || to.After(latest) {
			t.Fatalf("range %q: %s to %s is out of bounds", s, from, to)
		}
	})
}
