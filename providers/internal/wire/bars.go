package wire

import (
	"slices"
	"time"

	"github.com/leakgate/leakgate/providers"
)

// Ascending sorts bars oldest first and drops repeated times, keeping the
// first seen, in place. Input that is already ascending, or strictly
// descending (newest first, as some APIs send it), costs one pass.
func Ascending(bars []providers.Bar) []providers.Bar {
	if len(bars) < 2 {
		return bars
	}
	asc, desc := true, true
	for i := 1; i < len(bars) && (asc || desc); i++ {
		asc = asc && bars[i].Time.After(bars[i-1].Time)
		desc = desc && bars[i].Time.Before(bars[i-1].Time)
	}
	switch {
	case asc:
		return bars
	case desc:
		slices.Reverse(bars)
		return bars
	}
	slices.SortStableFunc(bars, func(a, b providers.Bar) int { return a.Time.Compare(b.Time) })
	return slices.CompactFunc(bars, func(a, b providers.Bar) bool { return a.Time.Equal(b.Time) })
}

// Clip drops, in place, the bars before from and after to; a zero bound
// leaves that side open.
func Clip(bars []providers.Bar, from, to time.Time) []providers.Bar {
	return slices.DeleteFunc(bars, func(b providers.Bar) bool {
		return !from.IsZero() && b.Time.Before(from) || !to.IsZero() && b.Time.After(to)
	})
}

// DescribeRange describes the range of q for an error message:
// "2024-01-01T00:00:00Z to now", with "…" for an open start.
func DescribeRange(q providers.BarQuery) string {
	f, t := "…", "now"
	if !q.From.IsZero() {
		f = q.From.UTC().Format(time.RFC3339)
	}
	if !q.To.IsZero() {
		t = q.To.UTC().Format(time.RFC3339)
	}
	return f + " to " + t
}
