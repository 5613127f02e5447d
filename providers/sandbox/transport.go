package sandbox

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
)

// Transport returns an http.RoundTripper that serves requests with h in
// the caller's goroutine, without sockets, whatever their host: give it to
// a client with providers.WithTransport and the client's base URL's path
// prefix picks the API (for example "http://sandbox/oanda"). It starts no
// goroutines and needs no Close.
//
// Faults apply as over a socket, except that a reset fails the round trip
// with an error matching syscall.ECONNRESET, and a slow body trickles out
// as the caller reads it. The request's context is honoured while the
// fault latency elapses and while a slow body is read.
func (h *Handler) Transport() http.RoundTripper { return transport{h} }

type transport struct{ h *Handler }

// RoundTrip implements http.RoundTripper.
func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	h := t.h
	ctx := req.Context()
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("sandbox: read request body: %w", err)
		}
	}
	prefix, rest := splitPrefix(req.URL.Path)
	f := h.faults.pick(prefix, req.Header.Get(FaultHeader))
	if err := f.wait(ctx); err != nil {
		h.record(prefix, 0, "canceled")
		return nil, err
	}
	if f.kind == faultReset {
		h.record(prefix, 0, f.kind.String())
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	}
	r := req.WithContext(ctx) // a shallow copy the handler may read
	r.Body = io.NopCloser(bytes.NewReader(body))
	if r.Host == "" {
		r.Host = req.URL.Host
	}
	rep := h.respond(r, prefix, rest, f)
	h.record(prefix, rep.status, f.kind.String())
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := rep.deliveredBody(f)
	resp := &http.Response{
		Status:        fmt.Sprintf("%d %s", rep.status, http.StatusText(rep.status)),
		StatusCode:    rep.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        make(http.Header, 2+len(rep.header)),
		ContentLength: int64(len(out)),
		Request:       req,
	}
	rep.headers(resp.Header, len(out))
	switch {
	case req.Method == http.MethodHead:
		resp.Body = http.NoBody
	case f.kind == faultSlow:
		resp.Body = &slowBody{ctx: ctx, rest: out, chunk: f.chunk, interval: f.interval}
	default:
		resp.Body = io.NopCloser(bytes.NewReader(out))
	}
	return resp, nil
}
