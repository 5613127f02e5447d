package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/leakgate/leakgate/engine"
	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/engine/store"
)

func table(w io.Writer, f func(tw *tabwriter.Writer)) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	f(tw)
	return tw.Flush()
}

func num(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	case v == 0:
		return "0"
	case math.Abs(v) >= 1000:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.6g", v)
}

func pct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return fmt.Sprintf("%+.2f%%", 100*v)
}

func day(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(time.DateOnly)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func (a *app) analyzeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "analyze SYMBOL",
		Short: "Analyze a symbol and store a BUY, SELL or HOLD decision",
		Long: `analyze fetches bars and a quote (and Reddit sentiment when enabled), validates them,
computes SMA, EMA, MACD, RSI, Bollinger Bands and ATR, lets the trend-following,
mean-reversion, momentum and sentiment strategies vote with their learned weights,
and stores the decision with an id that execute takes.

JSON fields: decision {id, symbol, action, confidence, score, quantity, price, atr,
stop_loss, take_profit, reasons, votes}, quote, bars, first_bar, last_bar, indicators,
sentiment, position, equity, warnings.`,
		Args: exactArgs("SYMBOL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withEngine(cmd, func(ctx context.Context, e *engine.Engine) error {
				an, err := e.Analyze(ctx, args[0])
				if err != nil {
					return err
				}
				return a.output(an, func(w io.Writer) error { return printAnalysis(w, an) })
			})
		},
	}
}

func printAnalysis(w io.Writer, an *engine.Analysis) error {
	d := an.Decision
	return table(w, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "Decision\t%s\t(execute with: ffe execute %s)\n", d.ID, d.ID)
		fmt.Fprintf(tw, "Symbol\t%s (%s)\tquote %s from %s at %s\n", d.Symbol, d.Class, num(an.Quote.Price), an.Quote.Provider, day(an.Quote.Time))
		fmt.Fprintf(tw, "Action\t%s\tconfidence %.2f, score %+.2f\n", d.Action, d.Confidence, d.Score)
		fmt.Fprintf(tw, "Size\t%s\tstop %s, take-profit %s, ATR %s\n", num(d.Quantity), num(d.StopLoss), num(d.TakeProfit), num(d.ATR))
		fmt.Fprintf(tw, "Account\tequity %s\tposition %s\n", num(an.Equity), num(an.Position))
		fmt.Fprintf(tw, "Bars\t%d\t%s to %s\n", an.Bars, day(an.First), day(an.Last))
		if an.Sentiment != nil {
			fmt.Fprintf(tw, "Sentiment\t%+.2f\tfrom %d posts on %s\n", an.Sentiment.Score, an.Sentiment.Samples, an.Sentiment.Source)
		}
		in := an.Indicators
		fmt.Fprintln(tw, "\nIndicator\tValue")
		for _, r := range []struct {
			n string
			v engine.Num
		}{{"SMA(20)", in.SMA20}, {"SMA(50)", in.SMA50}, {"EMA(12)", in.EMA12}, {"EMA(26)", in.EMA26},
			{"MACD(12,26,9)", in.MACD}, {"MACD signal", in.MACDSignal}, {"MACD histogram", in.MACDHistogram},
			{"RSI(14)", in.RSI14}, {"Bollinger upper", in.BollingerUpper}, {"Bollinger middle", in.BollingerMid},
			{"Bollinger lower", in.BollingerLower}, {"ATR(14)", in.ATR14}} {
			fmt.Fprintf(tw, "%s\t%s\n", r.n, num(float64(r.v)))
		}
		fmt.Fprintln(tw, "\nStrategy\tWeight\tSignal")
		for _, v := range d.Votes {
			sig := fmt.Sprintf("%+.2f", v.Signal)
			if v.Abstain {
				sig = "abstains"
			}
			fmt.Fprintf(tw, "%s\t%.2f\t%s\n", v.Strategy, v.Weight, sig)
		}
		fmt.Fprintln(tw, "\nReasons")
		for _, r := range d.Reasons {
			fmt.Fprintf(tw, "  - %s\n", r)
		}
		if len(an.Warnings) > 0 {
			fmt.Fprintln(tw, "\nData warnings")
			for _, wn := range an.Warnings {
				fmt.Fprintf(tw, "  - %s\n", wn)
			}
		}
	})
}

func (a *app) historyCmd() *cobra.Command {
	var symbol, action, since string
	var limit int
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List past decisions, newest first",
		Long: `history lists stored decisions, newest first.

JSON: {"decisions": [decision…]} with the fields of analyze's decision plus executed.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return usageErr(cmd, "--limit %d: use a positive number", limit)
			}
			return a.withEngine(cmd, func(ctx context.Context, e *engine.Engine) error {
				s, err := parseSince(since, e.Now())
				if err != nil {
					return usageErr(cmd, "--since: %v", err)
				}
				ds, err := e.History(ctx, store.DecisionFilter{Symbol: symbol, Action: action, Since: s, Limit: limit})
				if err != nil {
					return err
				}
				if ds == nil {
					ds = []store.Decision{}
				}
				return a.output(map[string]any{"decisions": ds}, func(w io.Writer) error {
					if len(ds) == 0 {
						_, err := fmt.Fprintln(w, "No decisions match. Make one with: ffe analyze SYMBOL")
						return err
					}
					return table(w, func(tw *tabwriter.Writer) {
						fmt.Fprintln(tw, "ID\tCreated (UTC)\tSymbol\tAction\tConfidence\tQuantity\tPrice\tStop\tTake-profit\tExecuted")
						for _, d := range ds {
							fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f\t%s\t%s\t%s\t%s\t%v\n", d.ID, stamp(d.CreatedAt), d.Symbol, d.Action,
								d.Confidence, num(d.Quantity), num(d.Price), num(d.StopLoss), num(d.TakeProfit), d.Executed)
						}
					})
				})
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&symbol, "symbol", "", "only decisions about this symbol")
	f.StringVar(&action, "action", "", "only BUY, SELL or HOLD decisions")
	f.StringVar(&since, "since", "", "only decisions since a date (YYYY-MM-DD) or a duration ago (7d, 12h)")
	f.IntVar(&limit, "limit", 20, "at most this many decisions")
	return cmd
}

func (a *app) balanceCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "balance",
		Short: "Show balances and positions of the trading platform",
		Long: `balance shows the account of the configured platform (paper, or Coinbase/OANDA)
and the positions the engine tracks, valued at current quotes.

JSON fields: platform, account {id, currency, balance, nav, unrealized_pl, balances},
positions [{symbol, quantity, avg_price, price, market_value, unrealized_pl, …}],
realized_today.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withEngine(cmd, func(ctx context.Context, e *engine.Engine) error {
				b, err := e.Balance(ctx)
				if err != nil {
					return err
				}
				return a.output(b, func(w io.Writer) error {
					return table(w, func(tw *tabwriter.Writer) {
						ac := b.Account
						fmt.Fprintf(tw, "Platform\t%s\taccount %s\n", b.Platform, ac.ID)
						fmt.Fprintf(tw, "Cash\t%s %s\n", num(ac.Balance), ac.Currency)
						fmt.Fprintf(tw, "Net asset value\t%s %s\tunrealized %s, realized today %s\n", num(ac.NAV), ac.Currency,
							num(ac.UnrealizedPL), num(b.RealizedToday))
						fmt.Fprintln(tw, "\nBalance\tTotal\tAvailable")
						for _, bl := range ac.Balances {
							fmt.Fprintf(tw, "%s\t%s\t%s\n", bl.Currency, num(bl.Total), num(bl.Available))
						}
						fmt.Fprintln(tw, "\nPosition\tQuantity\tEntry\tPrice\tValue\tUnrealized\tStop\tTake-profit")
						if len(b.Positions) == 0 {
							fmt.Fprintln(tw, "(none)")
						}
						for _, p := range b.Positions {
							fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Symbol, num(p.Quantity), num(p.AvgPrice), num(p.Price),
								num(p.MarketValue), num(p.UnrealizedPL), num(p.StopLoss), num(p.TakeProfit))
						}
					})
				})
			})
		},
	}
}

func (a *app) executeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "execute DECISION_ID",
		Short: "Place the order of a stored decision",
		Long: `execute places the order of a decision made by analyze: paper orders fill at the quote
with fees and slippage; with Coinbase or OANDA configured, a real market order is sent.
A decision executes at most once, and orders that break the risk limits
(risk.max_position_share, risk.max_daily_loss) are refused.

JSON fields: decision, order {id, platform, side, status, quantity, filled_quantity,
avg_price, fees}, position, closed (trades the order closed), weights.`,
		Args: exactArgs("DECISION_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withEngine(cmd, func(ctx context.Context, e *engine.Engine) error {
				ex, err := e.Execute(ctx, args[0])
				if err != nil {
					return err
				}
				return a.output(ex, func(w io.Writer) error {
					return table(w, func(tw *tabwriter.Writer) {
						o := ex.Order
						fmt.Fprintf(tw, "Order\t%s\t%s on %s\n", o.ID, o.Status, o.Platform)
						fmt.Fprintf(tw, "Trade\t%s %s %s\tat %s, fees %s\n", o.Side, num(o.FilledQuantity), o.Symbol, num(o.AvgPrice), num(o.Fees))
						fmt.Fprintf(tw, "Position\t%s %s\tentry %s\n", num(ex.Position.Quantity), o.Symbol, num(ex.Position.AvgPrice))
						for _, m := range ex.Closed {
							fmt.Fprintf(tw, "Closed\t%s %s %s\t%s → %s, PnL %s (%s)\n", m.Direction, num(m.Quantity), m.Symbol,
								num(m.EntryPrice), num(m.ExitPrice), num(m.PnL), pct(m.Return))
						}
						if len(ex.Weights) > 0 {
							fmt.Fprintln(tw, "\nStrategy\tNew weight")
							for _, n := range sortedKeys(ex.Weights) {
								fmt.Fprintf(tw, "%s\t%.3f\n", n, ex.Weights[n])
							}
						}
					})
				})
			})
		},
	}
}

func (a *app) runAgentCmd() *cobra.Command {
	var interval time.Duration
	var maxCycles int
	var threshold float64
	var watchlist string
	cmd := &cobra.Command{
		Use:   "run-agent",
		Short: "Analyze the watchlist every interval and execute confident decisions",
		Long: `run-agent loops over the watchlist: each cycle first closes open positions whose
stop-loss or take-profit was reached, then analyzes every symbol and executes the
BUY and SELL decisions whose confidence reaches the threshold. It stops after
--max-cycles cycles, or on Ctrl-C (promptly, even mid-cycle), and closes cleanly.

JSON (printed at the end): cycles [{cycle, started, duration_ns, results [{symbol,
decision_id, action, confidence, executed, order_id, skipped, exit, error}]}], decisions,
executions, errors, interrupted.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if maxCycles < 0 {
				return usageErr(cmd, "--max-cycles %d: use 0 (until interrupted) or more", maxCycles)
			}
			if cmd.Flags().Changed("threshold") && (threshold < 0 || threshold > 1) {
				return usageErr(cmd, "--threshold %v: use a confidence in [0, 1]", threshold)
			}
			return a.withEngine(cmd, func(ctx context.Context, e *engine.Engine) error {
				o := engine.AgentOptions{Interval: interval, MaxCycles: maxCycles, Threshold: threshold, Watchlist: splitList(watchlist)}
				if cmd.Flags().Changed("threshold") && threshold == 0 {
					o.Threshold = engine.ZeroThreshold // given as 0: every signal, not the config's
				}
				if !cmd.Flags().Changed("max-cycles") {
					o.MaxCycles = e.Config().Agent.MaxCycles
				}
				if !a.jsonOut {
					o.OnCycle = func(c engine.CycleReport) { printCycle(a.stdout, c) }
				}
				rep, err := e.RunAgent(ctx, o)
				if err != nil {
					return err
				}
				return a.output(rep, func(w io.Writer) error {
					state := "finished"
					if rep.Interrupted {
						state = "interrupted"
					}
					_, err := fmt.Fprintf(w, "Agent %s after %d cycles: %d decisions, %d executed, %d errors.\n",
						state, len(rep.Cycles), rep.Decisions, rep.Executions, rep.Errors)
					return err
				})
			})
		},
	}
	f := cmd.Flags()
	f.Var(durationFlag{&interval}, "interval", "time between cycles, e.g. 30s, 15m, 1h (default: agent.interval)")
	f.IntVar(&maxCycles, "max-cycles", 0, "stop after this many cycles; 0 runs until Ctrl-C (default: agent.max_cycles)")
	floatVar(f, &threshold, "threshold", 0, "confidence needed to execute, in [0, 1]; 0 executes every BUY and SELL (default: agent.confidence_threshold)")
	f.StringVar(&watchlist, "watchlist", "", "comma-separated symbols (default: watchlist)")
	return cmd
}

func printCycle(w io.Writer, c engine.CycleReport) {
	_ = table(w, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "Cycle %d at %s (%s)\n", c.Cycle, stamp(c.Started), c.Duration.Round(time.Millisecond))
		fmt.Fprintln(tw, "Symbol\tDecision\tAction\tConfidence\tOutcome")
		for _, r := range c.Results {
			outcome := "held"
			switch {
			case r.Error != "":
				outcome = "error: " + r.Error
			case r.Exit != "" && r.Executed:
				outcome = r.Exit + "; closed as " + r.OrderID
			case r.Executed:
				outcome = "executed as " + r.OrderID
			case r.Skipped != "":
				outcome = "not executed: " + r.Skipped
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\n", r.Symbol, r.DecisionID, r.Action, r.Confidence, outcome)
		}
	})
}

func (a *app) learningReportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "learning-report",
		Short: "Show how each strategy fared on closed trades, and its weight",
		Long: `learning-report summarises the portfolio memory: per strategy, the closed trades it voted
on, its win rate, average return and profit factor (following its vote direction), and
its current ensemble weight; closed trades update the weights as they are recorded.

JSON fields: strategies [{strategy, trades, win_rate, avg_return, profit_factor, weight}],
portfolio {trades, win_rate, avg_return, profit_factor, total_pnl}, since.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withEngine(cmd, func(ctx context.Context, e *engine.Engine) error {
				r, err := e.LearningReport(ctx)
				if err != nil {
					return err
				}
				return a.output(r, func(w io.Writer) error {
					return table(w, func(tw *tabwriter.Writer) {
						fmt.Fprintln(tw, "Strategy\tTrades\tWin rate\tAvg return\tProfit factor\tWeight")
						for _, s := range r.Strategies {
							fmt.Fprintf(tw, "%s\t%d\t%.0f%%\t%s\t%s\t%.3f\n", s.Strategy, s.Trades, 100*s.WinRate, pct(s.AvgReturn),
								num(float64(s.ProfitFactor)), s.Weight)
						}
						p := r.Portfolio
						fmt.Fprintf(tw, "\nPortfolio\t%d trades\twin rate %.0f%%\tavg return %s\tprofit factor %s\tPnL %s\n",
							p.Trades, 100*p.WinRate, pct(p.AvgReturn), num(float64(p.ProfitFactor)), num(p.TotalPnL))
					})
				})
			})
		},
	}
}

func (a *app) pruneMemoryCmd() *cobra.Command {
	var olderThan time.Duration
	var keep int
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "prune-memory",
		Short: "Remove old closed trades from the portfolio memory",
		Long: `prune-memory removes closed trades older than --older-than, or beyond the newest --keep,
and reports what it removed. Without either flag it applies memory.retention
(default ` + fmt.Sprintf("%dd", config.DefaultMemoryRetention/(24*time.Hour)) + `; -1s keeps every trade whatever its age) and memory.keep
(default 0, no limit).

JSON fields: removed_by_age, removed_by_count, removed [trade…], remaining, dry_run.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if keep < 0 {
				return usageErr(cmd, "--keep %d: use 0 (no limit) or more", keep)
			}
			return a.withEngine(cmd, func(ctx context.Context, e *engine.Engine) error {
				r, err := e.PruneMemory(ctx, engine.PruneOptions{OlderThan: olderThan, Keep: keep, DryRun: dryRun})
				if err != nil {
					return err
				}
				if r.Removed == nil {
					r.Removed = []store.Memory{}
				}
				out := struct {
					store.PruneResult
					DryRun bool `json:"dry_run"`
				}{r, dryRun}
				return a.output(out, func(w io.Writer) error {
					verb := "Removed"
					if dryRun {
						verb = "Would remove"
					}
					return table(w, func(tw *tabwriter.Writer) {
						fmt.Fprintf(tw, "%s %d trades (%d by age, %d beyond the newest kept); %d remain.\n",
							verb, len(r.Removed), r.ByAge, r.ByCount, r.Remaining)
						if len(r.Removed) > 0 {
							fmt.Fprintln(tw, "ID\tClosed (UTC)\tSymbol\tDirection\tQuantity\tPnL")
							for _, m := range r.Removed {
								fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", m.ID, stamp(m.ClosedAt), m.Symbol, m.Direction, num(m.Quantity), num(m.PnL))
							}
						}
					})
				})
			})
		},
	}
	f := cmd.Flags()
	f.Var(durationFlag{&olderThan}, "older-than", "remove trades closed longer ago than this, e.g. 90d")
	f.IntVar(&keep, "keep", 0, "keep only the newest N trades")
	f.BoolVar(&dryRun, "dry-run", false, "report what would be removed without removing it")
	return cmd
}

func (a *app) configCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Inspect the configuration",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration, secrets redacted",
		Long: `config show prints the configuration in effect (defaults, file, FFE_* environment and
flags combined) as YAML, or JSON with --json, with every secret shown as REDACTED or
unset next to the environment variable it is read from. It opens no engine.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if a.jsonOut {
				m, err := cfg.Map()
				if err != nil {
					return err
				}
				return a.output(m, nil)
			}
			return cfg.WriteYAML(a.stdout)
		},
	})
	return cmd
}
