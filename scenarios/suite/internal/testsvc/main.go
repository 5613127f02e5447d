// Command testsvc is a small HTTP service for testing declared scenarios:
// a process of its own, measured by PID and through its metrics.
//
// It listens on a loopback port and prints "testsvc: listening on URL".
// It serves
//
//	GET  /healthz      200
//	POST /api/orders   201; with -leak, each request also starts a goroutine
//	                   that blocks until the process exits
//	GET  /metrics      Prometheus text: the Go collector, go_goroutines and
//	                   go_gc_heap_live_bytes among its metrics
//
// It exits 0 on SIGTERM or SIGINT, after closing its listener, and exits
// by itself after -timeout so that it cannot outlive a test that forgets
// it. With -get URL it is a client instead: one GET, exit 0 on 2xx.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("testsvc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	leak := fs.Bool("leak", false, "leak a goroutine per POST /api/orders")
	timeout := fs.Duration("timeout", 2*time.Minute, "exit after this long")
	get := fs.String("get", "", "GET this URL, exit 0 on 2xx, and do nothing else")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *get != "" {
		return fetch(*get, stderr)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(stderr, "testsvc: %v\n", err)
		return 1
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsGC)))
	block := make(chan struct{}) // never closed: leaked goroutines end with the process
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("POST /api/orders", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		if *leak {
			go func() { <-block }()
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintln(w, `{"id":1}`)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "testsvc: listening on http://%s\n", ln.Addr())

	select {
	case err := <-served:
		fmt.Fprintf(stderr, "testsvc: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shutdown, done := context.WithTimeout(context.Background(), 2*time.Second)
	defer done()
	if err := srv.Shutdown(shutdown); err != nil {
		srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "testsvc: %v\n", err)
		return 1
	}
	return 0
}

// fetch GETs url and reports whether it answered 2xx.
func fetch(url string, stderr io.Writer) int {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintf(stderr, "testsvc: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		fmt.Fprintf(stderr, "testsvc: GET %s: status %d\n", url, resp.StatusCode)
		return 1
	}
	return 0
}
