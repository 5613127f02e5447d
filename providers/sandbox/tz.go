package sandbox

import "time"

// The US equity APIs stamp daily bars in New York time. The sandbox computes
// the offset from the US daylight-saving rules instead of loading tzdata, so
// it behaves the same on every machine.

// nthSunday returns the day of month of the n-th Sunday (n ≥ 1) of a month,
// or the last Sunday when n is 0.
func nthSunday(year int, month time.Month, n int) int {
	if n == 0 {
		last := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC)
		return last.Day() - int(last.Weekday())
	}
	first := time.Date(year, month, 1, 0, 0, 0, 0, time.UTC)
	return 1 + (7-int(first.Weekday()))%7 + 7*(n-1)
}

// dstRange returns the dates on which US daylight saving time starts and
// ends in year (at 02:00 local time).
func dstRange(year int) (start, end time.Time) {
	if year >= 2007 {
		start = time.Date(year, time.March, nthSunday(year, time.March, 2), 0, 0, 0, 0, time.UTC)
		end = time.Date(year, time.November, nthSunday(year, time.November, 1), 0, 0, 0, 0, time.UTC)
		return start, end
	}
	start = time.Date(year, time.April, nthSunday(year, time.April, 1), 0, 0, 0, 0, time.UTC)
	end = time.Date(year, time.October, nthSunday(year, time.October, 0), 0, 0, 0, 0, time.UTC)
	return start, end
}

// nyOffset is New York's UTC offset in seconds at the given local time of
// day (hours after midnight) on date (00:00 UTC of the calendar day).
func nyOffset(date time.Time, hour float64) int {
	start, end := dstRange(date.Year())
	dst := false
	switch {
	case date.After(start) && date.Before(end):
		dst = true
	case date.Equal(start):
		dst = hour >= 2
	case date.Equal(end):
		dst = hour < 2
	}
	if dst {
		return -4 * 3600
	}
	return -5 * 3600
}

// nyTime returns the instant of a New York local time of day on date.
func nyTime(date time.Time, hour, minute int) time.Time {
	off := nyOffset(date, float64(hour)+float64(minute)/60)
	return date.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute - time.Duration(off)*time.Second)
}

// nyMidnight is 00:00 New York time on date, as Polygon and Finnhub stamp
// daily equity bars.
func nyMidnight(date time.Time) time.Time { return nyTime(date, 0, 0) }

// nyOpen is 09:30 New York time on date, as Yahoo stamps daily equity bars.
func nyOpen(date time.Time) time.Time { return nyTime(date, 9, 30) }

// nyClose is 16:00 New York time on date: the time of a day's last trade.
func nyClose(date time.Time) time.Time { return nyTime(date, 16, 0) }

// utcDate truncates t to 00:00 UTC of its UTC calendar day.
func utcDate(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
