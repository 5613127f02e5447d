package wire

import (
	"errors"
	"math"
	"math/bits"
	"strconv"
	"unsafe"
)

// Errors of ParseFloat.
var (
	// ErrSyntax reports a literal that is not a JSON number: hex floats,
	// underscores, "Inf", "NaN", a leading '+' or leading zeros, and a
	// point or exponent without digits are all refused.
	ErrSyntax = errors.New("not a JSON number")
	// ErrRange reports a JSON number too large for a float64.
	ErrRange = errors.New("not a finite number")
)

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// pow5 holds 5^0 … 5^27, the powers of five that fit in 64 bits.
var pow5 = func() (p [28]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 5
	}
	return p
}()

// maxDigits is the most digits a decimal may have for the exact fast path:
// 10^19 - 1 is the largest such mantissa, and it fits in a uint64.
const maxDigits = 19

// ParseFloat parses a JSON number literal (RFC 8259:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?) to the float64 that
// strconv.ParseFloat(lit, 64) returns, bit for bit. Anything else is an
// error matching ErrSyntax, even where strconv would accept it ("+1",
// "0x1p3", "1_0", ".5", "1.", "01", "Inf", "NaN"); a number beyond the
// float64 range is an error matching ErrRange.
//
// Plain decimals of at most 19 digits, the shape of prices, volumes and
// timestamps, take an exact fast path that does not call strconv (see
// divPow10); the rest are checked against the grammar and handed to
// strconv. ParseFloat allocates only for a number beyond the float64 range
// (strconv's error).
func ParseFloat(lit []byte) (float64, error) {
	if f, ok := exactDecimal(lit); ok {
		return f, nil
	}
	if end, ok := numberEnd(lit, 0); !ok || end != len(lit) {
		return 0, ErrSyntax
	}
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(lit), len(lit)), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, ErrRange // the grammar holds, so only the range can fail
	}
	return f, nil
}

// numberEnd scans the JSON number at b[i]. It returns the index just past
// it and true, or how far it read and false when there is no number there.
// The number is the longest the grammar allows: in "1.5x" it ends before
// the 'x', and the caller decides whether that may follow.
func numberEnd(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return i, false
		}
	}
	return i, true
}

// exactDecimal converts a JSON number without exponent and with at most 19
// digits ("-123.4567") to the nearest float64, exactly as strconv.ParseFloat
// would, and reports false for anything else (which may still be a JSON
// number: ParseFloat checks).
//
// With m the digits and f the fraction digits the value is m / 10^f. When
// m ≤ 2^53 and f ≤ 22 both are exact float64s and one IEEE division rounds
// correctly; otherwise divPow10 divides in integers.
func exactDecimal(s []byte) (float64, bool) {
	i, neg := 0, false
	if len(s) > 0 && s[0] == '-' {
		i, neg = 1, true
	}
	start := i
	var m uint64
	for ; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			break
		}
		m = m*10 + uint64(c) // wraps only past 19 digits, refused below
	}
	digits, frac := i-start, 0
	if digits == 0 || digits > 1 && s[start] == '0' {
		return 0, false // no digit, or a leading zero: not JSON
	}
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for ; i < len(s); i++ {
			c := s[i] - '0'
			if c > 9 {
				break
			}
			m = m*10 + uint64(c)
		}
		if frac = i - fs; frac == 0 {
			return 0, false
		}
	}
	if i != len(s) || digits+frac > maxDigits {
		return 0, false
	}
	var f float64
	if m <= 1<<53 { // frac ≤ 18 < len(pow10)
		f = float64(m) / pow10[frac]
	} else {
		f = divPow10(m, frac)
	}
	if neg {
		f = -f
	}
	return f, true
}

// divPow10 returns m / 10^f correctly rounded, for m > 0 and f < len(pow5).
//
// m / 10^f is (m / 5^f) · 2^-f: the quotient m·2^s / 5^f is computed in
// 128-bit integer arithmetic with 63 or 64 bits, rounded to the 53 a float64
// keeps (half to even, the remainder breaking ties), and scaled by a power
// of two, which is exact.
func divPow10(m uint64, f int) float64 {
	d := pow5[f]
	shift := 63 + bits.Len64(d) - bits.Len64(m)
	var hi, lo uint64
	if shift >= 64 {
		hi = m << (shift - 64)
	} else {
		hi, lo = m>>(64-shift), m<<shift
	}
	q, r := bits.Div64(hi, lo, d) // hi < d, so q fits in 64 bits
	drop := bits.Len64(q) - 53
	mant := q >> drop
	rest, half := q&(1<<drop-1), uint64(1)<<(drop-1)
	if rest > half || rest == half && (r != 0 || mant&1 == 1) {
		mant++
		if mant == 1<<53 {
			mant >>= 1
			drop++
		}
	}
	return math.Ldexp(float64(mant), drop-shift-f)
}
