package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Content types as the real APIs send them.
const (
	ctJSON        = "application/json"
	ctJSONCharset = "application/json; charset=utf-8"
	ctYahoo       = "application/json;charset=utf-8"
	ctReddit      = "application/json; charset=UTF-8"
	ctText        = "text/plain; charset=utf-8"
	ctHTML        = "text/html"
)

// reply is a complete answer before delivery; faults may alter how it is
// delivered.
type reply struct {
	status int
	ctype  string
	header http.Header // extra headers; may be nil
	body   []byte
}

func bodyReply(status int, ctype string, body []byte) reply {
	return reply{status: status, ctype: ctype, body: body}
}

func textReply(status int, text string) reply {
	return reply{status: status, ctype: ctText, body: []byte(text)}
}

// jsonValue marshals v (a value of the package's own types, which always
// marshal).
func jsonValue(status int, ctype string, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic("sandbox: marshal reply (a bug in this package): " + err.Error())
	}
	return reply{status: status, ctype: ctype, body: b}
}

// withHeader returns rep with one more header.
func (rep reply) withHeader(k, v string) reply {
	if rep.header == nil {
		rep.header = http.Header{}
	}
	rep.header.Set(k, v)
	return rep
}

// deliveredBody is the body as the fault lets it out: truncated for
// malformed answers.
func (rep *reply) deliveredBody(f fault) []byte {
	if f.kind == faultMalformed && len(rep.body) > 1 {
		return rep.body[:len(rep.body)/2]
	}
	return rep.body
}

// headers fills h with the reply's headers for a body of n bytes.
func (rep *reply) headers(h http.Header, n int) {
	for k, vs := range rep.header {
		h[k] = vs
	}
	if rep.ctype != "" {
		h.Set("Content-Type", rep.ctype)
	}
	h.Set("Content-Length", strconv.Itoa(n))
}

// write sends the reply over a real connection.
func (rep reply) write(w http.ResponseWriter, r *http.Request, f fault) {
	body := rep.deliveredBody(f)
	rep.headers(w.Header(), len(body))
	w.WriteHeader(rep.status)
	if r.Method == http.MethodHead {
		return
	}
	if f.kind != faultSlow {
		_, _ = w.Write(body)
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	sb := &slowBody{ctx: r.Context(), rest: body, chunk: f.chunk, interval: f.interval}
	buf := make([]byte, f.chunk)
	for {
		n, err := sb.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// slowBody hands out rest a chunk at a time, waiting interval before each
// chunk. It stops with the context's error when ctx is done, and needs no
// goroutine: the reader's own goroutine waits.
type slowBody struct {
	ctx      context.Context
	rest     []byte
	chunk    int
	interval time.Duration
	closed   atomic.Bool // Close may race with Read
}

func (s *slowBody) Read(p []byte) (int, error) {
	if s.closed.Load() {
		return 0, io.ErrClosedPipe
	}
	if len(s.rest) == 0 {
		return 0, io.EOF
	}
	t := time.NewTimer(s.interval)
	select {
	case <-s.ctx.Done():
		t.Stop()
		return 0, s.ctx.Err()
	case <-t.C:
	}
	n := min(len(p), s.chunk, len(s.rest))
	copy(p, s.rest[:n])
	s.rest = s.rest[n:]
	return n, nil
}

func (s *slowBody) Close() error {
	s.closed.Store(true)
	return nil
}
