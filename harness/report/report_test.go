package report_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/harness/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func cases(statuses ...report.Status) *report.Report {
	r := &report.Report{Schema: report.Schema}
	for i, s := range statuses {
		r.Cases = append(r.Cases, report.Case{Scenario: string(rune('a' + i)), Mode: "mock", Status: s})
	}
	return r
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		give []report.Status
		want int
	}{
		{"empty", nil, report.ExitPass},
		{"pass", []report.Status{report.StatusPass, report.StatusPass}, report.ExitPass},
		{"pass and skipped", []report.Status{report.StatusPass, report.StatusSkipped}, report.ExitPass},
		{"only skipped", []report.Status{report.StatusSkipped}, report.ExitPass},
		{"leak", []report.Status{report.StatusPass, report.StatusLeak}, report.ExitLeak},
		{"leak wins over error", []report.Status{report.StatusError, report.StatusLeak, report.StatusCancelled}, report.ExitLeak},
		{"error", []report.Status{report.StatusPass, report.StatusError}, report.ExitError},
		{"cancelled", []report.Status{report.StatusCancelled, report.StatusSkipped}, report.ExitError},
		{"unknown status", []report.Status{report.StatusPass, "exploded"}, report.ExitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, cases(tt.give...).ExitCode())
		})
	}
}

func TestCounts(t *testing.T) {
	r := cases(report.StatusPass, report.StatusLeak, report.StatusPass, report.StatusSkipped)
	require.Equal(t, map[report.Status]int{report.StatusPass: 2, report.StatusLeak: 1, report.StatusSkipped: 1}, r.Counts())
}

func TestSort(t *testing.T) {
	r := &report.Report{Cases: []report.Case{
		{Scenario: "b", Mode: "mock", Status: report.StatusLeak},
		{Scenario: "a", Mode: "mock", Status: report.StatusPass},
		{Scenario: "b", Mode: "live", Status: report.StatusPass},
		{Scenario: "a", Mode: "live", Status: report.StatusSkipped},
	}}
	r.Sort()
	var got []string
	for _, c := range r.Cases {
		got = append(got, c.ID())
	}
	require.Equal(t, []string{"a [live]", "a [mock]", "b [live]", "b [mock]"}, got)
}

func jsonOf(t *testing.T, r *report.Report) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, r.WriteJSON(&b))
	return b.String()
}

func TestReadReport(t *testing.T) {
	want := handReport()
	got, err := report.Read(strings.NewReader(jsonOf(t, want)))
	require.NoError(t, err)
	require.Equal(t, jsonOf(t, want), jsonOf(t, got))
	// NaN points of the heap series survive as NaN (null in JSON).
	heap, ok := got.Cases[0].Result.Metric(harness.MetricHeap)
	require.True(t, ok)
	require.True(t, math.IsNaN(heap.Series[1]))
}

func TestReadResult(t *testing.T) {
	res := realResult(t)
	var b bytes.Buffer
	require.NoError(t, res.WriteJSON(&b))
	got, err := report.Read(&b)
	require.NoError(t, err)
	require.Equal(t, report.Schema, got.Schema)
	require.Len(t, got.Cases, 1)
	c := got.Cases[0]
	require.Equal(t, res.Scenario, c.Scenario)
	require.Equal(t, "", c.Mode)
	require.Equal(t, res.Scenario, c.ID())
	require.Equal(t, report.StatusLeak, c.Status)
	require.Equal(t, report.ExitLeak, got.ExitCode())
	require.Equal(t, res.Started.UTC(), got.Started.UTC())
	require.NotNil(t, c.Result)
	require.Len(t, c.Result.Metrics, len(res.Metrics))
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name, give, want string
	}{
		{"empty", ``, "malformed JSON"},
		{"malformed", `{"schema": "leakgate.report/v1", "cases": [}`, "malformed JSON: line 1, column"},
		{"not an object", `[1, 2]`, "malformed JSON"},
		{"no schema", `{"cases": []}`, `no "schema" field`},
		{"unknown schema", `{"schema": "leakgate.report/v9"}`, `unknown schema "leakgate.report/v9"`},
		{"wrong type", `{"schema": "leakgate.report/v1", "cases": [{"scenario": 3}]}`, "leakgate.report/v1: line 1"},
		{"trailing data", `{"schema": "leakgate.report/v1"} {}`, "after top-level value"},
		{"no scenario", `{"schema": "leakgate.report/v1", "cases": [{"mode": "mock"}]}`, "case 0 has no scenario"},
		{"bad result", `{"schema": "leakgate.result/v1", "metrics": {}}`, "leakgate.result/v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := report.Read(strings.NewReader(tt.give))
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestMerge(t *testing.T) {
	whole := handReport()
	whole.Sort()
	var shards []*report.Report
	for i := range 3 {
		s := &report.Report{
			Schema: report.Schema, Suite: "ci", Shards: []string{[]string{"2/3", "1/3", "3/3"}[i]},
			Started: t0.Add(time.Duration(i) * time.Second), DurationSeconds: 10 + float64(i),
		}
		for j, c := range handReport().Cases {
			if j%3 == i {
				s.Cases = append(s.Cases, c)
			}
		}
		shards = append(shards, s)
	}
	got, err := report.Merge(shards[2], nil, shards[0], shards[1])
	require.NoError(t, err)
	require.Equal(t, "ci", got.Suite)
	require.Equal(t, t0, got.Started)
	require.InDelta(t, 14, got.DurationSeconds, 1e-9, "from the first start to the last end")
	require.Equal(t, []string{"1/3", "2/3", "3/3"}, got.Shards)
	require.Equal(t, whole.ExitCode(), got.ExitCode())
	require.Equal(t, whole.Counts(), got.Counts())
	gotJSON, err := json.Marshal(got.Cases)
	require.NoError(t, err)
	wantJSON, err := json.Marshal(whole.Cases)
	require.NoError(t, err)
	require.JSONEq(t, string(wantJSON), string(gotJSON))
}

func TestMergeErrors(t *testing.T) {
	a, b := handReport(), handReport()
	b.Cases = b.Cases[1:2]
	_, err := report.Merge(a, b)
	require.ErrorContains(t, err, `case "quote [live]" is in inputs 1 and 2`)

	_, err = report.Merge()
	require.ErrorContains(t, err, "no reports")

	_, err = report.Merge(&report.Report{Schema: "leakgate.report/v0"})
	require.ErrorContains(t, err, `schema "leakgate.report/v0"`)
}

func TestMergeSuites(t *testing.T) {
	got, err := report.Merge(&report.Report{Suite: "soak"}, &report.Report{Suite: "ci"}, &report.Report{Suite: "ci"})
	require.NoError(t, err)
	require.Equal(t, "ci+soak", got.Suite)
	require.NotNil(t, got.Cases)
}

func TestWriteText(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, handReport().WriteText(&b))
	golden(t, "report.txt.golden", b.Bytes())
}

func TestWriteTextSingleResult(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, report.FromResult(handResult("quote", true)).WriteText(&b))
	golden(t, "result.txt.golden", b.Bytes())
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	require.Equal(t, string(want), string(got))
}

func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	paths, err := handReport().WriteFiles(dir)
	require.NoError(t, err)
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	require.Equal(t, []string{"leakgate.txt", "leakgate.json", "leakgate.junit.xml", "leakgate.html"}, names)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 4, "no temporary file is left")
	for _, e := range entries {
		info, err := e.Info()
		require.NoError(t, err)
		require.NotZero(t, info.Size(), e.Name())
	}
	f, err := os.Open(filepath.Join(dir, "leakgate.json"))
	require.NoError(t, err)
	defer f.Close()
	back, err := report.Read(f)
	require.NoError(t, err)
	require.Len(t, back.Cases, len(handReport().Cases))

	paths, err = handReport().WriteFiles(dir, report.FormatJUnit, report.FormatJUnit)
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(dir, "leakgate.junit.xml")}, paths)
}

func TestWriteFormatErrors(t *testing.T) {
	_, err := handReport().WriteFiles(t.TempDir(), "text", "pdf")
	require.ErrorIs(t, err, report.ErrFormat)
	require.ErrorContains(t, err, `"pdf"`)
	require.ErrorIs(t, handReport().Write(&bytes.Buffer{}, "yaml"), report.ErrFormat)
	_, err = handReport().WriteFiles(filepath.Join(t.TempDir(), "missing"), "text")
	require.ErrorContains(t, err, "leakgate.txt")
}

func TestWriteTextTailShapeNotes(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, handReport().WriteText(&b))
	out := b.String()
	tests := []struct {
		name string
		want string // a line of the report, as a regular expression
	}{
		{"columns", `(?m)^  METRIC +BASELINE → FINAL +DELTA +TAIL +SLOPE/IT +GROWTH +THRESHOLD +VERDICT$`},
		{"steady growth", `(?m)^  goroutines +4 → 14 +\+10 +\+5 +\+1\.00 +grows steadily +delta<=0 +✗ delta \+10$`},
		{"levels off", `(?m)^  heap +4\.0MiB → 4\.3MiB +\+300\.0KiB +0B +\+16\.9KiB +levels off +slope<64KiB +✓$`},
		{"flat", `(?m)^  rss +12\.0MiB → 12\.6MiB +\+640\.0KiB +\+320\.0KiB +\+64\.0KiB +flat +delta<50MB +✓$`},
		{"not attributed", `(?m)^  threads +7 → 8 +\+1 +0 +0 +flat +- \(not attributed\)$`},
		{"proven leak", `(?m)^   !! 2 × leaked: blocked forever on unreachable synchronisation: \[chan send\] main\.stuck`},
		{"own note", `(?m)^  note: goroutines: this run's goroutines only: labelled leakgate\.run=quote-live$`},
		{"process-wide note", `(?m)^  note: threads, rss: process-wide: not attributable`},
		{"gc-released", `(?m)^      1 × released only by a forced collection: `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Regexp(t, tt.want, out)
		})
	}
	// The notes belong to the leaking case alone.
	require.Equal(t, 2, strings.Count(out, "\n  note: "))
	// A table stays readable on a 120-column terminal.
	for line := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "  note:") && !strings.HasPrefix(line, "   ") &&
			!strings.HasPrefix(line, "  skipped:") && !strings.HasPrefix(line, "  error:") {
			require.LessOrEqual(t, utf8.RuneCountInString(line), 120, line)
		}
	}
}

func TestWriteTextOldResult(t *testing.T) {
	// A result written before tails and shapes existed reads as unknown
	// ("-"), not as zero growth.
	res := handResult("quote", false)
	var b bytes.Buffer
	require.NoError(t, res.WriteJSON(&b))
	old := regexp.MustCompile(`\s*"(tail|tail_slope|shape)": [^,\n]*,`).ReplaceAllString(b.String(), "")
	require.NotContains(t, old, `"tail"`)
	r, err := report.Read(strings.NewReader(old))
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, r.WriteText(&out))
	require.Regexp(t, `(?m)^  goroutines +4 → 4 +0 +- +0 +- +delta<=0 +✓$`, out.String())
}

func TestReadMergeKeepTailShapeNotes(t *testing.T) {
	back, err := report.Read(strings.NewReader(jsonOf(t, handReport())))
	require.NoError(t, err)
	merged, err := report.Merge(back, &report.Report{Schema: report.Schema, Suite: "ci"})
	require.NoError(t, err)
	want := handReport().Cases[1].Result
	require.Equal(t, harness.StatusLeak, want.Status)
	for name, r := range map[string]*report.Report{"read": back, "merged": merged} {
		t.Run(name, func(t *testing.T) {
			var got *harness.Result
			for _, c := range r.Cases {
				if c.ID() == "quote [live]" {
					got = c.Result
				}
			}
			require.NotNil(t, got)
			for _, wm := range want.Metrics {
				gm, ok := got.Metric(wm.Name)
				require.True(t, ok, wm.Name)
				require.Equal(t, wm.Tail, gm.Tail, wm.Name)
				require.Equal(t, wm.TailSlope, gm.TailSlope, wm.Name)
				require.Equal(t, wm.Shape, gm.Shape, wm.Name)
				require.Equal(t, wm.Note, gm.Note, wm.Name)
			}
			g, _ := got.Metric(harness.MetricGoroutines)
			require.Equal(t, harness.ShapeGrows, g.Shape)
			require.Equal(t, want.Findings, got.Findings)
			require.True(t, got.Findings[1].Leaked)
			require.Equal(t, harness.FindingGCReleased, got.Findings[3].Kind)
		})
	}
}
