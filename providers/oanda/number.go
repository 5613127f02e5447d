package oanda

import (
	"errors"
	"math"
	"strconv"
	"unsafe"
)

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

var errNotFinite = errors.New("not a finite number")

// parseFloat parses a decimal literal exactly as strconv.ParseFloat does,
// faster for the common shape of prices: [-]digits[.digits] with at most 15
// significant digits. Such a mantissa is below 2⁵³ and the power of ten is
// exact, so one IEEE division gives the correctly rounded result. Anything
// else goes to strconv, after rejecting what is not a decimal literal (hex
// floats, underscores, "Inf", "NaN"). Non-finite results are errors.
func parseFloat(lit []byte) (float64, error) {
	if f, ok := fastFloat(lit); ok {
		return f, nil
	}
	for _, c := range lit {
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, errNotFinite // hex floats, underscores, "Inf", "NaN": not JSON numbers
		}
	}
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(lit), len(lit)), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errNotFinite
	}
	return f, nil
}

func fastFloat(lit []byte) (float64, bool) {
	i, neg := 0, false
	if len(lit) > 0 && lit[0] == '-' {
		neg, i = true, 1
	}
	var m uint64
	digits, sig, frac, dot := 0, 0, 0, -1
	for ; i < len(lit); i++ {
		c := lit[i]
		switch {
		case c >= '0' && c <= '9':
			if sig > 0 || c != '0' {
				sig++
				if sig > 15 {
					return 0, false
				}
			}
			m = m*10 + uint64(c-'0')
			digits++
			if dot >= 0 {
				frac++
			}
		case c == '.' && dot < 0 && digits > 0:
			dot = digits
		default:
			return 0, false
		}
	}
	if digits == 0 || dot == digits || frac >= len(pow10) {
		return 0, false // "", "-", "5." and very long fractions: let strconv decide
	}
	f := float64(m) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

// decimals returns the number of digits after the point of a decimal
// literal, or -1 when it has an exponent.
func decimals(lit []byte) int {
	n, dot := 0, false
	for _, c := range lit {
		switch {
		case c == 'e' || c == 'E':
			return -1
		case c == '.':
			dot = true
		case dot:
			n++
		}
	}
	return n
}

// midpoint returns the midpoint of two prices given with at most places decimal
// places each. The exact midpoint has at most places+1 of them, so the
// float result is rounded there: the mid of 1.29360 and 1.29470 is 1.29415,
// not 1.2941500000000001.
func midpoint(a, b float64, places int) float64 {
	m := (a + b) / 2
	if places < 0 || places+1 >= len(pow10) {
		return m
	}
	p := pow10[places+1]
	if r := math.Round(m*p) / p; math.Abs(r-m) <= math.Abs(m)*1e-12 {
		return r
	}
	return m
}
