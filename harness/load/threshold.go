package load

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kinds of threshold quantities, which decide the units an expression may
// use and how a value is printed.
const (
	kindDuration = "duration" // seconds; units ns, us, µs, ms, s, m
	kindRatio    = "ratio"    // 0..1; a % or a bare fraction
	kindCount    = "count"    // a bare number
	kindBytes    = "bytes"    // B, KB, KiB, MB, MiB, GB, GiB or bare
	kindRate     = "bytes/s"  // a byte unit, optionally followed by /s
)

// quantity is one name thresholds can use.
type quantity struct {
	name   string
	kind   string
	server bool // needs a watched server
	doc    string
}

// quantities are the names of the threshold grammar, in report order.
var quantities = []quantity{
	{"rate", kindRatio, false, "requests sent / requests the pace asked for in the duration"},
	{"success", kindRatio, false, "responses with a 2xx or 3xx status / requests sent"},
	{"p50", kindDuration, false, "latency measured by the workers (vegeta's), 50th percentile"},
	{"p90", kindDuration, false, "… 90th percentile"},
	{"p95", kindDuration, false, "… 95th percentile"},
	{"p99", kindDuration, false, "… 99th percentile"},
	{"max", kindDuration, false, "… maximum"},
	{"mean", kindDuration, false, "… mean"},
	{"cp50", kindDuration, false, "latency from each request's scheduled send time (corrected for coordinated omission), 50th percentile"},
	{"cp90", kindDuration, false, "… 90th percentile"},
	{"cp95", kindDuration, false, "… 95th percentile"},
	{"cp99", kindDuration, false, "… 99th percentile"},
	{"cmax", kindDuration, false, "… maximum"},
	{"goroutines", kindCount, true, "the server's goroutines after the drain minus before the attack"},
	{"fds", kindCount, true, "its open descriptors, likewise"},
	{"conns", kindCount, true, "its TCP connections (owned by a descriptor, any state), likewise"},
	{"threads", kindCount, true, "its threads, likewise"},
	{"rss", kindBytes, true, "its resident memory, likewise"},
	{"heap_slope", kindRate, true, "least-squares growth of its Go heap over the attack and drain, per second"},
	{"cpu_per_1k", kindDuration, true, "its CPU time (user and system) from before the attack to the end, per 1000 requests"},
	{"drain", kindDuration, true, "time from the end of the attack until the drain condition held"},
}

func lookupQuantity(name string) (quantity, bool) {
	for _, q := range quantities {
		if q.name == name {
			return q, true
		}
	}
	return quantity{}, false
}

// Default thresholds. The rate check is always on: latency measured by
// the workers hides a backlog when they cannot send on time.
var (
	DefaultThresholds       = []string{"rate>=99%", "success>=99%"}
	DefaultServerThresholds = []string{"goroutines<=2", "fds<=2", "conns<=2"}
)

// Threshold is one parsed expression, such as "p99<25ms".
type Threshold struct {
	Expr  string
	name  string
	op    string
	limit float64 // in the quantity's base unit: seconds, a fraction, bytes
	q     quantity
}

// Name is the quantity the threshold is on.
func (t Threshold) Name() string { return t.name }

// ThresholdError reports an expression that cannot be used.
type ThresholdError struct {
	Expr   string
	Reason string
}

func (e *ThresholdError) Error() string { return fmt.Sprintf("threshold %q: %s", e.Expr, e.Reason) }

var ops = []string{"<=", ">=", "==", "!=", "<", ">"}

// ParseThreshold parses "NAME OP NUMBER[UNIT]". See the package
// documentation for the names and units.
func ParseThreshold(expr string) (Threshold, error) {
	s := strings.TrimSpace(expr)
	bad := func(format string, args ...any) (Threshold, error) {
		return Threshold{}, &ThresholdError{Expr: expr, Reason: fmt.Sprintf(format, args...)}
	}
	i := strings.IndexAny(s, "<>=!")
	if i < 0 {
		return bad("no comparison (want one of %s)", strings.Join(ops, " "))
	}
	name := strings.TrimSpace(s[:i])
	rest := s[i:]
	var op string
	for _, o := range ops {
		if strings.HasPrefix(rest, o) {
			op = o
			break
		}
	}
	if op == "" {
		return bad("bad comparison %q", rest[:1])
	}
	q, ok := lookupQuantity(name)
	if !ok {
		names := make([]string, len(quantities))
		for i, q := range quantities {
			names[i] = q.name
		}
		return bad("unknown name %q (want %s)", name, strings.Join(names, ", "))
	}
	v, err := parseValue(q.kind, strings.TrimSpace(rest[len(op):]))
	if err != nil {
		return bad("%v", err)
	}
	return Threshold{Expr: strings.Join(strings.Fields(s), ""), name: name, op: op, limit: v, q: q}, nil
}

func parseValue(kind, s string) (float64, error) {
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || s[end] == '-' || s[end] == '+' || s[end] == 'e') {
		end++
	}
	num, unit := s[:end], strings.TrimSpace(s[end:])
	if num == "" {
		return 0, fmt.Errorf("no number in %q", s)
	}
	x, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("number %q: %w", num, err)
	}
	switch kind {
	case kindDuration:
		if unit == "" {
			return 0, fmt.Errorf("%q needs a unit (ns, us, ms, s, m)", s)
		}
		d, err := time.ParseDuration(num + unit)
		if err != nil {
			return 0, fmt.Errorf("duration %q: want a number and ns, us, ms, s or m", s)
		}
		return d.Seconds(), nil
	case kindRatio:
		switch unit {
		case "%":
			return x / 100, nil
		case "":
			return x, nil
		}
		return 0, fmt.Errorf("unit %q: a ratio takes %% or a fraction", unit)
	case kindCount:
		if unit != "" {
			return 0, fmt.Errorf("unit %q on a count", unit)
		}
		return x, nil
	case kindBytes, kindRate:
		if kind == kindRate {
			unit = strings.TrimSuffix(unit, "/s")
		}
		m, ok := byteUnits[strings.ToLower(unit)]
		if !ok {
			return 0, fmt.Errorf("unit %q: want B, KB, KiB, MB, MiB, GB or GiB", unit)
		}
		return x * m, nil
	}
	return 0, fmt.Errorf("unknown kind %s", kind)
}

var byteUnits = map[string]float64{
	"": 1, "b": 1, "kb": 1e3, "kib": 1 << 10, "mb": 1e6, "mib": 1 << 20, "gb": 1e9, "gib": 1 << 30,
}

// holds compares actual with the limit; NaN never holds.
func (t Threshold) holds(actual float64) bool {
	if math.IsNaN(actual) {
		return false
	}
	switch t.op {
	case "<":
		return actual < t.limit
	case "<=":
		return actual <= t.limit
	case ">":
		return actual > t.limit
	case ">=":
		return actual >= t.limit
	case "==":
		return actual == t.limit
	}
	return actual != t.limit
}

// ThresholdResult is one evaluated threshold. Actual and Limit are in the
// quantity's base unit (seconds, a fraction, bytes, bytes per second);
// Actual is null in JSON when it could not be measured.
type ThresholdResult struct {
	Expr   string  `json:"expr"`
	Name   string  `json:"name"`
	Kind   string  `json:"kind"`
	Actual float64 `json:"actual"`
	Limit  float64 `json:"limit"`
	Passed bool    `json:"passed"`
}

// ParseThresholds parses expressions and merges them with the defaults:
// an expression replaces the defaults on its name. server says whether a
// server is watched (its defaults apply, and its names may be used).
func ParseThresholds(exprs []string, server bool) ([]Threshold, error) {
	var own []Threshold
	named := map[string]bool{}
	for _, e := range exprs {
		t, err := ParseThreshold(e)
		if err != nil {
			return nil, err
		}
		if t.q.server && !server {
			return nil, &ThresholdError{Expr: e, Reason: "needs a watched server (--spawn, --pid)"}
		}
		own = append(own, t)
		named[t.name] = true
	}
	defaults := DefaultThresholds
	if server {
		defaults = append(append([]string{}, defaults...), DefaultServerThresholds...)
	}
	var out []Threshold
	for _, e := range defaults {
		t, err := ParseThreshold(e)
		if err != nil {
			panic("load: bad default threshold " + e) // a bug in this package
		}
		if !named[t.name] {
			out = append(out, t)
		}
	}
	return append(out, own...), nil
}
