package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/leakgate/leakgate/harness/report"
	"github.com/leakgate/leakgate/providers/sandbox"
	"github.com/leakgate/leakgate/scenarios"
)

func (a *app) listCmd() *cobra.Command {
	var suiteRef string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the registered scenarios (with --suite, what that suite selects)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			scs := scenarios.All()
			if suiteRef != "" {
				st, err := loadSuite(suiteRef)
				if err != nil {
					return err
				}
				if scs, err = st.Scenarios(); err != nil {
					return err
				}
			}
			if jsonOut {
				type row struct {
					Name        string           `json:"name"`
					Modes       []scenarios.Mode `json:"modes"`
					Description string           `json:"description"`
				}
				rows := make([]row, 0, len(scs))
				for _, s := range scs {
					rows = append(rows, row{s.Name, s.Modes, s.Description})
				}
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SCENARIO\tMODES\tDESCRIPTION")
			for _, s := range scs {
				modes := make([]string, len(s.Modes))
				for i, m := range s.Modes {
					modes[i] = string(m)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, strings.Join(modes, ","), s.Description)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&suiteRef, "suite", "", "list what this suite selects (a file or a built-in name)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print JSON")
	return cmd
}

func (a *app) reportCmd() *cobra.Command {
	var dir, formats string
	var thresholds []string
	cmd := &cobra.Command{
		Use:   "report FILE.json… | RESULTS.bin…",
		Short: "Re-render a report or a harness result, or merge several (CI shards) into one",
		Long: `report reads leakgate reports (leakgate.json) or single harness results, merges
them (the same scenario and mode in two files is an error) and writes the formats
asked for to --report-dir; without --report-dir it prints the text report.
Its exit code is the merged verdict's: 0 passed, 1 a threshold failed, 3 an error.

Given vegeta results files instead (load.bin of 'leakgate load', one per
attacker of a --shard split, or vegeta's own), it merges them into one load
report judged on --threshold and the defaults (rate>=99%, success>=99%): the
requests and rates of the shards add up; a shard given twice or missing is an
error. It writes load.txt, load.json, load.junit.xml and load.html to
--report-dir.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(cmd, "report takes one or more report files")
			}
			if loadArgs(args) {
				return a.mergeLoad(cmd, args, thresholds, dir, formats)
			}
			if len(thresholds) > 0 {
				return usageErr(cmd, "--threshold applies to load results files (.bin)")
			}
			var reps []*report.Report
			for _, p := range args {
				f, err := os.Open(p)
				if err != nil {
					return usageErr(cmd, "%v", err)
				}
				r, err := report.Read(f)
				f.Close()
				if err != nil {
					return usageErr(cmd, "%s: %v", p, err)
				}
				reps = append(reps, r)
			}
			rep, err := report.Merge(reps...)
			if err != nil {
				return usageErr(cmd, "%v", err)
			}
			if dir == "" {
				if err := rep.WriteText(a.stdout); err != nil {
					return err
				}
			} else {
				fs, err := parseFormats(formats)
				if err != nil {
					return usageErr(cmd, "--format: %v", err)
				}
				if err := a.finish(rep, dir, fs); err != nil {
					return err
				}
			}
			a.code = rep.ExitCode()
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "report-dir", "", "write the reports here instead of printing the text one")
	cmd.Flags().StringVar(&formats, "format", DefaultFormats, "report formats: "+strings.Join(report.Formats, ","))
	cmd.Flags().StringArrayVar(&thresholds, "threshold", nil, "load results only: a threshold such as 'p99<25ms' (repeatable)")
	return cmd
}

func (a *app) sandboxCmd() *cobra.Command {
	var addr, date string
	var allowRemote bool
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve the recorded market (every API's wire format) on its own until interrupted",
		Long: `sandbox serves the recorded market data that the scenarios use, in the wire format of
every API (Alpha Vantage, Coinbase, OANDA, Polygon, Finnhub, Yahoo, Reddit, an
OpenAI-compatible LLM), each under its own path prefix, for manual and QA use:

  FFE_DATA_SOURCE=live FFE_DATA_SANDBOX_URL=http://127.0.0.1:8750 ffe analyze AAPL

It prints "leakgate: sandbox on URL" once listening, and stops on SIGINT or SIGTERM.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return usageErr(cmd, "--addr %q: %v", addr, err)
			}
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) && !allowRemote {
				return usageErr(cmd, "--addr %q is not a loopback address; pass --allow-remote to serve beyond this machine", addr)
			}
			var opts []sandbox.Option
			if date != "" {
				d, err := parseDate(date)
				if err != nil {
					return usageErr(cmd, "--date: %v", err)
				}
				opts = append(opts, sandbox.WithReplay(d, sandbox.StepManual))
			}
			return a.serveSandbox(cmd.Context(), addr, opts)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8750", "address to listen on (port 0 picks a free one)")
	cmd.Flags().StringVar(&date, "date", "", "replay the recordings as of this day (YYYY-MM-DD)")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "allow a non-loopback --addr")
	return cmd
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print leakgate's version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(a.stdout, "leakgate %s (report schema %s)\n", Version, report.Schema)
			return err
		},
	}
}

// serveSandbox serves the sandbox on addr until ctx ends.
func (a *app) serveSandbox(ctx context.Context, addr string, opts []sandbox.Option) error {
	srv, err := sandbox.Listen(addr, opts...)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "leakgate: sandbox on %s\nprefixes: %s\n", srv.URL(), strings.Join(sandbox.Prefixes, " "))
	<-ctx.Done()
	return srv.Close()
}

// parseDate reads YYYY-MM-DD.
func parseDate(s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want a day as YYYY-MM-DD", s)
	}
	return d, nil
}
