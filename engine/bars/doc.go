// Package bars loads and validates series of daily or intraday price bars
// (providers.Bar) before anything trades on them.
//
// LoadCSV parses the CSV exports the engine accepts (Yahoo, Lean-style
// lowercase, OANDA bid/ask); Validate reports every suspicious bar with its
// index and time, separating hard errors (the series cannot be traded on:
// unsorted or duplicate times, NaN, non-positive prices, high below low)
// from warnings (real-data quirks such as an open a cent below the low,
// calendar gaps, extreme one-bar moves). Report.Err turns hard errors into
// one error a command can print.
//
// Neither function sorts, repairs or drops bars: bad data is reported, never
// silently fixed.
package bars
