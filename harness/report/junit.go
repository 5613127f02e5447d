package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/leakgate/leakgate/harness"
)

// The JUnit XML document, in the shape CI systems (Jenkins, GitLab, GitHub
// test reporters) read: testsuites > testsuite > testcase, with failure,
// error or skipped inside a testcase.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string          `xml:"name,attr"`
	Tests     int             `xml:"tests,attr"`
	Failures  int             `xml:"failures,attr"`
	Errors    int             `xml:"errors,attr"`
	Skipped   int             `xml:"skipped,attr"`
	Time      string          `xml:"time,attr"`
	Timestamp string          `xml:"timestamp,attr,omitempty"`
	Props     *junitProps     `xml:"properties,omitempty"`
	Cases     []junitTestCase `xml:"testcase"`
}

type junitProps struct {
	Props []junitProp `xml:"property"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

type junitText struct {
	Text string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// WriteJUnit writes the report as JUnit XML: one testsuite named after the
// suite ("leakgate" when unnamed) with a testcase per case, classname
// "leakgate.<mode>" and name the scenario. A leak is a <failure
// type="leak"> whose message names the failing metrics (with the shape of
// their growth and their tail) and any proven goroutine leak, and whose
// text is the case's text block, findings and notes included; an error or cancellation is an
// <error> with the reason and the log's tail; a skipped case is <skipped>
// with the reason. Attributes are escaped by encoding/xml, texts are CDATA
// sections (split where they hold "]]>"), and characters XML cannot hold
// become U+FFFD.
func (r *Report) WriteJUnit(w io.Writer) error {
	name := r.Suite
	if name == "" {
		name = "leakgate"
	}
	suite := junitSuite{Name: name, Time: junitTime(r.DurationSeconds)}
	if !r.Started.IsZero() {
		suite.Timestamp = r.Started.UTC().Format(time.RFC3339)
	}
	if len(r.Shards) > 0 {
		suite.Props = &junitProps{Props: []junitProp{{Name: "shards", Value: strings.Join(r.Shards, " ")}}}
	}
	for _, c := range r.ordered() {
		tc := junitTestCase{Classname: "leakgate", Name: c.Scenario, Time: junitTime(c.DurationSeconds)}
		if c.Mode != "" {
			tc.Classname += "." + c.Mode
		}
		suite.Tests++
		switch c.Status {
		case StatusPass:
			if c.Result != nil {
				tc.SystemOut = &junitText{Text: xmlSafe(caseText(c))}
			}
		case StatusSkipped:
			suite.Skipped++
			tc.Skipped = &junitSkipped{Message: c.Reason}
		case StatusLeak:
			suite.Failures++
			tc.Failure = &junitProblem{Message: leakMessage(c.Result), Type: string(StatusLeak), Text: xmlSafe(caseText(c))}
		default:
			suite.Errors++
			msg := c.Reason
			if msg == "" && c.Result != nil {
				msg = c.Result.Error
			}
			if msg == "" {
				msg = string(c.Status)
			}
			tc.Error = &junitProblem{Message: msg, Type: string(c.Status), Text: xmlSafe(caseText(c))}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	doc := junitSuites{
		Name: name, Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Skipped: suite.Skipped,
		Time: suite.Time, Suites: []junitSuite{suite},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("report: write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: write junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("report: write junit: %w", err)
	}
	return nil
}

// leakMessage names the failing thresholds, with the shape of each
// metric's growth and its tail where the failing statistic is not the tail
// itself: "goroutines delta +50 (delta<=0), grows steadily, tail +25;
// heap …", then the goroutines the runtime proved leaked.
func leakMessage(res *harness.Result) string {
	if res == nil {
		return "leak"
	}
	var parts []string
	for _, m := range res.Metrics {
		if m.Verdict != harness.VerdictFail {
			continue
		}
		for _, t := range m.Thresholds {
			if !t.Passed {
				parts = append(parts, fmt.Sprintf("%s %s %s (%s)%s", m.Name, lhs(t.Expr), fmtStat(m, t), t.Expr, shapeSuffix(m, lhs(t.Expr))))
				break
			}
		}
	}
	if n := leakedCount(res.Findings); n > 0 {
		parts = append(parts, fmt.Sprintf("%d goroutines proven leaked (blocked forever)", n))
	}
	if len(parts) == 0 {
		return "leak"
	}
	return "leak: " + strings.Join(parts, "; ")
}

// shapeSuffix is ", grows steadily, tail +25" for a metric whose failing
// statistic is stat: the shape, and the tail unless stat is a tail.
func shapeSuffix(m harness.MetricResult, stat string) string {
	if m.Shape == "" {
		return ""
	}
	out := ", " + growthText(m)
	if stat != "tail" && stat != "tail_slope" && !math.IsNaN(m.Tail) {
		out += ", tail " + fmtValue(m.Unit, m.Tail, true)
	}
	return out
}

func junitTime(s float64) string {
	if s < 0 || s != s {
		s = 0
	}
	return fmt.Sprintf("%.3f", s)
}

// xmlSafe replaces the characters XML 1.0 cannot hold (most control
// characters, such as the escapes of colored logs) with U+FFFD.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}
