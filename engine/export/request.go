package export

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leakgate/leakgate/engine/exportbundle"
	"github.com/leakgate/leakgate/providers"
)

// MaxSymbols is the most symbols one export may ask for.
const MaxSymbols = 100

// Formats an export can write bars in.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// Request is the body of a download-tracker trigger. Every field is
// optional; Resolve fills the gaps from Defaults.
type Request struct {
	// Symbols are the symbols to export; left out (or null), the
	// watchlist. An empty list is an error, not the watchlist.
	Symbols []string `json:"symbols,omitempty"`
	// Range is "1d", "5d", "2w", "1mo", "6mo", "1y", "5y" (back from now),
	// "ytd", "max", or two dates "2016-01-01/2016-12-31". No range reaches
	// back more than MaxRangeYears (where "max" starts), and two dates end
	// at most a year after now.
	Range    string   `json:"range,omitempty"`
	Interval string   `json:"interval,omitempty"`
	Formats  []string `json:"formats,omitempty"`
	Crew     *bool    `json:"crew,omitempty"`
}

// Defaults are what a Request leaves out.
type Defaults struct {
	// Symbols is the tracked watchlist.
	Symbols  []string
	Range    string
	Interval providers.Interval
	Formats  []string
	Crew     bool
}

// Spec is a resolved export: what a job stores as its parameters, so a
// job resumed after a restart exports the same data.
type Spec struct {
	Symbols []string  `json:"symbols"`
	Range   string    `json:"range"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	// Relative is set for ranges counted back from now ("1y"). Such a
	// range ends, for each symbol, at its latest quote when that is
	// earlier than To: recorded data (the sandbox) and closed markets end
	// in the past.
	Relative bool               `json:"relative,omitempty"`
	Interval providers.Interval `json:"interval"`
	Formats  []string           `json:"formats"`
	Crew     bool               `json:"crew"`
}

// FieldError is a problem with one field of a Request. Field is a JSON
// path such as "symbols" or "formats[1]".
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Error implements error.
func (e *FieldError) Error() string { return e.Field + ": " + e.Detail }

// FieldErrors returns every *FieldError in err (joined errors included).
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if e := errors.Unwrap(err); e != nil {
			walk(e)
		}
	}
	walk(err)
	return out
}

// Resolve checks r and fills it from d, resolving a relative range against
// now. Its error joins a *FieldError per problem.
func (r Request) Resolve(d Defaults, now time.Time) (Spec, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	spec := Spec{Crew: d.Crew}
	if r.Crew != nil {
		spec.Crew = *r.Crew
	}

	symbols, field := r.Symbols, "symbols"
	if symbols == nil {
		symbols = d.Symbols
	}
	switch {
	case r.Symbols != nil && len(r.Symbols) == 0:
		bad(field, "empty; omit the field to export the watchlist")
	case len(symbols) == 0:
		bad(field, "no symbols given and no watchlist configured")
	case len(symbols) > MaxSymbols:
		bad(field, "at most %d symbols per export, got %d", MaxSymbols, len(symbols))
	default:
		for i, raw := range symbols {
			sym, _, err := providers.NormalizeSymbol(raw)
			if err == nil {
				err = exportbundle.ValidName(sym)
			}
			if err != nil {
				bad(fmt.Sprintf("%s[%d]", field, i), "%s", shorten(err, raw))
				continue
			}
			if !slices.Contains(spec.Symbols, sym) {
				spec.Symbols = append(spec.Symbols, sym)
			}
		}
	}

	spec.Range = r.Range
	if spec.Range == "" {
		spec.Range = d.Range
	}
	from, to, err := ParseRange(spec.Range, now)
	if err != nil {
		bad("range", "%v", err)
	}
	spec.From, spec.To = from, to
	spec.Relative = err == nil && !strings.Contains(spec.Range, "/")

	spec.Interval = d.Interval
	if r.Interval != "" || spec.Interval == "" {
		iv, err := providers.ParseInterval(r.Interval)
		if err != nil {
			bad("interval", "%s", shorten(err, r.Interval))
		}
		spec.Interval = iv
	}

	formats := r.Formats
	if len(formats) == 0 {
		formats = d.Formats
	}
	if len(formats) == 0 {
		formats = []string{FormatCSV, FormatJSON}
	}
	for i, f := range formats {
		f = strings.ToLower(strings.TrimSpace(f))
		if f != FormatCSV && f != FormatJSON {
			bad(fmt.Sprintf("formats[%d]", i), "unknown format %q: use csv or json", Excerpt(formats[i]))
			continue
		}
		if !slices.Contains(spec.Formats, f) {
			spec.Formats = append(spec.Formats, f)
		}
	}
	if len(errs) > 0 {
		return Spec{}, errors.Join(errs...)
	}
	return spec, nil
}

// MaxExcerpt is the most bytes of an input value an error repeats.
const MaxExcerpt = 64

// Excerpt returns s cut to about MaxExcerpt bytes (on a rune boundary),
// marked with "…" when cut, so that an error never repeats a large input.
func Excerpt(s string) string { return Clip(s, MaxExcerpt) }

// Clip returns s cut to at most n bytes (on a rune boundary), marked with
// "…" when cut.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// shorten returns the text of err with the input v it repeats (quoted
// or not) cut to an Excerpt.
func shorten(err error, v string) string {
	msg := err.Error()
	if len(v) <= MaxExcerpt {
		return msg
	}
	msg = strings.ReplaceAll(msg, strconv.Quote(v), strconv.Quote(Excerpt(v)))
	msg = strings.ReplaceAll(msg, v, Excerpt(v))
	return Clip(msg, 4*MaxExcerpt) // in case it repeats v in another form
}

// MaxRangeYears is the longest range, relative or absolute, and how far
// back from now a range may start (where "max" starts).
const MaxRangeYears = 100

// DefaultRange is the range of a Request that gives none, when Defaults
// has none either.
const DefaultRange = "1y"

var relRange = regexp.MustCompile(`^([1-9][0-9]{0,3})(d|w|mo|y)$`)

// ParseRange resolves a range (see Request.Range) against now into a start
// and an end time, in UTC. An empty range is DefaultRange.
func ParseRange(s string, now time.Time) (from, to time.Time, err error) {
	now = now.UTC()
	s = strings.ToLower(strings.TrimSpace(s))
	q := Excerpt(s)
	if s == "" {
		s = DefaultRange
	}
	if a, b, ok := strings.Cut(s, "/"); ok {
		from, err1 := time.Parse(time.DateOnly, a)
		to, err2 := time.Parse(time.DateOnly, b)
		if err1 != nil || err2 != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("range %q: want two dates YYYY-MM-DD/YYYY-MM-DD", q)
		}
		to = to.Add(24*time.Hour - time.Nanosecond) // the whole last day
		if !from.Before(to) {
			return time.Time{}, time.Time{}, fmt.Errorf("range %q: the first date must not be after the second", q)
		}
		// The bounds of relative ranges: no start before "max" starts
		// (MaxRangeYears back), and no end more than a year past now.
		earliest := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(-MaxRangeYears, 0, 0)
		latest := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(1, 0, 0)
		if from.Before(earliest) || to.After(latest.Add(24*time.Hour-time.Nanosecond)) {
			return time.Time{}, time.Time{}, fmt.Errorf("range %q: dates must lie from %s to %s: a range reaches back at most %d years (as max does) and at most a year ahead",
				q, earliest.Format(time.DateOnly), latest.Format(time.DateOnly), MaxRangeYears)
		}
		return from, to, nil
	}
	switch s {
	case "max":
		return now.AddDate(-100, 0, 0), now, nil
	case "ytd":
		return time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC), now, nil
	}
	m := relRange.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, time.Time{}, fmt.Errorf("range %q: use 5d, 2w, 6mo, 1y, ytd, max or YYYY-MM-DD/YYYY-MM-DD", q)
	}
	n, _ := strconv.Atoi(m[1])
	switch m[2] {
	case "d":
		from = now.AddDate(0, 0, -n)
	case "w":
		from = now.AddDate(0, 0, -7*n)
	case "mo":
		from = now.AddDate(0, -n, 0)
	case "y":
		from = now.AddDate(-n, 0, 0)
	}
	if now.Sub(from) > MaxRangeYears*365*24*time.Hour {
		return time.Time{}, time.Time{}, fmt.Errorf("range %q: at most %d years; use max", q, MaxRangeYears)
	}
	return from, now, nil
}
