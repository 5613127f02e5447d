// Command exportd serves the export API over the recorded sandbox, with
// its database and export directory given by flags. It is the process the
// crash and shutdown tests of package server kill or signal mid-job and
// start again; it prints "listening <addr>" on stdout once it accepts
// connections, and on SIGINT or SIGTERM shuts down gracefully and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/leakgate/leakgate/engine/export/exporttest"
	"github.com/leakgate/leakgate/engine/server"
	"github.com/leakgate/leakgate/engine/service"
	"github.com/leakgate/leakgate/engine/store"
	"github.com/leakgate/leakgate/providers/sandbox"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("exportd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", "", "SQLite database file (required)")
	dir := fs.String("dir", "", "export directory (required)")
	addr := fs.String("addr", "127.0.0.1:0", "API listen address")
	token := fs.String("token", "", "API bearer token")
	latency := fs.Duration("latency", 0, "delay added to every sandbox answer")
	maxAttempts := fs.Int("max-attempts", 3, "starts of an interrupted job before it fails")
	workers := fs.Int("workers", 2, "jobs run at once")
	shutdown := fs.Duration("shutdown-timeout", 5*time.Second, "how long running jobs may finish after SIGINT or SIGTERM")
	concurrency := fs.Int("symbol-concurrency", 1, "symbols one job fetches at once")
	market := fs.String("market-date", "2017-01-01", "the date relative ranges end at")
	logFormat := fs.String("log-format", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dbPath == "" || *dir == "" {
		fmt.Fprintln(stderr, "exportd: -db and -dir are required")
		return 2
	}
	marketNow, err := time.Parse(time.DateOnly, *market)
	if err != nil {
		fmt.Fprintf(stderr, "exportd: -market-date: %v\n", err)
		return 2
	}
	logger, err := server.NewLogger(stderr, *logFormat, "info")
	if err != nil {
		fmt.Fprintf(stderr, "exportd: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = serve(ctx, stdout, options{db: *dbPath, dir: *dir, addr: *addr, token: *token, latency: *latency,
		maxAttempts: *maxAttempts, workers: *workers, shutdown: *shutdown, concurrency: *concurrency, marketNow: marketNow}, logger)
	if err != nil {
		fmt.Fprintf(stderr, "exportd: %v\n", err)
		return 1
	}
	return 0
}

type options struct {
	db, dir, addr, token string
	latency              time.Duration
	maxAttempts          int
	workers              int
	shutdown             time.Duration
	concurrency          int
	marketNow            time.Time
}

func serve(ctx context.Context, stdout io.Writer, o options, logger *slog.Logger) (err error) {
	h := sandbox.New(sandbox.WithFaults(sandbox.Faults{Latency: o.latency}))
	metrics := server.NewMetrics()
	env, err := exporttest.New(exporttest.Config{BaseURL: exporttest.InProcess, Transport: h.Transport(),
		Observer: metrics.ObserveProviderRequest})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, env.Close()) }()
	db, err := store.Open(ctx, o.db)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()

	svc, err := service.New(service.Config{
		ExportDir:         o.dir,
		Watchlist:         []string{"AAPL", "SPY", "BTC-USD", "EUR_USD"},
		MaxAttempts:       o.maxAttempts,
		Workers:           o.workers,
		SymbolConcurrency: o.concurrency,
		MonitorOff:        true,
		Subreddits:        []string{"wallstreetbets"},
	}, service.Deps{MarketData: env.MarketData, Posts: env.Posts, DB: db, JobObserver: metrics.ObserveJob,
		Logger: logger, MarketClock: func() time.Time { return o.marketNow }})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, svc.Close()) }()
	s, err := server.New(server.Config{Token: o.token, ShutdownTimeout: o.shutdown}, svc,
		server.Deps{Metrics: metrics, Logger: logger})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Close()) }()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening %s\n", ln.Addr())
	return s.Serve(ctx, ln)
}
