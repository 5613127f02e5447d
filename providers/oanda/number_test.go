package oanda

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestParseFloatMatchesStrconv checks the fast path against strconv on
// typical price and volume literals and on the edges of the fast path.
func TestParseFloatMatchesStrconv(t *testing.T) {
	lits := []string{
		"0", "-0", "0.0", "5236.01", "73241.5", "3728.67857634", "0.0000000000000000", "1.56794406",
		"999999999999999", "9999999999999999", "0.1", "0.2", "0.3", "123456789012345", "1234567890123456",
		"0.000000000000000000001", "0.0000000000000000000001", "1e5", "1E-3", "-12.5", "8765.9486560111000000",
		"17976931348623157e292", "4.9e-324", "00012", "1.", ".5",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		digits := 1 + r.IntN(17)
		frac := r.IntN(digits + 1)
		s := strconv.FormatUint(r.Uint64N(uint64(math.Pow10(min(digits, 19)))), 10)
		if frac > 0 && frac < len(s) {
			s = s[:len(s)-frac] + "." + s[len(s)-frac:]
		}
		lits = append(lits, s)
	}
	for _, lit := range lits {
		want, werr := strconv.ParseFloat(lit, 64)
		got, err := parseFloat([]byte(lit))
		if werr != nil {
			if err == nil {
				t.Errorf("%q: got %v, strconv fails: %v", lit, got, werr)
			}
			continue
		}
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("%q: got %v (%v), want %v", lit, got, err, want)
		}
	}
	for _, bad := range []string{"", "-", "NaN", "Inf", "-Infinity", "1e400", "0x1p3", "1_0", "--1"} {
		if f, err := parseFloat([]byte(bad)); err == nil {
			t.Errorf("%q: got %v, want an error", bad, f)
		}
	}
}

func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"5236.01", "0.0000000000000000", "1e5", "-0.5", "123456789012345.6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		got, err := parseFloat([]byte(lit))
		want, werr := strconv.ParseFloat(lit, 64)
		if werr != nil || math.IsNaN(want) || math.IsInf(want, 0) || strings.Trim(lit, "0123456789.+-eE") != "" || strings.ContainsAny(lit, "xXpP_") {
			if err == nil {
				t.Fatalf("%q: got %v, strconv says %v, %v", lit, got, want, werr)
			}
			return
		}
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%q: got %v (%v), want %v", lit, got, err, want)
		}
	})
}

func TestMidpoint(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"1.29360", "1.29470", 1.29415},
		{"141.501", "141.518", 141.5095},
		{"1.1", "1.2", 1.15},
		{"1e2", "3", 51.5},
	}
	for _, tt := range tests {
		a, _ := parseFloat([]byte(tt.a))
		b, _ := parseFloat([]byte(tt.b))
		places := max(decimals([]byte(tt.a)), decimals([]byte(tt.b)))
		if decimals([]byte(tt.a)) < 0 || decimals([]byte(tt.b)) < 0 {
			places = -1
		}
		if got := midpoint(a, b, places); got != tt.want {
			t.Errorf("midpoint(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
