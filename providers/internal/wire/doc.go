// Package wire holds what the provider packages share to read their
// upstream APIs: exact float parsing (ParseFloat), a validating one-pass
// JSON Scanner, and small helpers for bars and error messages.
//
// ParseFloat and the Scanner accept exactly what RFC 8259 accepts, so a
// decoder built on them refuses what encoding/json refuses, and they do not
// allocate: the provider benchmarks count allocations per bar.
package wire
