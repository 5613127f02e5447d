package harness

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Threshold is one parsed threshold expression on one metric, such as
// "tail<=0" on goroutines or "tail_slope<8KiB" on heap. See "Thresholds" in the
// package documentation for the grammar.
type Threshold struct {
	Metric string
	Expr   string
	lhs    string
	op     string
	terms  []term
}

// term is one operand of the right-hand side: sign * (value or a statistic).
type term struct {
	sign    float64
	stat    string  // a statistic name, or "" for a number
	value   float64 // the number, in base units
	percent bool    // value is a percentage of the baseline
}

// Statistics a threshold can compare. tail and tail_slope are the growth
// over the last half of the run and that growth per iteration; released
// counts the descriptors or connections that only the final collection
// closed (see "Statistics" in the package documentation).
var stats = []string{"baseline", "final", "delta", "max", "min", "slope", "tail", "tail_slope", "released"}

var ops = []string{"<=", ">=", "==", "!=", "<", ">"}

// byteUnits maps unit spellings, compared case-insensitively, to bytes.
var byteUnits = []struct {
	name string
	mult float64
}{
	{"B", 1},
	{"KB", 1e3}, {"KiB", 1 << 10},
	{"MB", 1e6}, {"MiB", 1 << 20},
	{"GB", 1e9}, {"GiB", 1 << 30},
}

// ThresholdError reports a threshold that cannot be used: its metric, the
// expression, and the offending token.
type ThresholdError struct {
	Metric string
	Expr   string
	Token  string // the bad token, or "" when something is missing
	Reason string
}

func (e *ThresholdError) Error() string {
	return fmt.Sprintf("harness: threshold on %s %q: %s", e.Metric, e.Expr, e.Reason)
}

// ParseThreshold parses one expression for a metric. It checks the syntax
// and that byte units are used only on byte metrics (rss, heap and
// probes); whether the metric exists is checked when a run starts.
func ParseThreshold(metric, expr string) (Threshold, error) {
	p := thresholdParser{th: Threshold{Metric: metric, Expr: expr}, src: expr}
	if err := p.parse(); err != nil {
		return Threshold{}, err
	}
	return p.th, nil
}

type thresholdParser struct {
	th  Threshold
	src string
	pos int
}

func (p *thresholdParser) fail(token, format string, args ...any) error {
	return &ThresholdError{Metric: p.th.Metric, Expr: p.th.Expr, Token: token, Reason: fmt.Sprintf(format, args...)}
}

func (p *thresholdParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// word reads a run of letters, or "%".
func (p *thresholdParser) word() string {
	start := p.pos
	for p.pos < len(p.src) && isLetter(p.src[p.pos]) {
		p.pos++
	}
	if p.pos == start && p.pos < len(p.src) && p.src[p.pos] == '%' {
		p.pos++
	}
	return p.src[start:p.pos]
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' || c == '.' }

// rest returns the next token-ish text for error messages.
func (p *thresholdParser) rest() string {
	end := p.pos
	for end < len(p.src) && p.src[end] != ' ' {
		end++
	}
	return p.src[p.pos:end]
}

func (p *thresholdParser) parse() error {
	p.skipSpace()
	if p.pos == len(p.src) {
		return p.fail("", "empty expression")
	}
	lhs := p.word()
	if lhs == "" {
		return p.fail(p.rest(), "expected a statistic (%s), found %q", strings.Join(stats, ", "), p.rest())
	}
	if !isStat(lhs) {
		return p.fail(lhs, "unknown statistic %q (want %s)", lhs, strings.Join(stats, ", "))
	}
	p.th.lhs = lhs
	p.skipSpace()
	op := ""
	for _, o := range ops {
		if strings.HasPrefix(p.src[p.pos:], o) {
			op = o
			break
		}
	}
	if op == "" {
		if p.pos == len(p.src) {
			return p.fail("", "missing comparison after %q (want <, <=, >, >=, == or !=)", lhs)
		}
		return p.fail(p.opText(), "unknown comparison %q (want <, <=, >, >=, == or !=)", p.opText())
	}
	p.pos += len(op)
	if p.pos < len(p.src) && strings.ContainsRune("<>=!", rune(p.src[p.pos])) {
		p.pos -= len(op)
		return p.fail(p.opText(), "unknown comparison %q (want <, <=, >, >=, == or !=)", p.opText())
	}
	p.th.op = op
	sign := 1.0
	for first := true; ; first = false {
		p.skipSpace()
		if p.pos == len(p.src) {
			if first {
				return p.fail("", "missing value after %q", op)
			}
			return p.fail("", "missing value after %q", p.src[p.pos-1:p.pos])
		}
		t, err := p.operand(sign, first)
		if err != nil {
			return err
		}
		p.th.terms = append(p.th.terms, t)
		p.skipSpace()
		if p.pos == len(p.src) {
			return nil
		}
		switch p.src[p.pos] {
		case '+':
			sign = 1
		case '-':
			sign = -1
		default:
			return p.fail(p.rest(), "unexpected %q after the value (want + or -)", p.rest())
		}
		p.pos++
	}
}

func (p *thresholdParser) opText() string {
	end := p.pos
	for end < len(p.src) && strings.ContainsRune("<>=!", rune(p.src[end])) {
		end++
	}
	if end == p.pos {
		return p.rest()
	}
	return p.src[p.pos:end]
}

func isStat(s string) bool {
	for _, st := range stats {
		if s == st {
			return true
		}
	}
	return false
}

func (p *thresholdParser) operand(sign float64, first bool) (term, error) {
	c := p.src[p.pos]
	if isLetter(c) {
		w := p.word()
		if !isStat(w) {
			return term{}, p.fail(w, "unknown statistic %q (want a number or %s)", w, strings.Join(stats, ", "))
		}
		return term{sign: sign, stat: w}, nil
	}
	start := p.pos
	if first && (c == '-' || c == '+') {
		p.pos++
	}
	for p.pos < len(p.src) && (isDigit(p.src[p.pos]) || p.src[p.pos] == 'e' && p.pos+1 < len(p.src) && (isDigit(p.src[p.pos+1]) || p.src[p.pos+1] == '-')) {
		if p.src[p.pos] == 'e' {
			p.pos++
		}
		p.pos++
	}
	num := p.src[start:p.pos]
	if num == "" || num == "-" || num == "+" {
		p.pos = start
		return term{}, p.fail(p.rest(), "expected a number or statistic, found %q", p.rest())
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return term{}, p.fail(num, "bad number %q", num)
	}
	t := term{sign: sign, value: v}
	unit := p.word()
	if unit == "" {
		return t, nil
	}
	if unit == "%" {
		t.percent = true
		return t, nil
	}
	for _, u := range byteUnits {
		if strings.EqualFold(unit, u.name) {
			if metricUnit(p.th.Metric) == UnitCount {
				return term{}, p.fail(unit, "byte unit %q on %s, which is a count", unit, p.th.Metric)
			}
			t.value *= u.mult
			return t, nil
		}
	}
	return term{}, p.fail(unit, "unknown unit %q (want B, KB, KiB, MB, MiB, GB, GiB or %%)", unit)
}

// values are the statistics of one metric.
type values struct {
	baseline, final, delta, max, min, slope, tail, tailSlope, released float64
}

func (v values) stat(name string) float64 {
	switch name {
	case "baseline":
		return v.baseline
	case "final":
		return v.final
	case "delta":
		return v.delta
	case "max":
		return v.max
	case "min":
		return v.min
	case "slope":
		return v.slope
	case "tail":
		return v.tail
	case "tail_slope":
		return v.tailSlope
	case "released":
		return v.released
	}
	return math.NaN()
}

// eval returns the two sides and whether the comparison holds. A NaN side
// (too few samples) is returned as such, with ok false.
func (t Threshold) eval(v values) (actual, limit float64, ok bool) {
	actual = v.stat(t.lhs)
	for _, tm := range t.terms {
		x := tm.value
		switch {
		case tm.stat != "":
			x = v.stat(tm.stat)
		case tm.percent:
			x = tm.value / 100 * v.baseline
		}
		limit += tm.sign * x
	}
	if math.IsNaN(actual) || math.IsNaN(limit) {
		return actual, limit, false
	}
	switch t.op {
	case "<":
		ok = actual < limit
	case "<=":
		ok = actual <= limit
	case ">":
		ok = actual > limit
	case ">=":
		ok = actual >= limit
	case "==":
		ok = actual == limit
	case "!=":
		ok = actual != limit
	}
	return actual, limit, ok
}

// String returns the expression.
func (t Threshold) String() string { return t.Expr }
