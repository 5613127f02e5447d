// Package indicator computes technical indicators over price series: SMA,
// EMA, MACD, RSI, Bollinger Bands, ATR and rate of change.
//
// # Two forms
//
// Every indicator has an allocation-free form, named with an Into suffix,
// that writes into slices the caller provides (for backtest loops that run
// many times over the same history), and a convenient form that allocates
// and returns the result. Destination slices must be at least as long as
// the input; only the first len(input) elements are written.
//
// # Warm-up
//
// Output element i depends only on input elements 0..i (no look-ahead).
// Until an indicator has enough input to be defined, its output is NaN;
// each function documents the first index that holds a value. Callers treat
// NaN as "no signal yet".
//
// # Bad input
//
// Invalid parameters (a period below 1, a destination that is too short,
// inputs of different lengths) return an error wrapping ErrParam; nothing
// panics. A NaN in the input propagates to the outputs that depend on it:
// validate bars (package bars) before computing indicators.
package indicator
