package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// parseDuration parses Go durations plus whole days and weeks: "90s",
// "15m", "36h", "30d", "2w", "1d12h".
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	var total time.Duration
	rest := s
	for _, unit := range []struct {
		suffix string
		d      time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}} {
		if i := strings.Index(rest, unit.suffix); i > 0 {
			n, err := strconv.Atoi(rest[:i])
			if err != nil || n < 0 {
				return 0, fmt.Errorf("%q is not a duration: use e.g. 90s, 15m, 36h, 30d or 2w", s)
			}
			total += time.Duration(n) * unit.d
			rest = rest[i+1:]
		}
	}
	if rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration: use e.g. 90s, 15m, 36h, 30d or 2w", s)
		}
		total += d
	}
	return total, nil
}

// parseDate parses 2006-01-02 (UTC); empty is the zero time.
func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date: use YYYY-MM-DD", s)
	}
	return t, nil
}

// parseSince parses a date (2006-01-02, RFC 3339) or a duration back from
// now ("7d").
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	d, err := parseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (YYYY-MM-DD) nor a duration (e.g. 7d, 12h)", s)
	}
	return now.Add(-d), nil
}

// durationFlag is a pflag.Value accepting parseDuration's syntax.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return "0"
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	if d < 0 {
		return fmt.Errorf("%q is negative", s)
	}
	*f.d = d
	return nil
}

func (durationFlag) Type() string { return "duration" }

// dateFlags adds --from and --to.
func dateFlags(cmd *cobra.Command, from, to *string) {
	cmd.Flags().StringVar(from, "from", "", "first day of history, YYYY-MM-DD (default: 3 years before --to)")
	cmd.Flags().StringVar(to, "to", "", "last day of history, YYYY-MM-DD (default: the latest bar)")
}

func dates(cmd *cobra.Command, from, to string) (time.Time, time.Time, error) {
	f, err := parseDate(from)
	if err != nil {
		return f, f, usageErr(cmd, "--from: %v", err)
	}
	t, err := parseDate(to)
	if err != nil {
		return f, t, usageErr(cmd, "--to: %v", err)
	}
	return f, t, nil
}

// bps returns the value of a basis-point flag for the engine: 0 when
// unset (the config's), -1 when set to 0 (none).
func bps(cmd *cobra.Command, name string, v float64) float64 {
	if cmd.Flags().Changed(name) && v == 0 {
		return -1
	}
	return v
}

func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		f, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", p)
		}
		out = append(out, f)
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
