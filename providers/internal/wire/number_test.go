package wire

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// isJSONNumber is the oracle for the grammar: encoding/json's, for a
// literal that is one value and starts and ends like a number.
func isJSONNumber(lit string) bool {
	return len(lit) > 0 && (lit[0] == '-' || lit[0] >= '0' && lit[0] <= '9') &&
		lit[len(lit)-1] >= '0' && lit[len(lit)-1] <= '9' && json.Valid([]byte(lit))
}

// checkParse checks ParseFloat(lit) against the oracles: ErrSyntax unless
// lit is a JSON number, ErrRange where strconv overflows, and otherwise
// strconv's float64 to the bit.
func checkParse(t *testing.T, lit string) {
	t.Helper()
	got, err := ParseFloat([]byte(lit))
	want, werr := strconv.ParseFloat(lit, 64)
	switch {
	case !isJSONNumber(lit):
		if !errors.Is(err, ErrSyntax) {
			t.Fatalf("ParseFloat(%q) = %v, %v; want ErrSyntax", lit, got, err)
		}
	case werr != nil:
		if !errors.Is(err, ErrRange) {
			t.Fatalf("ParseFloat(%q) = %v, %v; strconv says %v, want ErrRange", lit, got, err, werr)
		}
	case err != nil || math.Float64bits(got) != math.Float64bits(want):
		t.Fatalf("ParseFloat(%q) = %v (%#x), %v; strconv says %v (%#x)", lit, got, math.Float64bits(got), err, want, math.Float64bits(want))
	}
}

// TestParseFloatMatchesStrconv checks typical price and volume literals,
// the edges of the fast paths and random decimals of up to 17 digits
// against strconv.
func TestParseFloatMatchesStrconv(t *testing.T) {
	lits := []string{
		"0", "-0", "0.0", "-0.000", "5236.01", "73241.5", "3728.67857634", "0.0000000000000000", "1.56794406",
		"999999999999999", "9999999999999999", "0.1", "0.2", "0.3", "123456789012345", "1234567890123456",
		"0.000000000000000000001", "0.0000000000000000000001", "1e5", "1E-3", "-12.5", "8765.9486560111000000",
		"17976931348623157e292", "4.9e-324", "1e-400", "2.5e+3", "0e0", "-0.0e-0",
		"9007199254740992", "9007199254740993", "9007199254740993.5", "18446744073709551615", "1844674407370955161",
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
		if !isJSONNumber(lit) {
			t.Fatalf("%q: the test means a JSON number", lit)
		}
		checkParse(t, lit)
	}
}

// TestParseFloatRefuses checks the spellings strconv takes but JSON does
// not, and the numbers beyond float64.
func TestParseFloatRefuses(t *testing.T) {
	tests := []struct {
		give string
		want error
	}{
		{"", ErrSyntax}, {"-", ErrSyntax}, {"NaN", ErrSyntax}, {"nan", ErrSyntax}, {"Inf", ErrSyntax},
		{"-Infinity", ErrSyntax}, {"+Inf", ErrSyntax}, {"0x1p3", ErrSyntax}, {"0x10", ErrSyntax}, {"1_0", ErrSyntax},
		{"--1", ErrSyntax}, {"+1", ErrSyntax}, {"+0.5", ErrSyntax}, {"1e+", ErrSyntax}, {"1e", ErrSyntax},
		{"1.2.3", ErrSyntax}, {" 1", ErrSyntax}, {"1 ", ErrSyntax}, {"1,", ErrSyntax}, {"١", ErrSyntax},
		// strconv reads these as 12, 1, 0.5, 1 and -1; JSON has no leading
		// zeros and no point without digits on both sides.
		{"00012", ErrSyntax}, {"01", ErrSyntax}, {"-01.5", ErrSyntax}, {"1.", ErrSyntax}, {".5", ErrSyntax},
		{"-.5", ErrSyntax}, {"1.e5", ErrSyntax}, {"-1.", ErrSyntax},
		{"1e400", ErrRange}, {"-1e400", ErrRange}, {"1e309", ErrRange},
	}
	for _, tt := range tests {
		got, err := ParseFloat([]byte(tt.give))
		if !errors.Is(err, tt.want) {
			t.Errorf("ParseFloat(%q) = %v, %v; want %v", tt.give, got, err, tt.want)
		}
		checkParse(t, tt.give)
	}
}

// TestExactDecimalMatchesStrconv checks the fast path alone: it must take
// every plain decimal of up to 19 digits, Yahoo's prices (float32 values
// widened to float64, 16 and 17 digits) among them, and agree with strconv
// to the bit.
func TestExactDecimalMatchesStrconv(t *testing.T) {
	for _, s := range []string{
		"0", "-0", "1", "131", "0.205", "75.0875015258789", "7194.89208984375", "1.1220825910568237",
		"127.58000183105469", "134.17999267578125", "0.1", "0.3", "9007199254740993", "18446744073709551",
		"1234567890123456789", "0.000000000000000001", "9999999999999999999", "1.7976931348623157",
		"4.9406564584124654", "2.2250738585072011", "0.30000000000000004", "123456.789012345678",
	} {
		checkExact(t, s)
	}
	// Prices as Yahoo prints them and random decimals of every length and
	// scale.
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
	for _, s := range []string{"", "-", ".5", "1.", "1e5", "1.5E-3", "12345678901234567890", "+1", "1_0", "0x10", "NaN", "1.2.3", "00012", "-01"} {
		if _, ok := exactDecimal([]byte(s)); ok {
			t.Errorf("exactDecimal(%q) accepted a spelling it must leave to ParseFloat's checks", s)
		}
	}
}

// checkExact requires exactDecimal to take s and to agree with strconv and
// ParseFloat to the bit.
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
	if math.Float64bits(got) != math.Float64bits(want) {
		t.Fatalf("exactDecimal(%q) = %v (%#x), strconv says %v (%#x)", s, got, math.Float64bits(got), want, math.Float64bits(want))
	}
	checkParse(t, s)
}

func TestParseFloatDoesNotAllocate(t *testing.T) {
	lits := [][]byte{[]byte("5236.01"), []byte("1.1220825910568237"), []byte("1e-3"), []byte("1.5e300"), []byte("NaN"), []byte("+1")}
	if n := testing.AllocsPerRun(100, func() {
		for _, lit := range lits {
			_, _ = ParseFloat(lit)
		}
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

// FuzzParseFloat checks ParseFloat on any input against the oracles:
// encoding/json for the grammar, strconv for the value.
func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"5236.01", "0.0000000000000000", "1e5", "-0.5", "123456789012345.6", "+1", "1.", ".5", "00012", "0x1p-2", "1_000", "Inf", "1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		checkParse(t, lit)
	})
}

// FuzzExactDecimal checks the fast path against strconv bit for bit on
// decimals built from any 19 digits, point anywhere.
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
			checkParse(t, s) // "0." plus 19 digits is 20 digits: strconv's business
			return
		}
		checkExact(t, s)
	})
}
