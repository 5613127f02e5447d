package sandbox

import (
	"errors"
	"fmt"
	"time"
)

// ErrDateOutside is matched by the error of CheckDate for a date outside
// the recorded data.
var ErrDateOutside = errors.New("sandbox: date outside the recorded data")

// Recorded returns the first and the last day of the embedded data, over
// all series: the dates the replay clock can meaningfully be set to.
func Recorded() (first, last time.Time) {
	data, err := dataset()
	if err != nil {
		panic(fmt.Sprintf("sandbox: embedded data does not parse (a bug in this package): %v", err))
	}
	for _, s := range data {
		if f := s.bars[0].Time; first.IsZero() || f.Before(first) {
			first = f
		}
		if l := s.last(); l.After(last) {
			last = l
		}
	}
	return utcDate(first), utcDate(last)
}

// CheckDate returns an error matching ErrDateOutside, naming the recorded
// range, when t's UTC day lies before the first or after the last day of
// the embedded data (see Recorded). A replay clock set before the
// recordings start would serve later data as if it were current, and one
// set after they end would serve stale quotes; callers that take a
// sandbox date from a user (such as data.sandbox_date) check it here
// before WithReplay or SetDate, which accept any date.
func CheckDate(t time.Time) error {
	first, last := Recorded()
	if day := utcDate(t); day.Before(first) || day.After(last) {
		return fmt.Errorf("%w: %s; the sandbox has recordings from %s to %s", ErrDateOutside,
			day.Format(time.DateOnly), first.Format(time.DateOnly), last.Format(time.DateOnly))
	}
	return nil
}
