package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/leakgate/leakgate/engine"
	"github.com/leakgate/leakgate/engine/backtest"
)

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// costFlags are the flags every backtest command shares.
type costFlags struct {
	from, to      string
	capital       float64
	fee, slippage float64
}

func (c *costFlags) add(cmd *cobra.Command) {
	dateFlags(cmd, &c.from, &c.to)
	f := cmd.Flags()
	floatVar(f, &c.capital, "capital", 0, "starting equity, positive (default: platform.starting_cash)")
	floatVar(f, &c.fee, "fee-bps", 0, "fee per fill in basis points; 0 for none (default: fees.fee_bps)")
	floatVar(f, &c.slippage, "slippage-bps", 0, "slippage per fill in basis points; 0 for none (default: fees.slippage_bps)")
}

func (c *costFlags) check(cmd *cobra.Command) error {
	if c.capital < 0 || c.fee < 0 || c.slippage < 0 {
		return usageErr(cmd, "--capital, --fee-bps and --slippage-bps must not be negative")
	}
	if cmd.Flags().Changed("capital") && c.capital == 0 {
		return usageErr(cmd, "--capital 0: use a positive starting equity, or leave the flag out for platform.starting_cash")
	}
	return nil
}

func printMetrics(tw *tabwriter.Writer, m backtest.Metrics) {
	fmt.Fprintf(tw, "Final equity\t%s\n", num(m.FinalEquity))
	fmt.Fprintf(tw, "Total return\t%s\n", pct(m.TotalReturn))
	fmt.Fprintf(tw, "CAGR\t%s\n", pct(m.CAGR))
	fmt.Fprintf(tw, "Sharpe\t%.2f\n", m.Sharpe)
	fmt.Fprintf(tw, "Sortino\t%.2f\n", m.Sortino)
	fmt.Fprintf(tw, "Max drawdown\t%s\n", pct(-m.MaxDrawdown))
	fmt.Fprintf(tw, "Win rate\t%.0f%% of %d trades\n", 100*m.WinRate, m.Trades)
	fmt.Fprintf(tw, "Exposure\t%.0f%%\n", 100*m.Exposure)
	fmt.Fprintf(tw, "Fees\t%s\n", num(m.Fees))
}

func printWarnings(tw *tabwriter.Writer, ws []string) {
	if len(ws) == 0 {
		return
	}
	fmt.Fprintln(tw, "\nData warnings")
	for _, w := range ws {
		fmt.Fprintf(tw, "  - %s\n", w)
	}
}

func (a *app) backtestCmd() *cobra.Command {
	var c costFlags
	var csv, strat string
	var csvMax int64
	var short bool
	var threshold float64
	cmd := &cobra.Command{
		Use:   "backtest SYMBOL",
		Short: "Backtest a strategy over historical bars",
		Long: fmt.Sprintf(`backtest runs a strategy over daily bars of SYMBOL, from the providers or from
--csv FILE (validated first: bad data is reported, never traded on), with fees and
slippage. Signals trade at the next bar's open.

Strategies: %s.

JSON fields: symbol, strategy, source, config, bars, final_equity, total_return, cagr,
volatility, sharpe, sortino, max_drawdown, trades, wins, win_rate, exposure, fees,
equity (the curve), times, trades, warnings.`, strings.Join(engine.StrategyNames(), ", ")),
		Args: exactArgs("SYMBOL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.check(cmd); err != nil {
				return err
			}
			if cmd.Flags().Changed("threshold") && !(threshold > 0 && threshold <= 1) {
				return usageErr(cmd, "--threshold %v: use a signal magnitude in (0, 1], such as 0.2", threshold)
			}
			from, to, err := dates(cmd, c.from, c.to)
			if err != nil {
				return err
			}
			return a.withEngine(cmd, func(ctx context.Context, e *engine.Engine) error {
				r, err := e.Backtest(ctx, engine.BacktestRequest{
					BarSource: engine.BarSource{Symbol: args[0], CSV: csv, MaxCSVBytes: csvMax, From: from, To: to},
					Strategy:  strat, Capital: c.capital, FeeBps: bps(cmd, "fee-bps", c.fee),
					SlippageBps: bps(cmd, "slippage-bps", c.slippage), AllowShort: short, Threshold: threshold,
				})
				if err != nil {
					return err
				}
				return a.output(r, func(w io.Writer) error {
					return table(w, func(tw *tabwriter.Writer) {
						fmt.Fprintf(tw, "Backtest\t%s with %s\n", r.Symbol, r.Strategy)
						fmt.Fprintf(tw, "Bars\t%d from %s, %s to %s\n", r.Bars, r.Source, day(r.Times[0]), day(r.Times[len(r.Times)-1]))
						fmt.Fprintf(tw, "Costs\tfee %s bps, slippage %s bps, capital %s\n", num(r.Config.FeeBps), num(r.Config.SlippageBps), num(r.Config.Capital))
						printMetrics(tw, r.Metrics)
						printWarnings(tw, r.Warnings)
					})
				})
			})
		},
	}
	c.add(cmd)
	f := cmd.Flags()
	csvFlags(cmd, &csv, &csvMax, "read bars from this CSV file (Date,Open,High,Low,Close[,Volume]) instead of the providers")
	f.StringVar(&strat, "strategy", engine.StrategyEnsemble, "strategy to run")
	f.BoolVar(&short, "allow-short", false, "let bearish signals open short positions")
	floatVar(f, &threshold, "threshold", 0, "signal magnitude that trades, in (0, 1]: a signal trades when it reaches it, as in analyze (default: 0.2)")
	return cmd
}

func (a *app) portfolioBacktestCmd() *cobra.Command {
	var c costFlags
	var symbols, weights, strat string
	var rebalance int
	cmd := &cobra.Command{
		Use:   "portfolio-backtest",
		Short: "Backtest several symbols held at target weights with rebalancing",
		Long: `portfolio-backtest holds --symbols at --weights (equal by default; weights summing below 1
keep the rest in cash) and rebalances every --rebalance bars. Only days on which every
symbol has a bar are used. With --strategy each asset is held only while the strategy
is long.

JSON fields: symbols, target_weights, config, the metrics of backtest, equity, times,
dropped, rebalances, weights, warnings.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := c.check(cmd); err != nil {
				return err
			}
			from, to, err := dates(cmd, c.from, c.to)
			if err != nil {
				return err
			}
			syms := splitList(symbols)
			if len(syms) == 0 {
				return usageErr(cmd, "--symbols is required, e.g. --symbols AAPL,SPY")
			}
			w, err := parseFloats(weights)
			if err != nil {
				return usageErr(cmd, "--weights: %v", err)
			}
			return a.withEngine(cmd, func(ctx context.Context, e *engine.Engine) error {
				r, err := e.PortfolioBacktest(ctx, engine.PortfolioRequest{Symbols: syms, Weights: w, Rebalance: rebalance,
					Strategy: strat, From: from, To: to, Capital: c.capital, FeeBps: bps(cmd, "fee-bps", c.fee),
					SlippageBps: bps(cmd, "slippage-bps", c.slippage)})
				if err != nil {
					return err
				}
				return a.output(r, func(w io.Writer) error {
					return table(w, func(tw *tabwriter.Writer) {
						fmt.Fprintln(tw, "Symbol\tTarget\tFinal weight\tBars dropped")
						for i, s := range r.Symbols {
							fmt.Fprintf(tw, "%s\t%.1f%%\t%.1f%%\t%d\n", s, 100*r.Targets[i], 100*r.Weights[i], r.Dropped[i])
						}
						fmt.Fprintf(tw, "\nBars\t%d, %s to %s\n", r.Bars, day(r.Times[0]), day(r.Times[len(r.Times)-1]))
						fmt.Fprintf(tw, "Rebalances\t%d\n", r.Rebalances)
						printMetrics(tw, r.Metrics)
						printWarnings(tw, r.Warnings)
					})
				})
			})
		},
	}
	c.add(cmd)
	f := cmd.Flags()
	f.StringVar(&symbols, "symbols", "", "comma-separated symbols, e.g. AAPL,SPY,BTC-USD")
	f.StringVar(&weights, "weights", "", "comma-separated target weights, one per symbol (default: equal)")
	f.IntVar(&rebalance, "rebalance", backtest.DefaultRebalance, "bars between rebalances; -1 never rebalances")
	f.StringVar(&strat, "strategy", "", "hold each asset only while this strategy is long (default: always hold)")
	return cmd
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", p)
		}
		out = append(out, n)
	}
	return out, nil
}

func (a *app) walkForwardCmd() *cobra.Command {
	var c costFlags
	var csv, fast, slow, objective string
	var csvMax int64
	var train, test int
	var anchored bool
	cmd := &cobra.Command{
		Use:   "walk-forward SYMBOL",
		Short: "Optimise an SMA cross on rolling train windows and score it out of sample",
		Long: `walk-forward rolls a --train window and a --test window over the history of SYMBOL:
in each train window it picks the SMA cross of the --fast × --slow grid that maximises
--objective, then scores it on the following test window. The out-of-sample curve
joins the test windows.

JSON fields: symbol, source, objective, grid, config, result {windows [{train_start,
test_start, test_end, best, in_sample, out_of_sample}], equity, times, metrics}.`,
		Args: exactArgs("SYMBOL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.check(cmd); err != nil {
				return err
			}
			from, to, err := dates(cmd, c.from, c.to)
			if err != nil {
				return err
			}
			fs, err := parseInts(fast)
			if err != nil {
				return usageErr(cmd, "--fast: %v", err)
			}
			ss, err := parseInts(slow)
			if err != nil {
				return usageErr(cmd, "--slow: %v", err)
			}
			if train < 0 || test < 0 {
				return usageErr(cmd, "--train and --test must be positive numbers of bars")
			}
			return a.withEngine(cmd, func(ctx context.Context, e *engine.Engine) error {
				r, err := e.WalkForward(ctx, engine.WalkForwardRequest{
					BarSource: engine.BarSource{Symbol: args[0], CSV: csv, MaxCSVBytes: csvMax, From: from, To: to},
					Train:     train, Test: test, Fast: fs, Slow: ss, Objective: objective, Anchored: anchored,
					Capital: c.capital, FeeBps: bps(cmd, "fee-bps", c.fee), SlippageBps: bps(cmd, "slippage-bps", c.slippage),
				})
				if err != nil {
					return err
				}
				return a.output(r, func(w io.Writer) error {
					return table(w, func(tw *tabwriter.Writer) {
						fmt.Fprintf(tw, "Walk-forward\t%s, %d grid points, objective %s\n", r.Symbol, len(r.Grid), r.Objective)
						fmt.Fprintln(tw, "\nTest window\tBest SMA\tIn-sample Sharpe\tOut-of-sample return\tOut-of-sample Sharpe")
						for _, wd := range r.Result.Windows {
							fmt.Fprintf(tw, "%s..%s\t%d/%d\t%.2f\t%s\t%.2f\n", day(wd.TestStart), day(wd.TestEnd), wd.Best.Fast, wd.Best.Slow,
								wd.InSample.Sharpe, pct(wd.OutOfSample.TotalReturn), wd.OutOfSample.Sharpe)
						}
						fmt.Fprintln(tw, "\nOut of sample")
						printMetrics(tw, r.Result.Metrics)
						printWarnings(tw, r.Warnings)
					})
				})
			})
		},
	}
	c.add(cmd)
	f := cmd.Flags()
	csvFlags(cmd, &csv, &csvMax, "read bars from this CSV file instead of the providers")
	f.IntVar(&train, "train", 252, "train window in bars")
	f.IntVar(&test, "test", 63, "test window in bars")
	f.StringVar(&fast, "fast", "5,10,20", "fast SMA periods of the grid")
	f.StringVar(&slow, "slow", "50,100", "slow SMA periods of the grid")
	f.StringVar(&objective, "objective", string(backtest.ObjectiveSharpe), fmt.Sprintf("metric to maximise: %v", backtest.Objectives))
	f.BoolVar(&anchored, "anchored", false, "grow the train window from the first bar instead of rolling it")
	return cmd
}

func (a *app) monteCarloCmd() *cobra.Command {
	var c costFlags
	var csv, strat string
	var csvMax int64
	var sims, days, block int
	var seed uint64
	var ruin float64
	cmd := &cobra.Command{
		Use:   "monte-carlo SYMBOL",
		Short: "Bootstrap a strategy's returns into simulated futures: percentiles, VaR, CVaR, ruin",
		Long: `monte-carlo backtests --strategy on SYMBOL, then resamples its per-bar returns into --sims
paths of --days bars on every core, and reports percentiles of final equity, value at
risk, expected shortfall (CVaR), drawdowns and the probability of ruin (equity at or
below --ruin of the start). The same --seed gives the same result; without it a
random seed is chosen and printed.

JSON fields: symbol, strategy, source, seed, returns, initial, result {sims, days, p5,
p25, p50, p75, p95, mean, var95, var99, cvar95, cvar99, prob_ruin, drawdown_p50,
drawdown_p95}.`,
		Args: exactArgs("SYMBOL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.check(cmd); err != nil {
				return err
			}
			if sims < 1 || days < 1 || block < 1 {
				return usageErr(cmd, "--sims, --days and --block must be at least 1")
			}
			from, to, err := dates(cmd, c.from, c.to)
			if err != nil {
				return err
			}
			return a.withEngine(cmd, func(ctx context.Context, e *engine.Engine) error {
				r, err := e.MonteCarlo(ctx, engine.MonteCarloRequest{
					BarSource: engine.BarSource{Symbol: args[0], CSV: csv, MaxCSVBytes: csvMax, From: from, To: to},
					Strategy:  strat, Sims: sims, Days: days, Seed: seed, Block: block, Capital: c.capital, Ruin: ruin,
				})
				if err != nil {
					return err
				}
				return a.output(r, func(w io.Writer) error {
					m := r.Result
					return table(w, func(tw *tabwriter.Writer) {
						fmt.Fprintf(tw, "Monte-carlo\t%s with %s: %d paths of %d bars from %d returns (seed %d)\n",
							r.Symbol, r.Strategy, m.Sims, m.Days, r.Returns, r.Seed)
						fmt.Fprintf(tw, "Initial equity\t%s\n", num(r.Initial))
						fmt.Fprintf(tw, "Final equity p5/p25/p50/p75/p95\t%s / %s / %s / %s / %s\n", num(m.P5), num(m.P25), num(m.P50), num(m.P75), num(m.P95))
						fmt.Fprintf(tw, "Mean final equity\t%s\n", num(m.Mean))
						fmt.Fprintf(tw, "VaR 95%% / 99%% (loss)\t%.2f%% / %.2f%%\n", 100*m.VaR95, 100*m.VaR99)
						fmt.Fprintf(tw, "CVaR 95%% / 99%% (loss)\t%.2f%% / %.2f%%\n", 100*m.CVaR95, 100*m.CVaR99)
						fmt.Fprintf(tw, "Max drawdown p50 / p95\t%s / %s\n", pct(-m.DrawdownP50), pct(-m.DrawdownP95))
						fmt.Fprintf(tw, "Probability of ruin\t%.2f%%\n", 100*m.ProbRuin)
					})
				})
			})
		},
	}
	c.add(cmd)
	f := cmd.Flags()
	csvFlags(cmd, &csv, &csvMax, "read bars from this CSV file instead of the providers")
	f.StringVar(&strat, "strategy", engine.StrategyEnsemble, "strategy whose returns are resampled (buy-and-hold: the price returns)")
	f.IntVar(&sims, "sims", 10_000, "number of simulated paths")
	f.IntVar(&days, "days", 252, "bars per path")
	f.Uint64Var(&seed, "seed", 0, "random seed for reproducible results (default: random, printed)")
	f.IntVar(&block, "block", 1, "block length of the bootstrap (1: independent draws)")
	floatVar(f, &ruin, "ruin", 0.5, "ruin level as a fraction of the initial equity")
	return cmd
}
