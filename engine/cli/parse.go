package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/leakgate/leakgate/engine/bars"
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
		f, err := parseFinite(p)
		if err != nil {
			return nil, err
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

// floatFlag is a float64 flag that refuses NaN and infinities: a
// comparison with NaN is always false, so a NaN threshold or limit would
// pass every check.
type floatFlag struct{ p *float64 }

func (f floatFlag) String() string {
	if f.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*f.p, 'g', -1, 64)
}

func (f floatFlag) Set(s string) error {
	v, err := parseFinite(s)
	if err != nil {
		return err
	}
	*f.p = v
	return nil
}

func (floatFlag) Type() string { return "float" }

// floatVar adds a float64 flag that accepts finite numbers only.
func floatVar(fs *pflag.FlagSet, p *float64, name string, value float64, usage string) {
	*p = value
	fs.Var(floatFlag{p}, name, usage)
}

// parseFinite parses a finite float64.
func parseFinite(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return v, nil
}

// checkFinite refuses a non-finite value in any float flag of cmd that
// floatVar did not add, naming the flag: the rule holds for every
// numeric flag, present and future.
func checkFinite(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if err != nil || !fl.Changed {
			return
		}
		switch fl.Value.Type() {
		case "float64", "float32":
			if _, perr := parseFinite(fl.Value.String()); perr != nil {
				err = usageErr(cmd, "--%s: %v", fl.Name, perr)
			}
		case "float64Slice", "float32Slice":
			for _, s := range splitList(strings.Trim(fl.Value.String(), "[]")) {
				if _, perr := parseFinite(s); perr != nil {
					err = usageErr(cmd, "--%s: %v", fl.Name, perr)
					return
				}
			}
		}
	})
	return err
}

// sizeFlag is a byte-size flag: a whole number of bytes, or with a KiB,
// MiB or GiB suffix ("64MiB").
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string {
	if f.n == nil {
		return "0"
	}
	return strconv.FormatInt(*f.n, 10)
}

func (f sizeFlag) Set(s string) error {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v < 1 || v > math.MaxInt64/mult {
		return fmt.Errorf("%q is not a positive size: use bytes or e.g. 64MiB, 2GiB", s)
	}
	*f.n = v * mult
	return nil
}

func (sizeFlag) Type() string { return "size" }

// csvFlags adds --csv and --csv-max-bytes.
func csvFlags(cmd *cobra.Command, path *string, maxBytes *int64, usage string) {
	f := cmd.Flags()
	f.StringVar(path, "csv", "", usage)
	*maxBytes = bars.DefaultMaxBytes
	f.Var(sizeFlag{maxBytes}, "csv-max-bytes", "read at most this much of --csv, e.g. 64MiB or 2GiB; a larger file is refused")
}
