package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNonFiniteFlags: NaN and infinities are refused in every numeric
// flag, naming the flag, before anything runs.
func TestNonFiniteFlags(t *testing.T) {
	f := newFFE(t, modeSandbox)
	f.setDate("2016-03-01")
	csv := filepath.Join("testdata", "aapl_2016_2017.csv")
	tests := []struct {
		name string
		args []string
		flag string
	}{
		{name: "run-agent threshold NaN", args: []string{"run-agent", "--watchlist", "BTC-USD", "--max-cycles", "1", "--threshold", "NaN"}, flag: "--threshold"},
		{name: "run-agent threshold nan", args: []string{"run-agent", "--watchlist", "BTC-USD", "--max-cycles", "1", "--threshold=nan"}, flag: "--threshold"},
		{name: "backtest threshold", args: []string{"backtest", "AAPL", "--csv", csv, "--threshold", "NaN"}, flag: "--threshold"},
		{name: "backtest capital", args: []string{"backtest", "AAPL", "--csv", csv, "--capital", "NaN"}, flag: "--capital"},
		{name: "backtest capital inf", args: []string{"backtest", "AAPL", "--csv", csv, "--capital", "+Inf"}, flag: "--capital"},
		{name: "backtest fee", args: []string{"backtest", "AAPL", "--csv", csv, "--fee-bps", "NaN"}, flag: "--fee-bps"},
		{name: "backtest slippage", args: []string{"backtest", "AAPL", "--csv", csv, "--slippage-bps", "Inf"}, flag: "--slippage-bps"},
		{name: "walk-forward capital", args: []string{"walk-forward", "AAPL", "--csv", csv, "--capital", "-Inf"}, flag: "--capital"},
		{name: "monte-carlo ruin", args: []string{"monte-carlo", "AAPL", "--csv", csv, "--ruin", "NaN"}, flag: "--ruin"},
		{name: "portfolio weights", args: []string{"portfolio-backtest", "--symbols", "AAPL,SPY", "--weights", "NaN,0.5"}, flag: "--weights"},
		{name: "portfolio fee", args: []string{"portfolio-backtest", "--symbols", "AAPL,SPY", "--fee-bps", "NaN"}, flag: "--fee-bps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := f.fail(ExitUsage, tt.args...)
			require.Contains(t, msg, tt.flag)
		})
	}
}

// TestThresholdZero: an explicit --threshold 0 means what the help says.
func TestThresholdZero(t *testing.T) {
	// run-agent: 0 trades every BUY and SELL, whatever the configured
	// threshold.
	f := newFFE(t, modeSandbox).with("FFE_AGENT_CONFIDENCE_THRESHOLD", "1")
	f.setDate("2016-03-01")
	var rep agentDoc
	f.json(&rep, "run-agent", "--watchlist", "BTC-USD", "--max-cycles", "1", "--threshold", "0")
	require.Equal(t, "BUY", rep.Cycles[0].Results[0].Action)
	require.Equal(t, 1, rep.Executions, "--threshold 0 trades every signal")

	// Without the flag the configured threshold (1) applies.
	g := newFFE(t, modeSandbox).with("FFE_AGENT_CONFIDENCE_THRESHOLD", "1")
	g.setDate("2016-03-01")
	g.json(&rep, "run-agent", "--watchlist", "BTC-USD", "--max-cycles", "1")
	require.Equal(t, 0, rep.Executions)

	// backtest: the help says (0, 1]; 0 is refused, not replaced.
	msg := f.fail(ExitUsage, "backtest", "AAPL", "--csv", filepath.Join("testdata", "aapl_2016_2017.csv"), "--threshold", "0")
	require.Contains(t, msg, "--threshold")
}

// TestJSONErrors: with --json an error is one JSON document on stderr
// with the message and the exit code.
func TestJSONErrors(t *testing.T) {
	f := newFFE(t, modeSandbox)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantMsg  string
	}{
		{name: "unknown command", args: []string{"nope", "--json"}, wantCode: ExitUsage, wantMsg: `unknown command "nope"`},
		{name: "unknown flag", args: []string{"--json", "history", "--nope"}, wantCode: ExitUsage, wantMsg: "unknown flag: --nope"},
		{name: "bad flag value", args: []string{"history", "--limit", "0", "--json"}, wantCode: ExitUsage, wantMsg: "--limit 0"},
		{name: "failure", args: []string{"backtest", "AAPL", "--csv", filepath.Join("testdata", "aapl_bad_zero.csv"), "--json"}, wantCode: ExitFailure, wantMsg: "failed validation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run(tt.args...)
			require.Equal(t, tt.wantCode, r.code, r)
			require.Empty(t, r.stdout)
			var doc struct {
				Error    string `json:"error"`
				ExitCode int    `json:"exit_code"`
			}
			dec := json.NewDecoder(strings.NewReader(r.stderr))
			require.NoError(t, dec.Decode(&doc), r.stderr)
			require.False(t, dec.More(), "one JSON document: %s", r.stderr)
			require.Contains(t, doc.Error, tt.wantMsg)
			require.Equal(t, tt.wantCode, doc.ExitCode)
		})
	}
}
