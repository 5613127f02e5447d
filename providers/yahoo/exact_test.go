package yahoo

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestExactDecimalMatchesStrconv(t *testing.T) {
	for _, s := range []string{
		"0", "-0", "1", "131", "0.205", "75.0875015258789", "7194.89208984375", "1.1220825910568237",
		"127.58000183105469", "134.17999267578125", "0.1", "0.3", "9007199254740993", "18446744073709551",
		"1234567890123456789", "0.000000000000000001", "9999999999999999999", "1.7976931348623157",
		"4.9406564584124654", "2.2250738585072011", "0.30000000000000004", "123456.789012345678",
	} {
		checkExact(t, s)
	}
	// Prices as Yahoo prints them (float32 values widened to float64) and
	// random decimals of every length and scale.
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		checkExact(t, strconv.FormatFloat(float64(float32(rng.Float64()*1e5)), 'f', -1, 64))
		digits := strconv.FormatUint(rng.Uint64()>>rng.UintN(64), 10)
		if len(digits) > 18 {
			digits = digits[:18]
		}
		if f := rng.IntN(len(digits)); f > 0 { // a trailing zero too: "12.340"
			digits = digits[:len(digits)-f] + "." + digits[len(digits)-f:] + "0"
		}
		checkExact(t, digits)
	}
	for _, s := range []string{"", "-", ".5", "1.", "1e5", "1.5E-3", "12345678901234567890", "+1", "1_0", "0x10", "NaN", "1.2.3"} {
		if _, ok := exactDecimal([]byte(s)); ok {
			t.Errorf("exactDecimal(%q) accepted a spelling it must leave to strconv", s)
		}
	}
}

func checkExact(t *testing.T, s string) {
	t.Helper()
	got, ok := exactDecimal([]byte(s))
	if !ok {
		t.Fatalf("exactDecimal(%q) refused a plain decimal", s)
	}
	want, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	if math.Float64bits(got) != math.Float64bits(want) && !(got == 0 && want == 0) {
		t.Fatalf("exactDecimal(%q) = %v (%#x), strconv says %v (%#x)", s, got, math.Float64bits(got), want, math.Float64bits(want))
	}
}

// FuzzExactDecimal checks the fast path against strconv bit for bit.
func FuzzExactDecimal(f *testing.F) {
	f.Add(uint64(750875015258789), uint8(13), false)
	f.Add(uint64(11220825910568237), uint8(16), false)
	f.Add(uint64(9999999999999999999), uint8(19), true)
	f.Fuzz(func(t *testing.T, m uint64, frac uint8, neg bool) {
		digits := strconv.FormatUint(m, 10)
		if len(digits) > 19 {
			digits = digits[:19]
		}
		f := int(frac) % (len(digits) + 1)
		s := digits
		if f > 0 {
			if f == len(digits) {
				s = "0." + digits
			} else {
				s = digits[:len(digits)-f] + "." + digits[len(digits)-f:]
			}
		}
		if neg {
			s = "-" + s
		}
		if len(s) > 0 && (len(digits) > 19 || (f == len(digits) && len(digits) == 19)) {
			return // "0." plus 19 digits is 20 digits: strconv's business
		}
		checkExact(t, s)
	})
}
