package load

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// fmtKind prints a value of a threshold quantity.
func fmtKind(kind string, v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case math.IsInf(v, 1):
		return "never"
	}
	switch kind {
	case kindDuration:
		return fmtDur(v)
	case kindRatio:
		return strconv.FormatFloat(v*100, 'f', 2, 64) + "%"
	case kindBytes:
		return fmtBytes(v)
	case kindRate:
		return fmtBytes(v) + "/s"
	}
	return fmt.Sprintf("%+g", v)
}

func fmtDur(sec float64) string {
	if math.IsNaN(sec) {
		return "n/a"
	}
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

func fmtBytes(v float64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	units := []string{"B", "KiB", "MiB", "GiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return sign + strconv.FormatFloat(v, 'f', 0, 64) + "B"
	}
	return sign + strconv.FormatFloat(v, 'f', 1, 64) + units[i]
}

// verdictWord is the summary's first word.
func (r *Report) verdictWord() string {
	switch r.Status {
	case StatusPass:
		return "PASS"
	case StatusFail:
		return "FAIL"
	}
	return "ERROR"
}

// Headline is the report in one line.
func (r *Report) Headline() string {
	dur := 0.0
	for _, a := range r.Attacks {
		dur = max(dur, a.Began+a.Duration)
	}
	rate := fmt.Sprintf("achieved %.1f/s", r.AchievedRate)
	if !math.IsNaN(r.RequestedRate) {
		rate = fmt.Sprintf("requested %.1f/s, achieved %.1f/s", r.RequestedRate, r.AchievedRate)
	}
	shards := ""
	if len(r.Attacks) > 1 {
		shards = fmt.Sprintf(", %d attackers", len(r.Attacks))
	}
	return fmt.Sprintf("leakgate load %s: %s: %d requests in %s%s, %s, success %.2f%%",
		r.Name, r.verdictWord(), r.Sent, fmtDur(dur), shards, rate, r.Vegeta.Success*100)
}

// WriteText writes the summary: the thresholds first (✓ or ✗), then
// latency, status codes, errors and the server's resources.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString(r.Headline() + "\n")
	if r.Error != "" {
		fmt.Fprintf(&b, "  error: %s\n", r.Error)
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, t := range r.Thresholds {
		mark := "✓"
		if !t.Passed {
			mark = "✗"
		}
		fmt.Fprintf(tw, "  %s %s\t%s\n", mark, t.Expr, fmtKind(t.Kind, t.Actual))
	}
	tw.Flush()
	l := r.Vegeta.Latencies
	fmt.Fprintf(&b, "  latency (workers)    p50 %s  p90 %s  p95 %s  p99 %s  max %s  mean %s\n",
		fmtDur(l.P50.Seconds()), fmtDur(l.P90.Seconds()), fmtDur(l.P95.Seconds()), fmtDur(l.P99.Seconds()),
		fmtDur(l.Max.Seconds()), fmtDur(l.Mean.Seconds()))
	c := r.Corrected
	fmt.Fprintf(&b, "  latency (scheduled)  p50 %s  p90 %s  p95 %s  p99 %s  max %s  mean %s\n",
		fmtDur(c.P50), fmtDur(c.P90), fmtDur(c.P95), fmtDur(c.P99), fmtDur(c.Max), fmtDur(c.Mean))
	for _, a := range r.Attacks {
		fmt.Fprintf(&b, "  attacker %s: %s, %d of %d requests sent (%.1f/s)\n", a.Shard, a.Pace, a.Sent, a.Requested, a.AchievedRate)
	}
	codes := make([]string, 0, len(r.Vegeta.StatusCodes))
	for code, n := range r.Vegeta.StatusCodes {
		codes = append(codes, fmt.Sprintf("%s×%d", code, n))
	}
	slices.Sort(codes)
	fmt.Fprintf(&b, "  status codes: %s\n", strings.Join(codes, " "))
	for i, e := range r.Vegeta.Errors {
		if i == 5 {
			fmt.Fprintf(&b, "  … %d more errors\n", len(r.Vegeta.Errors)-5)
			break
		}
		fmt.Fprintf(&b, "  error: %s\n", e)
	}
	if s := r.Server; s != nil {
		r.writeServer(&b, s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) writeServer(b *strings.Builder, s *Server) {
	drain := "no drain condition"
	if len(s.Samples) > 0 && slices.ContainsFunc(s.Samples, func(x Sample) bool { return x.Phase == phaseDrain }) || s.DrainSeconds > 0 {
		drain = fmt.Sprintf("drained in %s", fmtDur(s.DrainSeconds))
		if !s.Drained {
			drain = fmt.Sprintf("NOT drained after %s", fmtDur(s.DrainSeconds))
		}
	}
	fmt.Fprintf(b, "  server pid %d (%s), %d samples; before the attack → after the drain:\n", s.PID, drain, len(s.Samples))
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	row := func(name string, base, fin float64, format func(float64) string) {
		if base < 0 || fin < 0 {
			return
		}
		peak := base
		for _, x := range s.Samples {
			if v, ok := x.Snapshot.Value(name); ok && v > peak {
				peak = v
			}
		}
		fmt.Fprintf(tw, "    %s\t%s → %s\t(%s)\tpeak %s\n", name, format(base), format(fin), signed(format, fin-base), format(peak))
	}
	count := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	row("goroutines", float64(s.Baseline.Snapshot.Goroutines), float64(s.Final.Snapshot.Goroutines), count)
	row("fds", float64(s.Baseline.Snapshot.FDs), float64(s.Final.Snapshot.FDs), count)
	row("threads", float64(s.Baseline.Snapshot.Threads), float64(s.Final.Snapshot.Threads), count)
	row("rss", float64(s.Baseline.Snapshot.RSS), float64(s.Final.Snapshot.RSS), fmtBytes)
	row("heap", float64(s.Baseline.Snapshot.Heap), float64(s.Final.Snapshot.Heap), fmtBytes)
	tw.Flush()
	fmt.Fprintf(b, "    conns %s → %s\n", fmtStates(s.Baseline.Conns), fmtStates(s.Final.Conns))
	if cpu := s.Final.CPU() - s.Baseline.CPU(); !math.IsNaN(cpu) {
		fmt.Fprintf(b, "    cpu %s (%s per 1000 requests), heap slope %s\n", fmtDur(cpu), fmtKind(kindDuration, r.actual("cpu_per_1k")),
			fmtKind(kindRate, r.heapSlope()))
	}
	for _, e := range s.Errors {
		fmt.Fprintf(b, "    sampling error: %s\n", e)
	}
}

func signed(format func(float64) string, v float64) string {
	if v >= 0 {
		return "+" + format(v)
	}
	return format(v)
}

func fmtStates(m map[string]int) string {
	if m == nil {
		return "n/a"
	}
	keys := make([]string, 0, len(m))
	n := 0
	for k, v := range m {
		keys = append(keys, fmt.Sprintf("%s %d", k, v))
		n += v
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", n, strings.Join(keys, ", "))
}

// WriteJUnit writes JUnit XML: one test suite, one test case per threshold,
// a failure for each that failed (and one for a run that did not
// complete), with the text summary as the suite's system-out.
func (r *Report) WriteJUnit(w io.Writer) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		Error     *failure `xml:"error,omitempty"`
	}
	type suite struct {
		XMLName   xml.Name   `xml:"testsuite"`
		Name      string     `xml:"name,attr"`
		Tests     int        `xml:"tests,attr"`
		Failures  int        `xml:"failures,attr"`
		Errors    int        `xml:"errors,attr"`
		Time      string     `xml:"time,attr"`
		Cases     []testcase `xml:"testcase"`
		SystemOut string     `xml:"system-out"`
	}
	var text strings.Builder
	if err := r.WriteText(&text); err != nil {
		return err
	}
	s := suite{Name: "leakgate load " + r.Name, Time: strconv.FormatFloat(r.DrainEnd, 'f', 3, 64), SystemOut: text.String()}
	for _, t := range r.Thresholds {
		c := testcase{Name: t.Expr, Classname: "load." + r.Name}
		if !t.Passed {
			msg := fmt.Sprintf("%s: actual %s", t.Expr, fmtKind(t.Kind, t.Actual))
			c.Failure = &failure{Message: msg, Text: msg}
			s.Failures++
		}
		s.Cases = append(s.Cases, c)
	}
	if r.Status == StatusError {
		s.Cases = append(s.Cases, testcase{Name: "run", Classname: "load." + r.Name, Error: &failure{Message: r.Error, Text: r.Error}})
		s.Errors++
	}
	s.Tests = len(s.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
