package bars

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/leakgate/leakgate/providers"
)

// ErrBadData is wrapped by Report.Err when a series has hard errors.
var ErrBadData = errors.New("bad bar data")

// Severity says whether an issue makes a series unusable.
type Severity int

// Severities, from mild to fatal.
const (
	// Warning marks a quirk worth showing that does not stop trading: an
	// open or close outside the bar's range, a calendar gap, a huge move.
	Warning Severity = iota + 1
	// Error marks a bar the series cannot be traded with.
	Error
)

// String returns "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// Kind names the check an issue failed.
type Kind string

// The checks Validate runs.
const (
	// MissingTime (error): the bar has a zero time.
	MissingTime Kind = "missing-time"
	// Unsorted (error): the bar is earlier than the one before it.
	Unsorted Kind = "unsorted"
	// Duplicate (error): the bar has the same time as the one before it.
	Duplicate Kind = "duplicate"
	// NonFinite (error): a price or the volume is NaN or infinite.
	NonFinite Kind = "non-finite"
	// NonPositive (error): a price is zero or negative.
	NonPositive Kind = "non-positive"
	// NegativeVolume (error): the volume is below zero.
	NegativeVolume Kind = "negative-volume"
	// HighBelowLow (error): the high is below the low.
	HighBelowLow Kind = "high-below-low"
	// OutsideRange (warning): the open or close lies outside [low, high].
	// Vendor data has these (Yahoo's SPY on 2015-03-05 opens below its low).
	OutsideRange Kind = "outside-range"
	// Gap (warning): more sessions are missing between two bars than the
	// asset class explains (weekends for equities, Saturdays for forex).
	Gap Kind = "gap"
	// OffSession (warning): a daily bar falls on a day the asset class does
	// not trade (an equity bar on a Saturday).
	OffSession Kind = "off-session"
	// Spike (warning): the close moved more than Options.MaxMove from the
	// previous close.
	Spike Kind = "spike"
)

// Issue is one finding about one bar.
type Issue struct {
	// Index is the bar's position in the series.
	Index int `json:"index"`
	// Time is the bar's time.
	Time time.Time `json:"time"`
	// Kind names the failed check.
	Kind Kind `json:"kind"`
	// Severity says whether the issue stops trading.
	Severity Severity `json:"severity"`
	// Message says what is wrong, with the values involved.
	Message string `json:"message"`
}

// String formats the issue as "bar 12 (2015-03-05): message [warning]".
func (i Issue) String() string {
	return fmt.Sprintf("bar %d (%s): %s [%s]", i.Index, formatTime(i.Time), i.Message, i.Severity)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "no time"
	}
	t = t.UTC()
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

// Report is the outcome of Validate.
type Report struct {
	// Bars is the number of bars checked.
	Bars int `json:"bars"`
	// Errors and Warnings count all issues found, including any beyond
	// Options.MaxIssues that Issues does not list.
	Errors int `json:"errors"`
	// Warnings counts issues that do not stop trading.
	Warnings int `json:"warnings"`
	// Issues lists the issues in bar order, at most Options.MaxIssues.
	Issues []Issue `json:"issues,omitempty"`
}

// OK reports whether the series has no hard errors (warnings allowed).
func (r *Report) OK() bool { return r.Errors == 0 }

// Err returns nil when the series has no hard errors, and otherwise an
// error wrapping ErrBadData that counts them and quotes the first few.
func (r *Report) Err() error {
	if r.Errors == 0 {
		return nil
	}
	const quote = 3
	var first []string
	for _, is := range r.Issues {
		if is.Severity == Error && len(first) < quote {
			first = append(first, fmt.Sprintf("bar %d (%s): %s", is.Index, formatTime(is.Time), is.Message))
		}
	}
	more := ""
	if r.Errors > len(first) {
		more = fmt.Sprintf(" and %d more", r.Errors-len(first))
	}
	return fmt.Errorf("%w: %d of %d bars fail validation: %s%s; fix or drop those bars before trading on the series",
		ErrBadData, r.Errors, r.Bars, strings.Join(first, "; "), more)
}

// Options configures Validate. The zero value checks daily equity bars
// with the defaults documented on each field.
type Options struct {
	// Class selects the trading calendar for gap checks: equities trade
	// Monday to Friday, forex Sunday to Friday, crypto every day. Empty
	// means providers.Equity.
	Class providers.AssetClass
	// Interval is the width of one bar; empty means providers.Day.
	Interval providers.Interval
	// MaxMissing is how many sessions may be missing between two bars
	// before a Gap is reported. 0 uses the default for the class (equity 1,
	// for a weekday holiday; forex 1; crypto 0); a negative value reports
	// every missing session.
	MaxMissing int
	// NoGaps turns gap and off-session checks off.
	NoGaps bool
	// MaxMove is the largest close-to-close move, as a fraction, not
	// reported as a Spike. 0 uses the default for the class (equity 0.35,
	// crypto 0.5, forex 0.1); a negative value turns the check off.
	MaxMove float64
	// MaxIssues caps the issues listed in the report (counts stay exact);
	// 0 means 1000.
	MaxIssues int
}

type checker struct {
	opts   Options
	report Report
}

func (c *checker) add(i int, t time.Time, kind Kind, sev Severity, format string, args ...any) {
	if sev == Error {
		c.report.Errors++
	} else {
		c.report.Warnings++
	}
	if len(c.report.Issues) < c.opts.MaxIssues {
		c.report.Issues = append(c.report.Issues, Issue{
			Index: i, Time: t, Kind: kind, Severity: sev, Message: fmt.Sprintf(format, args...),
		})
	}
}

// Validate checks a series of bars and reports every issue it finds; it
// changes nothing. The returned error is only about opts (an unknown asset
// class or interval): findings about the data are in the report, and
// Report.Err turns its hard errors into an error.
func Validate(bs []providers.Bar, opts Options) (*Report, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &checker{opts: o, report: Report{Bars: len(bs)}}
	for i := range bs {
		c.bar(bs, i)
	}
	return &c.report, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Class == "" {
		o.Class = providers.Equity
	}
	if !o.Class.Valid() {
		return o, fmt.Errorf("bars: unknown asset class %q: use %s, %s or %s",
			o.Class, providers.Equity, providers.Crypto, providers.Forex)
	}
	if o.Interval == "" {
		o.Interval = providers.Day
	}
	if o.Interval.Duration() == 0 {
		return o, fmt.Errorf("bars: unknown interval %q: use 1m, 1h, 1d or 1w", o.Interval)
	}
	if o.MaxMissing == 0 && o.Class != providers.Crypto {
		o.MaxMissing = 1
	}
	if o.MaxMove == 0 {
		switch o.Class {
		case providers.Crypto:
			o.MaxMove = 0.5
		case providers.Forex:
			o.MaxMove = 0.1
		default:
			o.MaxMove = 0.35
		}
	}
	if math.IsNaN(o.MaxMove) {
		return o, errors.New("bars: MaxMove is NaN: use a fraction such as 0.35, or a negative value to turn the check off")
	}
	if o.MaxIssues <= 0 {
		o.MaxIssues = 1000
	}
	return o, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (c *checker) bar(bs []providers.Bar, i int) {
	b := bs[i]
	t := b.Time
	if t.IsZero() {
		c.add(i, t, MissingTime, Error, "the bar has no time")
	} else if i > 0 && !bs[i-1].Time.IsZero() {
		prev := bs[i-1].Time
		switch {
		case t.Equal(prev):
			c.add(i, t, Duplicate, Error, "same time as bar %d", i-1)
		case t.Before(prev):
			c.add(i, t, Unsorted, Error, "earlier than bar %d (%s): sort the series by time", i-1, formatTime(prev))
		default:
			c.calendar(i, prev, t)
		}
	}
	if i == 0 && !t.IsZero() {
		c.offSession(0, t)
	}

	prices := [4]struct {
		name string
		v    float64
	}{{"open", b.Open}, {"high", b.High}, {"low", b.Low}, {"close", b.Close}}
	bad := false
	for _, p := range prices {
		switch {
		case !finite(p.v):
			c.add(i, t, NonFinite, Error, "%s is %v", p.name, p.v)
			bad = true
		case p.v <= 0:
			c.add(i, t, NonPositive, Error, "%s %v is not positive", p.name, p.v)
			bad = true
		}
	}
	switch {
	case !finite(b.Volume):
		c.add(i, t, NonFinite, Error, "volume is %v", b.Volume)
	case b.Volume < 0:
		c.add(i, t, NegativeVolume, Error, "volume %v is negative", b.Volume)
	}
	if bad {
		return
	}
	if b.High < b.Low {
		c.add(i, t, HighBelowLow, Error, "high %v is below low %v", b.High, b.Low)
		return
	}
	for _, p := range [2]struct {
		name string
		v    float64
	}{{"open", b.Open}, {"close", b.Close}} {
		switch {
		case p.v < b.Low:
			c.add(i, t, OutsideRange, Warning, "%s %v is below low %v", p.name, p.v, b.Low)
		case p.v > b.High:
			c.add(i, t, OutsideRange, Warning, "%s %v is above high %v", p.name, p.v, b.High)
		}
	}
	if c.opts.MaxMove > 0 && i > 0 {
		pc := bs[i-1].Close
		if finite(pc) && pc > 0 {
			if move := b.Close/pc - 1; math.Abs(move) > c.opts.MaxMove {
				c.add(i, t, Spike, Warning, "close moved %+.1f%% from %v to %v (more than %.0f%%)",
					100*move, pc, b.Close, 100*c.opts.MaxMove)
			}
		}
	}
}

// calendar checks the gap between two consecutive, increasing bar times.
func (c *checker) calendar(i int, prev, t time.Time) {
	if c.opts.NoGaps {
		return
	}
	c.offSession(i, t)
	var missing int
	switch c.opts.Interval {
	case providers.Day:
		missing = sessionsBetween(c.opts.Class, civilDay(prev), civilDay(t))
	case providers.Week:
		missing = int(t.Sub(prev)/(7*24*time.Hour)) - 1
	default:
		// Intraday: crypto trades around the clock; equity and forex bars
		// are only checked within one UTC day, since the overnight and
		// weekend breaks differ by venue.
		if c.opts.Class != providers.Crypto && civilDay(prev) != civilDay(t) {
			return
		}
		missing = int(t.Sub(prev)/c.opts.Interval.Duration()) - 1
	}
	if missing > max(c.opts.MaxMissing, 0) {
		c.add(i, t, Gap, Warning, "%d %s %s missing since bar %d (%s)",
			missing, c.opts.Class, plural(missing, "session"), i-1, formatTime(prev))
	}
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

func (c *checker) offSession(i int, t time.Time) {
	if c.opts.NoGaps || c.opts.Interval != providers.Day {
		return
	}
	if !trades(c.opts.Class, t.UTC().Weekday()) {
		c.add(i, t, OffSession, Warning, "%s bar on a %s, when %s markets are closed",
			c.opts.Class, t.UTC().Weekday(), c.opts.Class)
	}
}

// trades reports whether class has daily sessions on weekday d.
func trades(class providers.AssetClass, d time.Weekday) bool {
	switch class {
	case providers.Crypto:
		return true
	case providers.Forex:
		return d != time.Saturday
	}
	return d != time.Saturday && d != time.Sunday
}

// civilDay is the number of days since the Unix epoch of t's UTC date.
func civilDay(t time.Time) int64 {
	return int64(math.Floor(float64(t.Unix()) / 86400))
}

// sessionsBetween counts the trading days of class strictly between two
// day numbers a < b.
func sessionsBetween(class providers.AssetClass, a, b int64) int {
	n := 0
	// Whole weeks first: each holds a fixed number of sessions.
	days := b - a - 1
	var perWeek int64 = 5
	switch class {
	case providers.Crypto:
		perWeek = 7
	case providers.Forex:
		perWeek = 6
	}
	n += int(days / 7 * perWeek)
	for d := a + 1 + days/7*7; d < b; d++ {
		// Day 0 (1970-01-01) was a Thursday.
		if trades(class, time.Weekday((d%7+7+4)%7)) {
			n++
		}
	}
	return n
}
