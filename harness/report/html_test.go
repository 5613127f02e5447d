package report_test

import (
	"bytes"
	"html/template"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness/report"
)

func htmlOf(t *testing.T, r *report.Report) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, r.WriteHTML(&b))
	return b.String()
}

// references finds what would make a browser fetch something: attributes
// holding a URL, CSS url() and @import.
var references = regexp.MustCompile(`(?i)(\b(src|href|action|poster|data|srcset)\s*=\s*["']?\s*(https?:|//)|url\(|@import)`)

func TestWriteHTMLSelfContained(t *testing.T) {
	page := htmlOf(t, handReport())
	require.True(t, strings.HasPrefix(page, "<!DOCTYPE html>"))
	require.Empty(t, references.FindAllString(page, -1))
	require.NotContains(t, page, "<script")
	// The only URL is the one in the user's text, escaped.
	escaped := template.HTMLEscapeString(userText)
	require.True(t, strings.Contains(page, escaped))
	rest := strings.ReplaceAll(page, escaped, "")
	require.False(t, strings.Contains(rest, "http://"))
	require.False(t, strings.Contains(rest, "https://"))
	require.False(t, strings.Contains(page, `<script>alert("x")</script>`))
}

func TestWriteHTMLCharts(t *testing.T) {
	tests := []struct {
		name string
		give *report.Report
		want int
	}{
		// Measured cases: pass, leak and the errored one; six metrics each.
		{"hand", handReport(), 18},
		{"real", realReport(t), chartsOf(realReport(t))},
		{"big", bigReport(12), 12 * 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, chartsOf(tt.give))
			page := htmlOf(t, tt.give)
			require.Equal(t, tt.want, strings.Count(page, `<figure class="chart"`))
			require.Equal(t, tt.want, strings.Count(page, `<svg class="chart-svg"`))
			require.Equal(t, tt.want, strings.Count(page, `</svg>`))
			require.NotContains(t, page, "no chart:")
		})
	}
}

func TestWriteHTMLOrder(t *testing.T) {
	page := htmlOf(t, handReport())
	var order []string
	for _, m := range regexp.MustCompile(`<section class="case s-(\w+)"`).FindAllStringSubmatch(page, -1) {
		order = append(order, m[1])
	}
	require.Equal(t, []string{"leak", "error", "error", "cancelled", "pass", "skipped"}, order)
	// Failed cases are open; findings are in <details>.
	require.True(t, strings.Contains(page, "10 × [chan receive] main.leak, created by main.run"))
	require.True(t, strings.Contains(page, "2 findings for goroutines"))
	require.True(t, strings.Contains(page, "socket tcp 127.0.0.1:41234-&gt;127.0.0.1:8080 ESTABLISHED"))
}

func TestWriteHTMLSize(t *testing.T) {
	page := htmlOf(t, bigReport(70))
	t.Logf("70 cases × 6 metrics of 50 iterations: %d bytes", len(page))
	require.Less(t, len(page), 4<<20)
}

func TestWriteHTMLTailShapeNotes(t *testing.T) {
	page := htmlOf(t, handReport())
	// html/template writes "+" as "&#43;".
	tests := []struct {
		name string
		want string // a regular expression the page matches
	}{
		{"tail column", `<th title="growth over the last half of the run">tail</th><th>max</th><th>slope/it</th><th>growth</th>`},
		{"grows", `<tr data-metric="goroutines"><td>goroutines</td><td class="num">4 → 14</td><td class="num">&#43;10</td><td class="num tail">&#43;5</td>.*<td class="growth grows">grows steadily</td>`},
		{"levels off", `<tr data-metric="heap">.*<td class="num tail">0B</td>.*<td class="growth levels">levels off</td>`},
		{"flat", `<tr data-metric="rss">.*<td class="num tail">&#43;320\.0KiB</td>.*<td class="growth flat">flat</td>`},
		{"not attributed", `<tr data-metric="threads">.*<td class="na">- \(not attributed\)</td>`},
		{"process-wide note", `<li class="note"><strong>note:</strong> threads, rss: process-wide: not attributable to this run`},
		{"own note", `<li class="note"><strong>note:</strong> goroutines: this run&#39;s goroutines only`},
		{"proven leak", `<div class="finding leaked"><span class="badge b-proven">proven leak</span> <strong>2 × leaked: blocked forever on unreachable synchronisation: \[chan send\] main\.stuck`},
		{"proven leak in the summary", `<strong>quote \[live\]</strong> <span class="meta">[^<]*</span> <span class="badge b-proven">2 proven leaked</span>`},
		{"gc-released", `<div class="finding"><strong>1 × released only by a forced collection: [^<]*</strong> <span class="na">gc-released</span>`},
		{"caption", `<figcaption>goroutines: 4 → 14 · limit 4 \(delta&lt;=0\) · <span class="legend-tail"></span> tail &#43;5, <span class="grows">grows steadily</span></figcaption>`},
		{"tail window", `<g class="tail-window"><title>tail window: iterations 6–10, the last half the verdict judged</title><rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" style="fill:rgba\(245,158,11,0\.14\);stroke:none"/><line `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Regexp(t, tt.want, page)
		})
	}
	// Every chart marks its tail window, and no probe line is left.
	require.Equal(t, chartsOf(handReport()), strings.Count(page, `<g class="tail-window">`))
	require.NotContains(t, page, "rgba(1,2,3,")
	require.NotContains(t, page, "rgba(3,2,1,")
	require.Equal(t, 2, strings.Count(page, `<li class="note">`))
}
