package sandbox

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Server is a Handler listening on a loopback port. Call Close when done.
type Server struct {
	// Handler is the sandbox the server serves: use it for the clock,
	// faults and statistics.
	Handler *Handler

	url    string
	srv    *http.Server
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup // the Serve goroutine

	mu      sync.Mutex
	closing bool
	active  sync.WaitGroup // handler calls in flight
	once    sync.Once
}

// Start serves a new Handler built with opts on 127.0.0.1 at a free port.
// The server owns one goroutine (plus net/http's per connection); Close
// stops all of them.
func Start(opts ...Option) (*Server, error) { return Listen("127.0.0.1:0", opts...) }

// Listen serves a new Handler built with opts on addr (host:port; port 0
// picks a free one), as Start does on loopback.
func Listen(addr string, opts ...Option) (*Server, error) {
	h := New(opts...)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{Handler: h, url: "http://" + ln.Addr().String(), ln: ln, cancel: cancel}
	s.srv = &http.Server{
		Handler:           s.track(h),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	// Serve returns only when Close closes the listener.
	s.wg.Go(func() { _ = s.srv.Serve(ln) })
	return s, nil
}

// track counts the handler calls in flight, so Close can wait for them.
func (s *Server) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			panic(http.ErrAbortHandler)
		}
		s.active.Add(1)
		s.mu.Unlock()
		defer s.active.Done()
		h.ServeHTTP(w, r)
	})
}

// URL returns the server's base URL, "http://127.0.0.1:<port>".
func (s *Server) URL() string { return s.url }

// BaseURL returns the base URL a provider client uses for the API under
// prefix, e.g. BaseURL("oanda") is "http://127.0.0.1:<port>/oanda".
func (s *Server) BaseURL(prefix string) string {
	return s.url + "/" + strings.Trim(prefix, "/")
}

// Close stops the server: it cancels requests in flight (slow bodies and
// latency end at once), closes the listener and every connection, and waits
// for the server's goroutines and handlers to return. It is idempotent and
// safe for concurrent use; it returns the listener's close error, if any,
// from the first call.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.cancel()
		err = s.srv.Close()
		s.wg.Wait()
		s.active.Wait()
	})
	return err
}
