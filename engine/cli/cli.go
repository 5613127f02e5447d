// Package cli is the command-line interface of ffe, the finance feedback
// engine: a cobra command tree over engine.Engine.
//
// Every command that needs the engine runs through one wrapper, withEngine,
// which opens the engine and closes it on every path: success, error,
// panic (recovered into an error) and interruption. Exit codes are mapped
// in one place, exitCode: 0 success, 1 failure, 2 usage error (unknown
// command or flag, bad symbol, unknown decision id, invalid config), and
// in report 130 or 143 for a command that a SIGINT or SIGTERM stopped.
//
// `ffe serve` runs the export API of engine/server on top of the engine:
// the engine owns the providers, the store, the LLM client and the service
// (job queue, crew, exporter, bundles, stock monitor, retention) that
// Engine.NewService builds; the server is the HTTP layer over the service
// and is closed before the engine, which then closes the service.
//
// The package imports engine, engine/config and the packages whose types
// its commands show or build (engine/server for serve); nothing imports it
// but cmd/ffe and the scenarios that run ffe in-process.
//
// Run is the whole program minus os.Exit and signal handling, so tests and
// the leak harness can run any command line in-process, many times.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/leakgate/leakgate/engine"
	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/engine/server"
	"github.com/leakgate/leakgate/providers/leakinject"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// CloseTimeout bounds how long closing the engine waits for its
// background goroutines after a command.
const CloseTimeout = 10 * time.Second

// Option configures Run.
type Option interface{ apply(*app) }

type optionFunc func(*app)

func (f optionFunc) apply(a *app) { f(a) }

// WithEnv makes Run read the environment through lookup instead of
// os.LookupEnv, so tests control FFE_* variables and directories.
func WithEnv(lookup func(string) (string, bool)) Option {
	return optionFunc(func(a *app) { a.env = lookup })
}

// WithEngineOptions passes options to engine.New for every command (an
// httpmock transport, a clock).
func WithEngineOptions(opts ...engine.Option) Option {
	return optionFunc(func(a *app) { a.engineOpts = append(a.engineOpts, opts...) })
}

// SignalError is the cause of a command's cancellation by a signal. A
// command that fails because its context was canceled with a SignalError
// cause exits with 128 plus the signal's number: 130 for SIGINT, 143 for
// SIGTERM.
type SignalError struct {
	// Signal is the signal received.
	Signal os.Signal
}

// Error implements error.
func (e *SignalError) Error() string { return e.Signal.String() + " received" }

// Code returns the exit status for the signal: 128 + its number.
func (e *SignalError) Code() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGINT)
}

// Main runs ffe with args under the process's signals and returns the exit
// code. It never exits itself. SIGINT and SIGTERM cancel the command, which
// stops cleanly (serve: within server.shutdown_grace) and, if that makes it
// fail, exits 130 (SIGINT) or 143 (SIGTERM); after the first signal the
// default handling is back, so a second one ends the process at once.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if err := leakinject.Check(); err != nil {
		fmt.Fprintf(stderr, "ffe: %v\n", err)
		return ExitUsage
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // stops on the first signal or when Run returns
		select {
		case s := <-sigs:
			signal.Stop(sigs)
			cancel(&SignalError{Signal: s})
		case <-done:
		}
	})
	defer func() {
		close(done)
		wg.Wait()
		signal.Stop(sigs)
	}()
	return Run(ctx, args, stdin, stdout, stderr)
}

// Run runs one ffe command line and returns its exit code; errors are
// printed to stderr as "ffe: message", or with --json as one JSON document
// {"error": message, "exit_code": code[, "hint": what to run]} on stderr.
// Canceling ctx stops the command and closes the engine; canceled with a
// *SignalError cause, a command that fails exits 128 + the signal number.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, opts ...Option) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, env: os.LookupEnv}
	for _, o := range opts {
		o.apply(a)
	}
	root := a.newRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if !a.jsonOut {
		a.jsonOut = wantsJSON(args) // --json where parsing stopped before it
	}
	return a.report(ctx, err)
}

// app holds the state of one Run.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            func(string) (string, bool)
	engineOpts     []engine.Option

	// Persistent flags.
	configPath string
	dataDir    string
	jsonOut    bool
	logLevel   string
	logFormat  string
}

// getenv reads the environment Run was given, for packages that take a
// getenv function.
func (a *app) getenv(key string) string {
	v, _ := a.env(key)
	return v
}

// usageHintError is a usage error that names the command to get help on.
type usageHintError struct {
	err  error
	path string
}

func (e *usageHintError) Error() string { return e.err.Error() }
func (e *usageHintError) Unwrap() error { return e.err }

// PanicError is a panic in a command, recovered after the engine was
// closed.
type PanicError struct {
	// Value is what was passed to panic; Stack where it happened.
	Value any
	Stack []byte
}

// Error implements error.
func (e *PanicError) Error() string {
	return fmt.Sprintf("internal error: %v (a bug in ffe; please report it with the stack trace above)", e.Value)
}

// exitCode maps an error to the exit status: the one place that does.
func exitCode(err error) int {
	var ue *engine.UsageError
	var he *usageHintError
	var ce *config.Error
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue), errors.As(err, &he), errors.As(err, &ce):
		return ExitUsage
	}
	return ExitFailure
}

// wantsJSON reports whether args ask for --json before a "--".
func wantsJSON(args []string) bool {
	for _, arg := range args {
		switch arg {
		case "--":
			return false
		case "--json", "--json=true", "--json=1":
			return true
		}
	}
	return false
}

// errorDoc is an error printed with --json.
type errorDoc struct {
	Error    string `json:"error"`
	ExitCode int    `json:"exit_code"`
	Hint     string `json:"hint,omitempty"`
	Stack    string `json:"stack,omitempty"`
}

// report prints err with what to do next and returns the exit code.
func (a *app) report(ctx context.Context, err error) int {
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	doc := errorDoc{Error: err.Error(), ExitCode: code}
	var pe *PanicError
	var he *usageHintError
	var se *SignalError
	switch {
	case errors.As(err, &pe):
		doc.Stack = string(pe.Stack)
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		if errors.As(context.Cause(ctx), &se) {
			doc.ExitCode = se.Code()
		}
		doc.Error = "interrupted; nothing was left half-done (the engine closed cleanly)"
	case errors.As(err, &he):
		doc.Hint = fmt.Sprintf("Run '%s --help' for usage.", he.path)
	}
	if a.jsonOut {
		enc := json.NewEncoder(a.stderr)
		_ = enc.Encode(doc)
		return doc.ExitCode
	}
	if doc.Stack != "" {
		fmt.Fprintf(a.stderr, "ffe: panic: %v\n%s\n", pe.Value, pe.Stack)
	}
	fmt.Fprintf(a.stderr, "ffe: %s\n", doc.Error)
	if doc.Hint != "" {
		fmt.Fprintln(a.stderr, doc.Hint)
	}
	return doc.ExitCode
}

func usageErr(cmd *cobra.Command, format string, args ...any) error {
	return &usageHintError{err: fmt.Errorf(format, args...), path: cmd.CommandPath()}
}

// loadConfig reads the configuration the flags and environment point at.
func (a *app) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(config.LoadOptions{Path: a.configPath, DataDir: a.dataDir, LookupEnv: a.env})
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(a.stderr, "ffe: warning: %s\n", w)
	}
	if a.logLevel != "" || a.logFormat != "" {
		if a.logLevel != "" {
			cfg.Log.Level = a.logLevel
		}
		if a.logFormat != "" {
			cfg.Log.Format = a.logFormat
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// newLogger returns the logger of cfg's log section, writing to stderr.
func (a *app) newLogger(cfg *config.Config) (*slog.Logger, error) {
	return server.NewLogger(a.stderr, cfg.Log.Format, strings.ToLower(cfg.Log.Level))
}

// withEngine loads the configuration, opens the engine, runs fn, and
// closes the engine on every path: when fn returns, fails, panics (the
// panic becomes a *PanicError, exit 1) or the context is canceled. The
// close gets CloseTimeout even when ctx is already done.
func (a *app) withEngine(cmd *cobra.Command, fn func(context.Context, *engine.Engine) error) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	return a.withEngineConfig(cmd, cfg, nil, fn)
}

// withEngineConfig is withEngine on a loaded configuration, with extra
// engine options.
func (a *app) withEngineConfig(cmd *cobra.Command, cfg *config.Config, extra []engine.Option,
	fn func(context.Context, *engine.Engine) error) (err error) {
	ctx := cmd.Context()
	logger, err := a.newLogger(cfg)
	if err != nil {
		return &engine.UsageError{Err: err}
	}
	opts := append([]engine.Option{engine.WithLogger(logger)}, extra...)
	opts = append(opts, a.engineOpts...)
	e, err := engine.New(ctx, cfg, opts...)
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
		if leakinject.On(leakinject.CLICommandSkipsClose) && cmd.Name() == "balance" {
			return // the leak (THR-206): balance returns without closing its engine
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CloseTimeout)
		defer cancel()
		if cerr := e.Close(cctx); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	return fn(ctx, e)
}

// output writes v as one JSON document with --json, and otherwise calls
// human.
func (a *app) output(v any, human func(w io.Writer) error) error {
	if a.jsonOut {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return human(a.stdout)
}

func (a *app) newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "ffe",
		Short: "ffe, the finance feedback engine: analyze, trade, learn and backtest",
		Long: `ffe analyzes market data with an ensemble of strategies, executes its decisions on a
paper account (or Coinbase/OANDA when configured), learns from closed trades, and
backtests strategies.

With no configuration it runs on recorded sandbox market data (no keys, no network),
paper trading, and a SQLite database under the user's data directory.`,
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
		// Every command: no NaN or infinity in a numeric flag.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return checkFinite(cmd) },
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SuggestionsMinimumDistance = 2
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageHintError{err: err, path: cmd.CommandPath()}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.configPath, "config", "", "config file (default: $FFE_CONFIG, else config.yaml under the user's config directory)")
	pf.StringVar(&a.dataDir, "data-dir", "", "directory of the database (default: $FFE_DATA_DIR, data_dir, else the user's data directory)")
	pf.BoolVar(&a.jsonOut, "json", false, `print one JSON document instead of tables; an error is one JSON document on stderr, {"error": …, "exit_code": …}`)
	pf.StringVar(&a.logLevel, "log-level", "", "log level: debug, info, warn or error (default: log.level)")
	pf.StringVar(&a.logFormat, "log-format", "", "log format: text or json (default: log.format, text)")

	root.AddCommand(
		a.analyzeCmd(), a.historyCmd(), a.balanceCmd(), a.executeCmd(), a.runAgentCmd(),
		a.learningReportCmd(), a.pruneMemoryCmd(), a.backtestCmd(), a.portfolioBacktestCmd(),
		a.walkForwardCmd(), a.monteCarloCmd(), a.serveCmd(), a.configCmd(),
	)
	return root
}

// exactArgs requires n positional arguments, named in the error.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageErr(cmd, "%s takes %s; got %d argument(s)", cmd.Name(), strings.Join(names, " "), len(args))
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr(cmd, "%s takes no arguments; got %q", cmd.Name(), args[0])
	}
	return nil
}
