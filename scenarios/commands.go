package scenarios

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leakgate/leakgate/engine/cli"
	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/sandbox"
)

// cmdTestdata holds the CSV files of the bad-CSV error paths (see
// testdata/SOURCES.md). Setup writes them to the scenario's directory, so
// the scenarios do not depend on the working directory.
//
//go:embed testdata/*.csv
var cmdTestdata embed.FS

// Sandbox dates of the trading scenarios. With no position, ffe analyze
// BTC-USD decides BUY as of cmdBuyDate; holding the position it bought,
// it decides SELL as of cmdSellDate, which closes the trade. cmd/execute
// checks both decisions on every iteration.
const (
	cmdBuyDate  = "2016-03-01"
	cmdSellDate = "2018-01-20"
)

// cmdDirVar stands for the scenario's directory in command lines and
// environment values.
const cmdDirVar = "{dir}"

// cmdSpec is one ffe command scenario: what Setup prepares and what every
// iteration replays in process through cli.Run.
type cmdSpec struct {
	name string // without the "cmd/" prefix
	desc string
	// lines are replayed one per iteration, in turn; cmdDirVar stands for
	// the scenario's directory. Ignored when iterate is set.
	lines [][]string
	// code is the exit code every line must end with.
	code int
	// stderr, when set, is text the standard error of every line must
	// contain: proof that the line failed for the intended reason.
	stderr string
	// env adds to the environment of every command.
	env map[string]string
	// date is the sandbox date of the run; "" serves everything recorded.
	date string
	// faults are injected after prepare, for the whole run.
	faults sandbox.Faults
	// timeout, when set, interrupts every line after this long.
	timeout time.Duration
	// prepare runs in Setup, before the faults, to build state the
	// iterations read: a position, closed trades.
	prepare func(ctx context.Context, s *cmdSession) error
	// iterate, when set, is the iteration instead of lines.
	iterate func(ctx context.Context, s *cmdSession, i int) error
}

// commandScenarios lists the ffe command scenarios: every command on its
// success path and on at least one error path, in both modes.
func commandScenarios() []Scenario {
	specs := cmdSpecs()
	out := make([]Scenario, 0, len(specs))
	for _, c := range specs {
		out = append(out, c.scenario())
	}
	return out
}

// cmdSpecs are the command scenarios' definitions.
func cmdSpecs() []cmdSpec {
	fail5xx := sandbox.Faults{Seed: 1, ServerError: sandbox.Chance{P: 1}}
	// One provider per asset class, so that a 5xx fails after that
	// provider's retries instead of those of every fallback.
	oneRoute := map[string]string{"FFE_ROUTING_EQUITY": "yahoo", "FFE_ROUTING_CRYPTO": "coinbase"}
	return []cmdSpec{
		{
			name:  "analyze",
			desc:  "ffe analyze on AAPL, BTC-USD, EUR_USD and SPY in turn: exit 0",
			lines: [][]string{{"analyze", "AAPL"}, {"analyze", "BTC-USD"}, {"analyze", "EUR_USD"}, {"analyze", "SPY"}},
			code:  cli.ExitOK,
		},
		{
			name:   "analyze/unknown-symbol",
			desc:   "ffe analyze MSFT, which no provider serves: exit 2",
			lines:  [][]string{{"analyze", "MSFT"}},
			code:   cli.ExitUsage,
			stderr: "no market data for MSFT",
		},
		{
			name:   "analyze/provider-5xx",
			desc:   "ffe analyze AAPL while every provider answers 5xx (retries, then failure): exit 1",
			lines:  [][]string{{"analyze", "AAPL"}},
			code:   cli.ExitFailure,
			stderr: "upstream error",
			env:    oneRoute,
			faults: fail5xx,
		},
		{
			name:    "analyze/interrupted",
			desc:    "ffe analyze AAPL interrupted after 20ms while the providers delay their answers by 10s: exit 1",
			lines:   [][]string{{"analyze", "AAPL"}},
			code:    cli.ExitFailure,
			stderr:  "interrupted",
			faults:  sandbox.Faults{Latency: 10 * time.Second},
			timeout: 20 * time.Millisecond,
		},
		{
			name: "analyze/sentiment-fails-midway",
			desc: "ffe analyze " + scanSymbol + " with the Reddit sentiment vote on, scanning " +
				strings.Join(scanSubreddits, " and ") + ", under the faults of reddit/scan-fails-midway: " +
				"the scan fails after its first page, analyze warns and decides without it: exit 0",
			env: map[string]string{"FFE_SENTIMENT_ENABLED": "true",
				"FFE_SENTIMENT_SUBREDDITS": strings.Join(scanSubreddits, ","), "FFE_SENTIMENT_LIMIT": strconv.Itoa(scanLimit)},
			iterate: func(ctx context.Context, s *cmdSession, _ int) error {
				seed, err := midwaySeed()
				if err != nil {
					return err
				}
				return scanFailsMidway(ctx, s.market, seed, s.analyzeSentiment)
			},
		},
		{
			name:    "history",
			desc:    "ffe history --limit 1 over a stored decision (a page as full as the limit): exit 0",
			lines:   [][]string{{"history", "--limit", "1"}},
			code:    cli.ExitOK,
			prepare: func(ctx context.Context, s *cmdSession) error { return s.run(ctx, cli.ExitOK, "analyze", "AAPL") },
		},
		{
			name:   "history/bad-flag",
			desc:   "ffe history --since yesterday-ish, a value the engine refuses: exit 2",
			lines:  [][]string{{"history", "--since", "yesterday-ish"}},
			code:   cli.ExitUsage,
			stderr: "--since",
		},
		{
			name:    "balance",
			desc:    "ffe balance with an open BTC-USD position valued at the quote: exit 0",
			lines:   [][]string{{"balance"}},
			code:    cli.ExitOK,
			date:    cmdBuyDate,
			prepare: func(ctx context.Context, s *cmdSession) error { return s.trade(ctx, cmdBuyDate, "BUY") },
		},
		{
			name:    "balance/provider-5xx",
			desc:    "ffe balance with an open BTC-USD position while the quote answers 5xx: exit 1",
			lines:   [][]string{{"balance"}},
			code:    cli.ExitFailure,
			stderr:  "upstream error",
			env:     oneRoute,
			date:    cmdBuyDate,
			faults:  fail5xx,
			prepare: func(ctx context.Context, s *cmdSession) error { return s.trade(ctx, cmdBuyDate, "BUY") },
		},
		{
			name: "execute",
			desc: "ffe analyze BTC-USD --json, then ffe execute of its decision: a paper BUY as of " + cmdBuyDate +
				" and a SELL that closes the trade as of " + cmdSellDate + ", in turn",
			iterate: func(ctx context.Context, s *cmdSession, i int) error {
				if i%2 == 0 {
					return s.trade(ctx, cmdBuyDate, "BUY")
				}
				return s.trade(ctx, cmdSellDate, "SELL")
			},
		},
		{
			name: "execute/refused",
			desc: "ffe analyze BTC-USD --json (a BUY), then ffe execute of it with risk.max_position_share 5%: " +
				"refused by the risk limit, exit 1",
			date: cmdBuyDate,
			iterate: func(ctx context.Context, s *cmdSession, _ int) error {
				d, err := s.decide(ctx, "BTC-USD", "BUY")
				if err != nil {
					return err
				}
				s.overlay = map[string]string{"FFE_RISK_MAX_POSITION_SHARE": "0.05"}
				defer func() { s.overlay = nil }()
				return s.expect(ctx, cli.ExitFailure, "risk limit", "execute", d.ID)
			},
		},
		{
			name:   "execute/unknown-id",
			desc:   "ffe execute of a decision id that does not exist: exit 2",
			lines:  [][]string{{"execute", "aaaaaaaaaaaa"}},
			code:   cli.ExitUsage,
			stderr: "aaaaaaaaaaaa",
		},
		{
			name: "run-agent",
			desc: "ffe run-agent --watchlist BTC-USD,SPY --max-cycles 1 (equities from polygon, then yahoo): " +
				"one cycle that analyzes both and may trade: exit 0",
			lines: [][]string{{"run-agent", "--watchlist", "BTC-USD,SPY", "--max-cycles", "1", "--interval", "1ms"}},
			code:  cli.ExitOK,
			env:   map[string]string{"FFE_ROUTING_EQUITY": "polygon,yahoo"},
		},
		{
			name:   "run-agent/provider-5xx",
			desc:   "ffe run-agent --watchlist SPY --max-cycles 1 while the provider answers 5xx: the cycle logs the failure, exit 0",
			lines:  [][]string{{"run-agent", "--watchlist", "SPY", "--max-cycles", "1", "--interval", "1ms"}},
			code:   cli.ExitOK,
			stderr: "analyze failed",
			env:    oneRoute,
			faults: fail5xx,
		},
		{
			name:    "learning-report",
			desc:    "ffe learning-report over one closed BTC-USD trade: exit 0",
			lines:   [][]string{{"learning-report"}},
			code:    cli.ExitOK,
			prepare: func(ctx context.Context, s *cmdSession) error { return s.roundTrip(ctx) },
		},
		{
			name:   "learning-report/bad-data-dir",
			desc:   "ffe learning-report with a data directory that is a file: the engine fails to open, exit 1",
			lines:  [][]string{{"learning-report"}},
			code:   cli.ExitFailure,
			stderr: "not a directory",
			env:    map[string]string{"FFE_DATA_DIR": filepath.Join(cmdDirVar, "aapl_bad_zero.csv")},
		},
		{
			name:  "prune-memory",
			desc:  "ffe prune-memory --keep 1 --dry-run over two closed trades: exit 0",
			lines: [][]string{{"prune-memory", "--keep", "1", "--dry-run"}},
			code:  cli.ExitOK,
			prepare: func(ctx context.Context, s *cmdSession) error {
				if err := s.roundTrip(ctx); err != nil {
					return err
				}
				return s.roundTrip(ctx)
			},
		},
		{
			name:   "prune-memory/bad-flag",
			desc:   "ffe prune-memory --older-than soon, not a duration: exit 2",
			lines:  [][]string{{"prune-memory", "--older-than", "soon"}},
			code:   cli.ExitUsage,
			stderr: "--older-than",
		},
		{
			name:  "backtest",
			desc:  "ffe backtest AAPL over 2016-2017 on polygon's bars (yahoo's as fallback): exit 0",
			lines: [][]string{{"backtest", "AAPL", "--from", "2016-01-01", "--to", "2017-12-31"}},
			code:  cli.ExitOK,
			env:   map[string]string{"FFE_ROUTING_EQUITY": "polygon,yahoo"},
		},
		{
			name:   "backtest/bad-csv",
			desc:   "ffe backtest AAPL --csv with a zero close: validation fails, exit 1",
			lines:  [][]string{{"backtest", "AAPL", "--csv", filepath.Join(cmdDirVar, "aapl_bad_zero.csv")}},
			code:   cli.ExitFailure,
			stderr: "failed validation",
		},
		{
			name: "portfolio-backtest",
			desc: "ffe portfolio-backtest --symbols AAPL,SPY --rebalance 21 over 2016-2017 on finnhub's bars " +
				"(yahoo's as fallback): exit 0",
			lines: [][]string{{"portfolio-backtest", "--symbols", "AAPL,SPY", "--rebalance", "21",
				"--from", "2016-01-01", "--to", "2017-12-31"}},
			code: cli.ExitOK,
			env:  map[string]string{"FFE_ROUTING_EQUITY": "finnhub,yahoo"},
		},
		{
			name:   "portfolio-backtest/unknown-symbol",
			desc:   "ffe portfolio-backtest --symbols AAPL,MSFT, MSFT served by no provider: exit 2",
			lines:  [][]string{{"portfolio-backtest", "--symbols", "AAPL,MSFT"}},
			code:   cli.ExitUsage,
			stderr: "MSFT",
		},
		{
			name: "walk-forward",
			desc: "ffe walk-forward SPY over 2015-2017 on yahoo's bars (polygon's as fallback), a 1×1 grid, " +
				"126-bar train and 63-bar test windows: exit 0",
			lines: [][]string{{"walk-forward", "SPY", "--fast", "10", "--slow", "50", "--train", "126", "--test", "63",
				"--from", "2015-01-01", "--to", "2017-12-31"}},
			code: cli.ExitOK,
			env:  map[string]string{"FFE_ROUTING_EQUITY": "yahoo,polygon"},
		},
		{
			name:   "walk-forward/bad-csv",
			desc:   "ffe walk-forward AAPL --csv with two rows out of order: validation fails, exit 1",
			lines:  [][]string{{"walk-forward", "AAPL", "--csv", filepath.Join(cmdDirVar, "aapl_bad_unsorted.csv")}},
			code:   cli.ExitFailure,
			stderr: "failed validation",
		},
		{
			name: "monte-carlo",
			desc: "ffe monte-carlo AAPL --sims 50 --days 63 --seed 1 over 2016-2017 on polygon's bars " +
				"(finnhub's as fallback), the paths on every core: exit 0",
			lines: [][]string{{"monte-carlo", "AAPL", "--sims", "50", "--days", "63", "--seed", "1",
				"--from", "2016-01-01", "--to", "2017-12-31"}},
			code: cli.ExitOK,
			env:  map[string]string{"FFE_ROUTING_EQUITY": "polygon,finnhub"},
		},
		{
			name: "monte-carlo/bad-csv",
			desc: "ffe monte-carlo AAPL --csv with a missing high: parsing fails, exit 1",
			lines: [][]string{{"monte-carlo", "AAPL", "--csv", filepath.Join(cmdDirVar, "aapl_bad_missing.csv"),
				"--sims", "50", "--seed", "1"}},
			code:   cli.ExitFailure,
			stderr: "missing value",
		},
	}
}

// scenario registers c in both modes.
func (c cmdSpec) scenario() Scenario {
	return Scenario{
		Name:        "cmd/" + c.name,
		Description: c.desc,
		Modes:       slices.Clone(AllModes),
		Build:       c.build,
	}
}

// build prepares c for env's mode: Setup opens the market and writes the
// test data, every iteration replays c's command lines, Teardown closes
// the market.
func (c cmdSpec) build(env *Env) (*Run, error) {
	if env == nil || env.Dir == "" {
		return nil, errors.New("cmd/" + c.name + ": the scenario needs a directory (Env.Dir)")
	}
	if c.iterate == nil && len(c.lines) == 0 {
		return nil, errors.New("cmd/" + c.name + ": no command line to replay")
	}
	s := &cmdSession{spec: c, env: env}
	return &Run{
		Scenario: harness.Scenario{
			Name:     "cmd/" + c.name,
			Setup:    s.setup,
			Run:      s.iteration,
			Teardown: func(context.Context) error { return s.close() },
		},
		Options: clientProbes(),
	}, nil
}

// cmdSession is one run of a command scenario: the market, the ffe
// environment, and the buffers every command line writes to.
type cmdSession struct {
	spec   cmdSpec
	env    *Env
	market *Market
	lines  [][]string
	vars   map[string]string
	// overlay, when set, overrides vars for the commands run meanwhile.
	overlay map[string]string
	opts    []cli.Option

	stdin          bytes.Reader
	stdout, stderr bytes.Buffer
}

// cmdMaxKeptBuffer is the capacity above which an output buffer is
// dropped rather than reused, so that one large output does not stay
// allocated for the rest of the run.
const cmdMaxKeptBuffer = 1 << 20

// setup opens the market, writes the test data, sets the environment
// and runs the spec's preparation.
func (s *cmdSession) setup(ctx context.Context) (err error) {
	m, err := OpenMarket(s.env.Mode)
	if err != nil {
		return fmt.Errorf("cmd/%s: %w", s.spec.name, err)
	}
	s.market = m
	defer func() {
		if err != nil {
			err = errors.Join(fmt.Errorf("cmd/%s: %w", s.spec.name, err), s.close())
		}
	}()
	if err := writeCmdTestdata(s.env.Dir); err != nil {
		return err
	}
	dir := s.env.Dir
	s.vars = map[string]string{
		"HOME":            dir,
		"XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"FFE_DATA_DIR":    filepath.Join(dir, "data"),
	}
	// Every run starts with no decisions, positions or trades, even when
	// the same Run is set up again in the same directory.
	if err := os.RemoveAll(s.vars["FFE_DATA_DIR"]); err != nil {
		return fmt.Errorf("empty the data directory: %w", err)
	}
	maps.Copy(s.vars, m.Env())
	for k, v := range s.spec.env {
		s.vars[k] = strings.ReplaceAll(v, cmdDirVar, dir)
	}
	s.lines = make([][]string, len(s.spec.lines))
	for i, line := range s.spec.lines {
		s.lines[i] = make([]string, len(line))
		for j, a := range line {
			s.lines[i][j] = strings.ReplaceAll(a, cmdDirVar, dir)
		}
	}
	s.opts = []cli.Option{cli.WithEnv(s.lookup), cli.WithEngineOptions(m.EngineOptions()...)}
	if s.spec.prepare != nil {
		if err := s.spec.prepare(ctx, s); err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
	}
	if err := m.SetDate(s.spec.date); err != nil {
		return err
	}
	m.Sandbox().SetFaults(s.spec.faults)
	return nil
}

// writeCmdTestdata writes the embedded CSV files to dir.
func writeCmdTestdata(dir string) error {
	names, err := fs.Glob(cmdTestdata, "testdata/*.csv")
	if err != nil {
		return fmt.Errorf("list the test data: %w", err)
	}
	for _, name := range names {
		b, err := cmdTestdata.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read the test data: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(name)), b, 0o600); err != nil {
			return fmt.Errorf("write the test data: %w", err)
		}
	}
	return nil
}

// close closes the market. It is idempotent.
func (s *cmdSession) close() error {
	if s.market == nil {
		return nil
	}
	return s.market.Close()
}

// lookup is the environment of every command.
func (s *cmdSession) lookup(key string) (string, bool) {
	if v, ok := s.overlay[key]; ok {
		return v, true
	}
	v, ok := s.vars[key]
	return v, ok
}

// iteration replays the spec's next command line, or its own iteration,
// and then reports any request no mock answered.
func (s *cmdSession) iteration(ctx context.Context, i int) error {
	var err error
	if s.spec.iterate != nil {
		err = s.spec.iterate(ctx, s, i)
	} else {
		err = s.expect(ctx, s.spec.code, s.spec.stderr, s.lines[i%len(s.lines)]...)
	}
	if err != nil {
		return err
	}
	return s.market.Err()
}

// expect runs one command line, which must exit with code and, when
// stderr is set, print it on standard error.
func (s *cmdSession) expect(ctx context.Context, code int, stderr string, args ...string) error {
	if s.spec.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.spec.timeout)
		defer cancel()
	}
	if err := s.run(ctx, code, args...); err != nil {
		return err
	}
	if stderr != "" && !bytes.Contains(s.stderr.Bytes(), []byte(stderr)) {
		return fmt.Errorf("%s: exit %d as wanted, but stderr lacks %q: %s", s.cmdline(args), code, stderr, cmdExcerpt(s.stderr.Bytes()))
	}
	return nil
}

// run runs one command line in process, as the ffe binary does, and
// checks its exit code. An unmocked request is reported before a wrong
// exit code, since it is usually the reason.
func (s *cmdSession) run(ctx context.Context, code int, args ...string) error {
	for _, b := range []*bytes.Buffer{&s.stdout, &s.stderr} {
		if b.Cap() > cmdMaxKeptBuffer {
			*b = bytes.Buffer{}
		}
		b.Reset()
	}
	s.stdin.Reset(nil)
	got := cli.Run(ctx, args, &s.stdin, &s.stdout, &s.stderr, s.opts...)
	if err := s.market.Err(); err != nil {
		return fmt.Errorf("%s: %w", s.cmdline(args), err)
	}
	if got != code {
		return fmt.Errorf("%s: exit %d, want %d; stderr: %s", s.cmdline(args), got, code, cmdExcerpt(s.stderr.Bytes()))
	}
	return nil
}

// cmdline spells args as a command line, with the overridden
// environment.
func (s *cmdSession) cmdline(args []string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(s.overlay)) {
		fmt.Fprintf(&b, "%s=%s ", k, s.overlay[k])
	}
	b.WriteString("ffe")
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(a)
	}
	return b.String()
}

// cmdExcerptLen bounds the stderr quoted in an error.
const cmdExcerptLen = 300

// cmdExcerpt is the start of an output on one line, for an error message.
func cmdExcerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return "(empty)"
	}
	if len(s) > cmdExcerptLen {
		cut := cmdExcerptLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// cmdDecision is the part of analyze's JSON the scenarios read.
type cmdDecision struct {
	ID     string `json:"id"`
	Action string `json:"action"`
}

// decide runs ffe analyze symbol --json and returns the stored decision,
// which must be want (BUY, SELL or HOLD).
func (s *cmdSession) decide(ctx context.Context, symbol, want string) (cmdDecision, error) {
	args := []string{"analyze", symbol, "--json"}
	if err := s.run(ctx, cli.ExitOK, args...); err != nil {
		return cmdDecision{}, err
	}
	var doc struct {
		Decision cmdDecision `json:"decision"`
	}
	if err := json.Unmarshal(s.stdout.Bytes(), &doc); err != nil {
		return cmdDecision{}, fmt.Errorf("%s: decode the output: %w", s.cmdline(args), err)
	}
	if doc.Decision.ID == "" || doc.Decision.Action != want {
		return cmdDecision{}, fmt.Errorf("%s as of %s: decision %q is %s, want %s", s.cmdline(args),
			s.market.Sandbox().Date().Format(time.DateOnly), doc.Decision.ID, doc.Decision.Action, want)
	}
	return doc.Decision, nil
}

// trade analyzes BTC-USD as of day, checks that the decision is want
// (BUY or SELL), and executes it: a paper order that must fill.
func (s *cmdSession) trade(ctx context.Context, day, want string) error {
	if err := s.market.SetDate(day); err != nil {
		return err
	}
	d, err := s.decide(ctx, "BTC-USD", want)
	if err != nil {
		return err
	}
	args := []string{"execute", d.ID, "--json"}
	if err := s.run(ctx, cli.ExitOK, args...); err != nil {
		return err
	}
	var doc struct {
		Order struct {
			Side   string `json:"side"`
			Status string `json:"status"`
		} `json:"order"`
	}
	if err := json.Unmarshal(s.stdout.Bytes(), &doc); err != nil {
		return fmt.Errorf("%s: decode the output: %w", s.cmdline(args), err)
	}
	if doc.Order.Status != "FILLED" {
		return fmt.Errorf("%s: order %s, want FILLED", s.cmdline(args), doc.Order.Status)
	}
	return nil
}

// roundTrip buys BTC-USD and sells it again: one closed trade in the
// memory, and the weights it updates.
func (s *cmdSession) roundTrip(ctx context.Context) error {
	if err := s.trade(ctx, cmdBuyDate, "BUY"); err != nil {
		return err
	}
	return s.trade(ctx, cmdSellDate, "SELL")
}

// analyzeSentiment runs ffe analyze scanSymbol --json, which must succeed,
// and returns the sentiment scan's failure as a *cmdScanError, or an error
// when the scan did not fail. It is the scan of scanFailsMidway, by
// command.
func (s *cmdSession) analyzeSentiment(ctx context.Context, _ *Market) (int, error) {
	args := []string{"analyze", scanSymbol, "--json"}
	if err := s.run(ctx, cli.ExitOK, args...); err != nil {
		return 0, err
	}
	var doc struct {
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(s.stdout.Bytes(), &doc); err != nil {
		return 0, fmt.Errorf("%s: decode the output: %w", s.cmdline(args), err)
	}
	for _, w := range doc.Warnings {
		if msg, ok := strings.CutPrefix(w, cmdSentimentWarning); ok {
			return 0, &cmdScanError{msg: msg}
		}
	}
	return 0, fmt.Errorf("%s: the sentiment scan did not fail (warnings: %q)", s.cmdline(args), doc.Warnings)
}

// cmdSentimentWarning begins analyze's warning of a failed sentiment scan.
const cmdSentimentWarning = "sentiment unavailable: "

// cmdScanError is a sentiment scan's failure as analyze reports it: its
// text only. It matches providers.ErrDecode when the text holds a
// *providers.DecodeError's ("reddit: decode: …"), so that
// scanFailsMidway checks the failure's cause as it does for the scan in
// process.
type cmdScanError struct{ msg string }

func (e *cmdScanError) Error() string { return "sentiment scan: " + e.msg }

func (e *cmdScanError) Is(target error) bool {
	return target == providers.ErrDecode && strings.Contains(e.msg, "reddit: decode: ")
}
