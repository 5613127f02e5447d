package cli

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/harness/report"
)

func TestJudge(t *testing.T) {
	metrics := func(fails map[string]int) *harness.Result {
		res := &harness.Result{}
		for _, n := range []string{"goroutines", "fds", "heap"} {
			m := harness.MetricResult{Name: n, Verdict: harness.VerdictPass}
			if k, ok := fails[n]; ok {
				m.Verdict, m.FirstFail = harness.VerdictFail, k
			}
			res.Metrics = append(res.Metrics, m)
		}
		return res
	}
	tests := []struct {
		name      string
		c         report.Case
		want      string
		caughtBy  []string
		firstFail int
	}{
		{name: "caught", c: report.Case{Status: report.StatusLeak, Result: metrics(map[string]int{"fds": 3, "goroutines": 1})},
			want: OutcomeCaught, caughtBy: []string{"goroutines", "fds"}, firstFail: 3},
		{name: "missed", c: report.Case{Status: report.StatusPass, Result: metrics(nil)}, want: OutcomeMissed},
		{name: "wrong metric", c: report.Case{Status: report.StatusLeak, Result: metrics(map[string]int{"heap": 7})},
			want: OutcomeWrongMetric, caughtBy: []string{"heap"}},
		{name: "error", c: report.Case{Status: report.StatusError, Reason: "worker timed out\nmore"}, want: OutcomeError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := judge(Detection{Expected: []string{"fds"}}, tt.c)
			require.Equal(t, tt.want, d.Outcome)
			require.Equal(t, tt.caughtBy, d.CaughtBy)
			require.Equal(t, tt.firstFail, d.FirstFail)
		})
	}
}

func TestSelftestMatrixText(t *testing.T) {
	s := &Selftest{Iterations: 50, Warmup: 5, Passed: false, Matrix: []Detection{
		{Fault: "db-rows-not-closed", Scenario: "cmd/history", Mode: "mock", Outcome: OutcomeCaught, Expected: []string{"fds"}, CaughtBy: []string{"fds"}, FirstFail: 1},
		{Fault: "db-rows-not-closed", Scenario: "cmd/history", Mode: "live", Outcome: OutcomeMissed, Expected: []string{"fds"}},
		{Fault: "provider-unclosed-body", Scenario: "provider/yahoo", Mode: "mock", Outcome: OutcomeNA, Reason: "no sockets"},
	}, Clean: []CleanRun{{Scenario: "cmd/history", Mode: "mock", Run: 1, Status: "leak", Failing: "heap"}}}
	var text, md strings.Builder
	require.NoError(t, s.writeText(&text))
	require.Contains(t, text.String(), "db-rows-not-closed")
	require.Regexp(t, `cmd/history\s+fds\s+fds @1\s+MISSED`, text.String())
	require.Contains(t, text.String(), "clean run 1: cmd/history [mock]: LEAK (heap)")
	require.Contains(t, text.String(), "leakgate selftest: FAIL")
	require.NoError(t, s.writeMarkdown(&md))
	require.Contains(t, md.String(), "| `db-rows-not-closed` | `cmd/history` | fds | fds @1 | MISSED |")
	require.Contains(t, md.String(), "| `provider-unclosed-body` | `provider/yahoo` |  | n/a | n/a |")
}

func TestSelftestNeedsTheLeakinjectBuild(t *testing.T) {
	r := leakgate(t, "selftest")
	require.Equal(t, ExitUsage, r.code, r)
	require.Contains(t, r.stderr, "build it with -tags leakinject")
}
