package oanda

import "math"

// maxExactPow10 is the largest n for which 10^n is exact in a float64.
const maxExactPow10 = 22

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
	if places < 0 || places+1 > maxExactPow10 {
		return m
	}
	p := math.Pow10(places + 1)
	if r := math.Round(m*p) / p; math.Abs(r-m) <= math.Abs(m)*1e-12 {
		return r
	}
	return m
}
