package wire

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leakgate/leakgate/providers"
)

func bars(secs ...int64) []providers.Bar {
	out := make([]providers.Bar, len(secs))
	for i, s := range secs {
		out[i] = providers.Bar{Time: time.Unix(s, 0).UTC(), Close: float64(i)}
	}
	return out
}

func TestAscending(t *testing.T) {
	tests := []struct {
		name      string
		give      []providers.Bar
		wantTimes []int64
		// wantClose is the Close of each result bar: the index it had in
		// give, so a repeat shows which copy was kept.
		wantClose []float64
	}{
		{"empty", bars(), []int64{}, []float64{}},
		{"one", bars(5), []int64{5}, []float64{0}},
		{"ascending", bars(1, 2, 3), []int64{1, 2, 3}, []float64{0, 1, 2}},
		{"newest first", bars(3, 2, 1), []int64{1, 2, 3}, []float64{2, 1, 0}},
		{"mixed", bars(2, 3, 1), []int64{1, 2, 3}, []float64{2, 0, 1}},
		{"repeats keep the first seen", bars(3, 1, 3, 2, 1), []int64{1, 2, 3}, []float64{1, 3, 0}},
		{"all equal", bars(7, 7, 7), []int64{7}, []float64{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Ascending(tt.give)
			times, closes := []int64{}, []float64{}
			for _, b := range got {
				times, closes = append(times, b.Time.Unix()), append(closes, b.Close)
			}
			if !slices.Equal(times, tt.wantTimes) || !slices.Equal(closes, tt.wantClose) {
				t.Fatalf("got times %v closes %v, want %v %v", times, closes, tt.wantTimes, tt.wantClose)
			}
		})
	}
}

func TestClip(t *testing.T) {
	at := func(s int64) time.Time { return time.Unix(s, 0) }
	tests := []struct {
		name     string
		from, to time.Time
		want     []int64
	}{
		{"open", time.Time{}, time.Time{}, []int64{1, 2, 3, 4}},
		{"closed, inclusive", at(2), at(3), []int64{2, 3}},
		{"open start", time.Time{}, at(2), []int64{1, 2}},
		{"open end", at(4), time.Time{}, []int64{4}},
		{"none", at(5), at(9), []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []int64{}
			for _, b := range Clip(bars(1, 2, 3, 4), tt.from, tt.to) {
				got = append(got, b.Time.Unix())
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDescribeRange(t *testing.T) {
	ny := time.FixedZone("EST", -5*3600)
	tests := []struct {
		give providers.BarQuery
		want string
	}{
		{providers.BarQuery{}, "… to now"},
		{providers.BarQuery{From: time.Date(2024, 1, 1, 19, 0, 0, 0, ny)}, "2024-01-02T00:00:00Z to now"},
		{providers.BarQuery{To: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)}, "… to 2024-02-01T00:00:00Z"},
		{providers.BarQuery{From: time.Unix(0, 0), To: time.Unix(60, 0)}, "1970-01-01T00:00:00Z to 1970-01-01T00:01:00Z"},
	}
	for _, tt := range tests {
		if got := DescribeRange(tt.give); got != tt.want {
			t.Errorf("DescribeRange(%+v) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct{ give, want string }{
		{"", ""},
		{strings.Repeat("a", 80), strings.Repeat("a", 80)},
		{strings.Repeat("a", 81), strings.Repeat("a", 80) + "…"},
		// "é" is two bytes: cutting at 80 would split the one at 79-80.
		{strings.Repeat("a", 79) + "éz", strings.Repeat("a", 79) + "…"},
		{strings.Repeat("a", 78) + "éz", strings.Repeat("a", 78) + "é…"},
	}
	for _, tt := range tests {
		if got := Truncate(tt.give); got != tt.want {
			t.Errorf("Truncate(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}
