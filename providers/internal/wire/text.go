package wire

import "unicode/utf8"

// Truncate bounds s to 80 bytes, without splitting a UTF-8 sequence, for
// quoting input in an error message; a shortened s ends in "…".
func Truncate(s string) string {
	n := 80
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
