package sandbox

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// FaultHeader is the request header that injects one fault into one request
// when the Handler was built with WithFaultHeader. Its values: "429", "500",
// "502", "503", "malformed", "slow", "reset".
const FaultHeader = "X-Sandbox-Fault"

// Chance is the probability P (0 to 1) of a fault per request, limited to
// the requests under Prefix ("oanda", "coinbase-exchange", …; empty means
// every prefix).
type Chance struct {
	P      float64
	Prefix string
}

func (c Chance) applies(prefix string) bool {
	return c.P > 0 && (c.Prefix == "" || c.Prefix == prefix)
}

// Faults describes the faults the sandbox injects. For every request one
// random draw from a generator seeded with Seed decides which fault, if any,
// it gets, so a given sequence of requests meets the same faults on every
// run. The chances are tried in the order Reset, RateLimit, ServerError,
// Malformed, Slow; if they add up to more than one, the later ones get what
// is left. The zero value injects nothing.
type Faults struct {
	// Seed seeds the generator; requests draw from it in arrival order.
	Seed uint64

	// Latency is added before every answer under LatencyPrefix (all
	// prefixes when empty), plus up to LatencyJitter more.
	Latency       time.Duration
	LatencyJitter time.Duration
	LatencyPrefix string

	// RateLimit answers HTTP 429 with a Retry-After of RetryAfter (rounded
	// up to whole seconds; one second when zero) and the API's rate-limit
	// body.
	RateLimit  Chance
	RetryAfter time.Duration

	// ServerError answers ServerStatus (500, 502 or 503; when zero each of
	// them in turn at random): 500 with the API's error body, 502 and 503
	// with the HTML page of a gateway in front of it.
	ServerError  Chance
	ServerStatus int

	// Malformed sends the real answer cut to half its length, with a
	// Content-Length that matches the cut body: truncated JSON.
	Malformed Chance

	// Slow sends the headers at once and then the body SlowChunk bytes
	// (16 when zero) every SlowInterval (50ms when zero), until the body
	// ends or the request is canceled.
	Slow         Chance
	SlowChunk    int
	SlowInterval time.Duration

	// Reset closes the connection without an answer: over a socket the
	// connection is hijacked and closed with a TCP reset (where hijacking is
	// impossible, the handler panics with http.ErrAbortHandler); through
	// Transport the round trip fails with a connection-reset error.
	Reset Chance
}

type faultKind int

const (
	faultNone faultKind = iota
	faultReset
	fault429
	fault5xx
	faultMalformed
	faultSlow
)

func (k faultKind) String() string {
	return [...]string{"", "reset", "429", "5xx", "malformed", "slow"}[k]
}

// fault is what one request gets.
type fault struct {
	kind       faultKind
	delay      time.Duration
	retryAfter time.Duration
	status     int
	chunk      int
	interval   time.Duration
}

// wait sleeps the fault's delay, or until ctx is done.
func (f fault) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.delay <= 0 {
		return nil
	}
	t := time.NewTimer(f.delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// faultInjector decides each request's fault from the configured Faults
// and its seeded generator. It is safe for concurrent use.
type faultInjector struct {
	header bool // honour FaultHeader

	mu  sync.Mutex
	cfg Faults
	rng *rand.Rand
}

// set replaces the faults and reseeds the generator with f.Seed.
func (fi *faultInjector) set(f Faults) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	fi.cfg = f
	fi.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x6a09e667f3bcc909))
}

// get returns the faults currently injected.
func (fi *faultInjector) get() Faults {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	return fi.cfg
}

// SetFaults replaces the faults injected from now on and reseeds the
// generator with f.Seed.
func (h *Handler) SetFaults(f Faults) { h.faults.set(f) }

// Faults returns the faults currently injected.
func (h *Handler) Faults() Faults { return h.faults.get() }

// pick decides the fault of one request under prefix; header is the
// value of its X-Sandbox-Fault header.
func (fi *faultInjector) pick(prefix, header string) fault {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	cfg := fi.cfg
	rng := fi.rng
	f := fault{
		retryAfter: cfg.RetryAfter,
		status:     cfg.ServerStatus,
		chunk:      cfg.SlowChunk,
		interval:   cfg.SlowInterval,
	}
	if f.retryAfter <= 0 {
		f.retryAfter = time.Second
	}
	if f.chunk <= 0 {
		f.chunk = 16
	}
	if f.interval <= 0 {
		f.interval = 50 * time.Millisecond
	}
	if cfg.Latency > 0 && (cfg.LatencyPrefix == "" || cfg.LatencyPrefix == prefix) {
		f.delay = cfg.Latency
		if cfg.LatencyJitter > 0 {
			f.delay += time.Duration(rng.Int64N(int64(cfg.LatencyJitter) + 1))
		}
	}
	if fi.header && header != "" {
		f.kind, f.status = headerFault(header, f.status)
		if f.kind == fault5xx && f.status == 0 {
			f.status = http.StatusInternalServerError
		}
		return f
	}
	chances := [...]struct {
		c    Chance
		kind faultKind
	}{
		{cfg.Reset, faultReset}, {cfg.RateLimit, fault429}, {cfg.ServerError, fault5xx},
		{cfg.Malformed, faultMalformed}, {cfg.Slow, faultSlow},
	}
	inScope := false
	for _, c := range chances {
		inScope = inScope || c.c.applies(prefix)
	}
	if !inScope {
		return f
	}
	u := rng.Float64()
	for _, c := range chances {
		if !c.c.applies(prefix) {
			continue
		}
		if u < c.c.P {
			f.kind = c.kind
			break
		}
		u -= c.c.P
	}
	if f.kind == fault5xx && f.status == 0 {
		f.status = [...]int{500, 502, 503}[rng.IntN(3)]
	}
	return f
}

// headerFault maps an X-Sandbox-Fault value to a fault.
func headerFault(v string, status int) (faultKind, int) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "429":
		return fault429, status
	case "500", "5xx":
		return fault5xx, http.StatusInternalServerError
	case "502":
		return fault5xx, http.StatusBadGateway
	case "503":
		return fault5xx, http.StatusServiceUnavailable
	case "malformed":
		return faultMalformed, status
	case "slow":
		return faultSlow, status
	case "reset":
		return faultReset, status
	}
	return faultNone, status
}

// resetConn drops the connection behind w without an answer.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // close with RST, not FIN
	}
	_ = conn.Close()
}

// retryAfterSeconds spells d as a Retry-After value: whole seconds, at
// least one.
func retryAfterSeconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return fmt.Sprint(max(s, 1))
}

// rateLimited is the rate-limit answer of v, or of no venue when v is
// nil, with status 429 and a Retry-After of retryAfter.
func rateLimited(v venue, retryAfter time.Duration) reply {
	rep := textReply(http.StatusTooManyRequests, "429 Too Many Requests\n")
	if v != nil {
		rep = v.tooManyRequests()
	}
	return rep.withHeader("Retry-After", retryAfterSeconds(retryAfter))
}

const gatewayPage = "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

// gatewayError is the HTML page a gateway in front of an API answers with
// status.
func gatewayError(status int) reply {
	text := http.StatusText(status)
	return bodyReply(status, ctHTML, fmt.Appendf(nil, gatewayPage, status, text, status, text))
}

// serverError is the answer of v (nil for no venue) with a 5xx status: the
// API's error JSON for 500, a gateway's HTML page for 502 and 503.
func serverError(v venue, status int) reply {
	if status != http.StatusInternalServerError || v == nil {
		return gatewayError(status)
	}
	return v.internalError()
}
