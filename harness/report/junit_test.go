package report_test

import (
	"bytes"
	"encoding/xml"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness/report"
)

// The JUnit shape, as a CI system parses it.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, r *report.Report) junitDoc {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, r.WriteJUnit(&b))
	var doc junitDoc
	require.NoError(t, xml.Unmarshal(b.Bytes(), &doc), b.String())
	return doc
}

func TestWriteJUnit(t *testing.T) {
	doc := parseJUnit(t, handReport())
	require.Equal(t, 6, doc.Tests)
	require.Equal(t, 1, doc.Failures)
	require.Equal(t, 3, doc.Errors)
	require.Equal(t, 1, doc.Skipped)
	require.Len(t, doc.Suites, 1)
	s := doc.Suites[0]
	require.Equal(t, "ci", s.Name)
	require.Len(t, s.Cases, 6)
	require.Equal(t, [4]int{6, 1, 3, 1}, [4]int{s.Tests, s.Failures, s.Errors, s.Skipped})

	var failures, errors, skipped int
	for _, c := range s.Cases {
		if c.Failure != nil {
			failures++
			require.Equal(t, "leakgate.live", c.Classname)
			require.Equal(t, "quote", c.Name)
			require.Equal(t, "1.400", c.Time)
			require.Equal(t, "leak", c.Failure.Type)
			require.Equal(t, "leak: goroutines delta +10 (delta<=0), grows steadily, tail +5; "+
				"fds delta +10 (delta<=0), grows steadily, tail +5; 2 goroutines proven leaked (blocked forever)", c.Failure.Message)
			require.Contains(t, c.Failure.Text, "TAIL")
			require.Contains(t, c.Failure.Text, "note: threads, rss: process-wide")
			require.Contains(t, c.Failure.Text, "   !! 2 × leaked: blocked forever")
			require.Contains(t, c.Failure.Text, "10 × [chan receive] main.leak, created by main.run")
			require.Contains(t, c.Failure.Text, "main.leak(0xc000012345)")
			require.Contains(t, c.Failure.Text, "socket tcp 127.0.0.1:41234->127.0.0.1:8080 ESTABLISHED")
		}
		if c.Error != nil {
			errors++
			require.NotEmpty(t, c.Error.Message)
		}
		if c.Skipped != nil {
			skipped++
			require.Equal(t, "polygon", c.Name)
			// Escaped in the file, the same text once parsed, except for
			// the escape characters XML cannot hold.
			require.Contains(t, c.Skipped.Message, `<script>alert("x")</script> & see https://evil.example/?a=1&b=2 ]]>`)
			require.Contains(t, c.Skipped.Message, "\uFFFD[31mred")
		}
	}
	require.Equal(t, [3]int{1, 3, 1}, [3]int{failures, errors, skipped})
}

func TestWriteJUnitRealRun(t *testing.T) {
	doc := parseJUnit(t, realReport(t))
	require.Equal(t, [4]int{3, 2, 0, 1}, [4]int{doc.Tests, doc.Failures, doc.Errors, doc.Skipped})
	for _, c := range doc.Suites[0].Cases {
		if c.Failure == nil {
			continue
		}
		require.Regexp(t, `goroutines tail \+\d+ \(tail<=0\), grows`, c.Failure.Message)
		require.NotRegexp(t, `\(tail<=0\)[^;]*, tail `, c.Failure.Message, "the tail is not named twice")
		require.Contains(t, c.Failure.Text, "created by")
		require.Contains(t, c.Failure.Text, "report_test.realResult")
	}
}

func TestWriteJUnitCDATA(t *testing.T) {
	r := handReport()
	r.Cases[3].Log = "a ]]> b <![CDATA[ c"
	doc := parseJUnit(t, r)
	for _, c := range doc.Suites[0].Cases {
		if c.Name == "worker" {
			require.Contains(t, c.Error.Text, "a ]]> b <![CDATA[ c")
		}
	}
}
