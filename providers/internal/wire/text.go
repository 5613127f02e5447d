package wire

import "github.com/leakgate/leakgate/providers"

// Truncate bounds s to 80 bytes, without splitting a UTF-8 sequence, for
// quoting input in an error message; a shortened s ends in "…". The
// secrets of open clients are masked in the whole of s before it is cut.
func Truncate(s string) string { return providers.Truncate(s, 80) }
