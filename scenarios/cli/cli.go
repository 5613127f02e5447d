// Package cli is the command line of leakgate, the leak gate: it runs
// suites of scenarios (package scenarios) under the harness, each scenario
// in each mode in a worker process of its own, and writes the reports
// (package harness/report).
//
//	leakgate list                      the registered scenarios
//	leakgate run [--suite F] …         a suite (default: the built-in ci suite)
//	leakgate soak                      the built-in soak suite
//	leakgate report FILE.json… …       re-render or merge reports (CI shards)
//	leakgate sandbox --addr A          the recorded market on its own, for QA
//	leakgate selftest                  the known leaks (leakinject build) caught, the clean build passing
//	leakgate version
//
// Exit codes, mapped in one place (exitCode): 0 every case passed or was
// skipped, 1 a threshold failed, 2 usage or suite error, 3 a scenario
// errored, 130 interrupted.
//
// Main is the whole program minus os.Exit; Run takes a context instead of
// the process's signals, so tests drive any command line in process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/leakgate/leakgate/harness/report"
	"github.com/leakgate/leakgate/providers/leakinject"
	"github.com/leakgate/leakgate/scenarios/suite"
)

// Exit codes.
const (
	ExitPass        = report.ExitPass  // every case passed or was skipped
	ExitLeak        = report.ExitLeak  // a threshold failed
	ExitUsage       = report.ExitUsage // a bad flag, argument or suite
	ExitError       = report.ExitError // a scenario errored and nothing leaked
	ExitInterrupted = 130              // SIGINT or SIGTERM
)

// Version is the program's version, set by the linker (-X).
var Version = "dev"

// Main runs leakgate with args under the process's signals and returns
// the exit code. The first SIGINT or SIGTERM stops the run after writing
// what was measured; a second one ends the process at once.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if err := leakinject.Check(); err != nil {
		fmt.Fprintf(stderr, "leakgate: %v\n", err)
		return ExitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	restore := context.AfterFunc(ctx, stop)
	defer restore()
	return Run(ctx, args, stdin, stdout, stderr)
}

// Run runs one leakgate command line and returns its exit code. Errors are
// printed to stderr as "leakgate: message".
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, code: -1}
	root := a.newRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "leakgate: %v\n", err)
		var ue *usageError
		if errors.As(err, &ue) && ue.path != "" {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", ue.path)
		}
		return exitCode(err)
	}
	if a.code >= 0 {
		return a.code
	}
	return ExitPass
}

// app holds the state of one Run.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	code           int // the exit code a command chose; -1 for none
}

// usageError is a bad flag, argument or value: exit 2.
type usageError struct {
	err  error
	path string // the command to get help on
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErr(cmd *cobra.Command, format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...), path: cmd.CommandPath()}
}

// exitCode maps an error to the exit status: the one place that does.
func exitCode(err error) int {
	var ue *usageError
	var se *suite.Error
	switch {
	case err == nil:
		return ExitPass
	case errors.As(err, &ue), errors.As(err, &se):
		return ExitUsage
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	}
	return ExitError
}

func (a *app) newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "leakgate",
		Short: "leakgate replays scenarios many times and fails when resources grow",
		Long: `leakgate is a leak gate: it replays each scenario of a suite 50-100 times in a
worker process of its own, samples goroutines, file descriptors, TCP connections,
threads, child processes, RSS and the Go heap before, during and after, and fails
when their growth passes thresholds.

Exit codes: 0 passed (skipped cases do not fail), 1 a threshold failed, 2 usage
or suite error, 3 a scenario itself errored, 130 interrupted.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				hint := ""
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					hint = "; did you mean " + strings.Join(s, " or ") + "?"
				}
				return usageErr(cmd, "unknown command %q%s", args[0], hint)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SuggestionsMinimumDistance = 2
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{err: err, path: cmd.CommandPath()}
	})
	root.AddCommand(a.listCmd(), a.runCmd(), a.soakCmd(), a.reportCmd(), a.loadCmd(), a.sandboxCmd(), a.selftestCmd(), a.versionCmd(),
		a.workerCmd(), a.ffeCmd())
	return root
}

// noArgs refuses positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr(cmd, "%s takes no arguments; got %q", cmd.Name(), args[0])
	}
	return nil
}
