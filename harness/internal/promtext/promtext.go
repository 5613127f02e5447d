// Package promtext scrapes a few gauges from a Prometheus text-format
// metrics endpoint.
//
// A Scraper keeps one HTTP/1.1 connection to the endpoint and does all its
// work in the calling goroutine: it starts no goroutines that could outlive
// a call, so it is safe under goleak. Keeping one connection open matters
// when the scraped process is also the one being measured: a connection
// per scrape would come and go in its descriptor table (Go servers hold a
// closed connection for half a second), where one kept connection is a
// constant.
package promtext

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// DefaultTimeout bounds one scrape when the context has no deadline.
const DefaultTimeout = 5 * time.Second

// Scraper reads gauges from one metrics URL. It is not safe for concurrent
// use. Call Close when done.
type Scraper struct {
	url  *url.URL
	req  *http.Request
	conn net.Conn
	br   *bufio.Reader
	body bytes.Buffer
}

// New returns a Scraper for an http or https URL.
func New(rawURL string) (*Scraper, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("metrics url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("metrics url %q: scheme must be http or https", rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("metrics url %q: no host", rawURL)
	}
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("metrics url: %w", err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	req.Header.Set("User-Agent", "leakgate-harness")
	return &Scraper{url: u, req: req}, nil
}

// LocalAddr returns the local address of the kept connection, or "" when
// none is open. The scraped process sees it as the remote address.
func (s *Scraper) LocalAddr() string {
	if s.conn == nil {
		return ""
	}
	return s.conn.LocalAddr().String()
}

// Close closes the kept connection.
func (s *Scraper) Close() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn, s.br = nil, nil
	return err
}

// Scrape fetches the endpoint and stores in out[i] the value of the first
// sample named names[i], or NaN when the endpoint has none.
func (s *Scraper) Scrape(ctx context.Context, names []string, out []float64) error {
	if len(out) < len(names) {
		return errors.New("promtext: out shorter than names")
	}
	reused := s.conn != nil
	err := s.fetch(ctx)
	if err != nil && reused && ctx.Err() == nil {
		// The server may have closed the idle connection.
		err = s.fetch(ctx)
	}
	if err != nil {
		return fmt.Errorf("scrape %s: %w", s.url.Redacted(), err)
	}
	return Parse(s.body.Bytes(), names, out)
}

func (s *Scraper) fetch(ctx context.Context) (err error) {
	if s.conn == nil {
		if err := s.dial(ctx); err != nil {
			return err
		}
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultTimeout)
	}
	if err := s.conn.SetDeadline(deadline); err != nil {
		return err
	}
	conn := s.conn
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := s.req.Write(s.conn); err != nil {
		return err
	}
	resp, err := http.ReadResponse(s.br, s.req)
	if err != nil {
		return err
	}
	s.body.Reset()
	_, err = io.Copy(&s.body, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	if resp.Close {
		s.Close()
	}
	return nil
}

func (s *Scraper) dial(ctx context.Context) error {
	host := s.url.Host
	if s.url.Port() == "" {
		port := "80"
		if s.url.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(s.url.Hostname(), port)
	}
	var d net.Dialer
	if _, ok := ctx.Deadline(); !ok {
		d.Timeout = DefaultTimeout
	}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return err
	}
	if s.url.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: s.url.Hostname()})
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return err
		}
		conn = tc
	}
	s.conn, s.br = conn, bufio.NewReader(conn)
	return nil
}

// Parse reads the Prometheus text exposition format and stores in out[i]
// the value of the first sample named names[i] (labels are ignored), or
// NaN when there is none.
func Parse(data []byte, names []string, out []float64) error {
	for i := range names {
		out[i] = math.NaN()
	}
	found := 0
	for n := 1; len(data) > 0 && found < len(names); n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		end := bytes.IndexAny(line, "{ \t")
		if end < 0 {
			return fmt.Errorf("parse metrics line %d: no value in %q", n, line)
		}
		name := line[:end]
		idx := -1
		for i, want := range names {
			if string(name) == want {
				idx = i
			}
		}
		if idx < 0 || !math.IsNaN(out[idx]) {
			continue
		}
		rest := line[end:]
		if rest[0] == '{' {
			closing := labelsEnd(rest)
			if closing < 0 {
				return fmt.Errorf("parse metrics line %d: unterminated labels in %q", n, line)
			}
			rest = rest[closing+1:]
		}
		fields := bytes.Fields(rest)
		if len(fields) == 0 {
			return fmt.Errorf("parse metrics line %d: no value in %q", n, line)
		}
		v, err := strconv.ParseFloat(string(fields[0]), 64)
		if err != nil {
			return fmt.Errorf("parse metrics line %d: value of %s: %w", n, name, err)
		}
		out[idx] = v
		found++
	}
	return nil
}

// labelsEnd returns the index of the '}' closing a label set that starts
// at b[0], skipping quoted values with escapes.
func labelsEnd(b []byte) int {
	quoted := false
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == '}':
			return i
		}
	}
	return -1
}
