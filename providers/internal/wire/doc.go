// Package wire holds what the provider packages share to read and write
// their upstream APIs: exact float parsing (ParseFloat), a validating
// one-pass JSON Scanner, checks and errors for response bodies (WantObject,
// JSONError, IsHTML), client order ids, and helpers for bar ranges
// (Ascending, Clip, DescribeRange) and error messages (Truncate).
//
// ParseFloat and the Scanner accept exactly what RFC 8259 accepts, so a
// decoder built on them refuses what encoding/json refuses, and they do not
// allocate: the provider benchmarks count allocations per bar.
package wire
