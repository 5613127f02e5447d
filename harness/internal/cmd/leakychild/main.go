// Command leakychild is a process that leaks on command, for testing the
// harness against an external target.
//
// It reads one command per line on standard input and answers "ok" (or
// "error: ...") on standard output:
//
//	fd            open /dev/null and keep it
//	fd-close      open /dev/null and close it
//	conn ADDR     connect to the TCP address ADDR and keep the connection
//	conn-close ADDR  connect to ADDR and close the connection
//	goroutine     start a goroutine that blocks until exit
//	heap N        allocate N bytes in leakHeap and keep them
//	heap-drop N   allocate N bytes and drop them
//	exit          exit at once
//
// With -metrics it first serves Prometheus metrics (the Go collector) on a
// loopback port and prints "metrics URL"; otherwise it prints "ready". With
// -pprof it also serves net/http/pprof on that port (or on one of its own
// without -metrics) and then prints "pprof URL", the index. It
// exits at end of input, on "exit", or after -timeout, so it cannot outlive
// a test that forgets it.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// leaked holds what the heap command keeps.
var leaked [][]byte

// leakHeap allocates n bytes and keeps them: the allocation site that a
// heap finding must name.
//
//go:noinline
func leakHeap(n int) {
	leaked = append(leaked, make([]byte, n))
}

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("leakychild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	metrics := fs.Bool("metrics", false, "serve Prometheus metrics on a loopback port")
	pprofIndex := fs.Bool("pprof", false, "serve net/http/pprof on a loopback port")
	timeout := fs.Duration("timeout", 2*time.Minute, "exit after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	time.AfterFunc(*timeout, func() { os.Exit(3) })

	if *metrics || *pprofIndex {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintf(stderr, "leakychild: %v\n", err)
			return 1
		}
		mux := http.NewServeMux()
		if *metrics {
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsGC)))
			mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		}
		if *pprofIndex {
			mux.HandleFunc("/debug/pprof/", pprof.Index)
		}
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln) // ends with the process
		if *metrics {
			fmt.Fprintf(stdout, "metrics http://%s/metrics\n", ln.Addr())
		} else {
			fmt.Fprintln(stdout, "ready")
		}
		if *pprofIndex {
			fmt.Fprintf(stdout, "pprof http://%s/debug/pprof/\n", ln.Addr())
		}
	} else {
		fmt.Fprintln(stdout, "ready")
	}

	// One collection, so that go_gc_heap_live_bytes is known from the
	// start rather than after the first 4 MiB.
	runtime.GC()

	var held []io.Closer
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	block := make(chan struct{})
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		var err error
		switch cmd {
		case "fd", "fd-close":
			var f *os.File
			if f, err = os.Open(os.DevNull); err == nil {
				if cmd == "fd" {
					held = append(held, f)
				} else {
					err = f.Close()
				}
			}
		case "conn", "conn-close":
			var c net.Conn
			if c, err = net.DialTimeout("tcp", arg, 5*time.Second); err == nil {
				if cmd == "conn" {
					held = append(held, c)
				} else {
					err = c.Close()
				}
			}
		case "heap", "heap-drop":
			var n int
			if n, err = strconv.Atoi(arg); err == nil && n < 0 {
				err = errors.New("negative size " + arg)
			}
			if err == nil && cmd == "heap" {
				leakHeap(n)
			} else if err == nil {
				runtime.KeepAlive(make([]byte, n))
			}
		case "goroutine":
			go func() { <-block }()
		case "exit":
			return 0
		default:
			err = errors.New("unknown command " + cmd)
		}
		if err != nil {
			fmt.Fprintf(stdout, "error: %v\n", err)
			continue
		}
		fmt.Fprintln(stdout, "ok")
	}
	return 0
}
