package sandbox

import (
	"crypto/ecdsa"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leakgate/leakgate/providers"
)

// Credentials the sandbox knows. Any other non-empty key or token is
// accepted as valid.
const (
	// Key is the API key, token and client id the ffe CLI uses against the
	// sandbox by default. It is not a secret.
	Key = "sandbox-key"
	// RevokedKey is refused by every route with the API's real
	// unauthorized answer, for error-path tests.
	RevokedKey = "sandbox-revoked-key"
	// OandaAccountID is the account id the sandbox reports for OANDA; every
	// account id in a request path is accepted and echoed.
	OandaAccountID = "101-001-0000000-001"
)

// The path prefixes the sandbox serves, one per upstream API (two for
// Coinbase and Reddit), in the spelling BaseURL takes.
const (
	// PrefixAlphaVantage serves the Alpha Vantage query API.
	PrefixAlphaVantage = "alphavantage"
	// PrefixCoinbaseExchange serves the public Coinbase Exchange API.
	PrefixCoinbaseExchange = "coinbase-exchange"
	// PrefixCoinbase serves the Coinbase Advanced Trade API.
	PrefixCoinbase = "coinbase"
	// PrefixOANDA serves the OANDA v20 REST API.
	PrefixOANDA = "oanda"
	// PrefixPolygon serves the Polygon.io REST API.
	PrefixPolygon = "polygon"
	// PrefixFinnhub serves the Finnhub API.
	PrefixFinnhub = "finnhub"
	// PrefixYahoo serves the Yahoo Finance chart API.
	PrefixYahoo = "yahoo"
	// PrefixRedditWWW serves Reddit's OAuth token endpoint (www.reddit.com).
	PrefixRedditWWW = "reddit-www"
	// PrefixReddit serves the Reddit OAuth API (oauth.reddit.com).
	PrefixReddit = "reddit"
	// PrefixLLM serves an OpenAI-compatible chat completions API.
	PrefixLLM = "llm"
)

// Prefixes lists the path prefixes the sandbox serves, one per upstream API,
// in the spelling BaseURL takes.
var Prefixes = []string{
	PrefixAlphaVantage, PrefixCoinbaseExchange, PrefixCoinbase, PrefixOANDA, PrefixPolygon,
	PrefixFinnhub, PrefixYahoo, PrefixRedditWWW, PrefixReddit, PrefixLLM,
}

// Handler serves the embedded market data in the wire format of every
// supported API, each under its own path prefix (see Prefixes). It is safe
// for concurrent use and starts no goroutines. The zero value is not usable:
// call New.
type Handler struct {
	opts options
	data map[string]*series
	seq  atomic.Uint64 // numbers request ids, order ids and the like

	clockMu sync.Mutex
	day     time.Time // the replay clock's date; zero when not replaying

	faultMu sync.Mutex
	faults  faultState

	statsMu sync.Mutex
	stats   map[string]*PrefixStats

	coinbase coinbaseState
	oanda    oandaState
}

// Option configures a Handler.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	replay      bool
	replayStart time.Time
	step        Step
	faults      Faults
	faultHeader bool
	coinbaseKey *ecdsa.PublicKey
	now         func() time.Time
}

// Step is how the replay clock advances.
type Step int

const (
	// StepManual advances the clock only when the caller calls Tick or
	// Advance.
	StepManual Step = iota
	// StepPerQuote advances the clock after every quote request to the next
	// bar of the quoted symbol, so a price monitor polling one symbol sees a
	// new daily bar on every poll. Quote requests are: Alpha Vantage
	// GLOBAL_QUOTE and CURRENCY_EXCHANGE_RATE, Coinbase Exchange ticker,
	// OANDA pricing, Polygon last trade and previous close, Finnhub quote,
	// and Yahoo charts asked by range, or by a period of at most 14 days
	// reaching past the latest bar.
	StepPerQuote
)

// WithReplay turns on the replay clock: the sandbox's date starts at start
// (truncated to its UTC day) and every route serves only the bars up to that
// date, with quotes at the close of the latest of them. step says what
// advances the date. Without WithReplay, the date is the end of each series:
// all bars are served and quotes are the last close.
//
// A series that begins after the clock's date serves its first bar; one that
// ended before it serves all its bars and quotes its last close.
func WithReplay(start time.Time, step Step) Option {
	return optionFunc(func(o *options) {
		o.replay, o.replayStart, o.step = true, utcDate(start), step
	})
}

// WithFaults injects faults from the start; SetFaults changes them later.
func WithFaults(f Faults) Option {
	return optionFunc(func(o *options) { o.faults = f })
}

// WithFaultHeader makes the sandbox honour the X-Sandbox-Fault request
// header (429, 500, 502, 503, malformed, slow or reset), which injects that
// fault into one request whatever the configured Faults say. Off by
// default, so a client cannot trigger faults by accident.
func WithFaultHeader() Option {
	return optionFunc(func(o *options) { o.faultHeader = true })
}

// WithCoinbaseKey makes the Advanced Trade routes verify the ES256
// signature of each request's JWT with pub. Without it any well-formed,
// unexpired JWT whose uri claim matches the request is accepted.
func WithCoinbaseKey(pub *ecdsa.PublicKey) Option {
	return optionFunc(func(o *options) { o.coinbaseKey = pub })
}

// New returns a Handler serving the embedded dataset.
func New(opts ...Option) *Handler {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt.apply(&o)
	}
	data, err := dataset()
	if err != nil {
		panic(fmt.Sprintf("sandbox: embedded data does not parse (a bug in this package): %v", err))
	}
	h := &Handler{opts: o, data: data, stats: map[string]*PrefixStats{}}
	if o.replay {
		h.day = o.replayStart
	}
	h.faults.set(o.faults)
	h.coinbase.init()
	h.oanda.init()
	return h
}

// ServeHTTP implements http.Handler. A request whose context ends during
// injected latency, or that meets a reset fault on a connection that cannot
// be hijacked, is aborted with panic(http.ErrAbortHandler), which net/http
// turns into a dropped connection.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	prefix, _ := splitPrefix(r.URL.Path)
	f := h.pickFault(prefix, r.Header.Get(FaultHeader))
	if err := f.wait(r.Context()); err != nil {
		h.record(prefix, 0, "canceled")
		panic(http.ErrAbortHandler) // no answer: not an empty 200
	}
	if f.kind == faultReset {
		h.record(prefix, 0, f.kind.String())
		resetConn(w)
		return
	}
	rep := h.respond(r, f)
	h.record(prefix, rep.status, f.kind.String())
	rep.write(w, r, f)
}

// respond routes r and applies the status-replacing faults.
func (h *Handler) respond(r *http.Request, f fault) reply {
	prefix, rest := splitPrefix(r.URL.Path)
	switch f.kind {
	case fault429:
		return rateLimited(prefix, f.retryAfter)
	case fault5xx:
		return serverError(prefix, f.status)
	}
	return h.route(r, prefix, rest)
}

// splitPrefix splits "/oanda/v3/x" into "oanda" and "/v3/x".
func splitPrefix(path string) (prefix, rest string) {
	path = strings.TrimPrefix(path, "/")
	prefix, rest, _ = strings.Cut(path, "/")
	return prefix, "/" + rest
}

func (h *Handler) route(r *http.Request, prefix, rest string) reply {
	switch prefix {
	case "alphavantage":
		return h.alphavantage(r, rest)
	case "coinbase-exchange":
		return h.coinbaseExchange(r, rest)
	case "coinbase":
		return h.coinbaseAdvanced(r, rest)
	case "oanda":
		return h.oandaRoute(r, rest)
	case "polygon":
		return h.polygon(r, rest)
	case "finnhub":
		return h.finnhub(r, rest)
	case "yahoo":
		return h.yahoo(r, rest)
	case "reddit-www":
		return h.redditToken(r, rest)
	case "reddit":
		return h.reddit(r, rest)
	case "llm":
		return h.llm(r, rest)
	}
	return textReply(http.StatusNotFound, "404 page not found\n")
}

// nextID returns the next number of the handler's sequence (1, 2, …).
func (h *Handler) nextID() uint64 { return h.seq.Add(1) }

// requestID is a deterministic 32-hex-digit request id, as Polygon sends.
func (h *Handler) requestID() string {
	n := h.nextID()
	return fmt.Sprintf("%016x%016x", mix(n), mix(n^0x5bd1e995))
}

// mix is a 64-bit finaliser (splitmix64) for deterministic ids.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// credential classifies an API key or token: missing, revoked or valid.
func credential(v string) (ok, revoked bool) {
	v = strings.TrimSpace(v)
	return v != "" && v != RevokedKey, v == RevokedKey
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// Clock.

// view returns the series of a normalised symbol and how many of its bars
// are visible at the clock's date (at least one).
func (h *Handler) view(symbol string) (*series, int, bool) {
	s, ok := h.data[symbol]
	if !ok {
		return nil, 0, false
	}
	if !h.opts.replay {
		return s, len(s.bars), true
	}
	h.clockMu.Lock()
	day := h.day
	h.clockMu.Unlock()
	return s, visible(s, day), true
}

// visible is the number of bars of s dated on or before day, at least one.
func visible(s *series, day time.Time) int {
	n := s.search(day.AddDate(0, 0, 1))
	return max(n, 1)
}

// quoteIndex returns the index of the bar a quote of symbol is served from
// and, with StepPerQuote, moves the clock to the symbol's next bar.
func (h *Handler) quoteIndex(symbol string) (*series, int, bool) {
	s, ok := h.data[symbol]
	if !ok {
		return nil, 0, false
	}
	if !h.opts.replay {
		return s, len(s.bars) - 1, true
	}
	h.clockMu.Lock()
	defer h.clockMu.Unlock()
	n := visible(s, h.day)
	if h.opts.step == StepPerQuote && n < len(s.bars) {
		h.day = s.bars[n].Time
	}
	return s, n - 1, true
}

// Tick advances the replay clock by one day. Without WithReplay it does
// nothing.
func (h *Handler) Tick() { h.Advance(1) }

// Advance moves the replay clock by days (negative to go back). Without
// WithReplay it does nothing.
func (h *Handler) Advance(days int) {
	if !h.opts.replay {
		return
	}
	h.clockMu.Lock()
	h.day = h.day.AddDate(0, 0, days)
	h.clockMu.Unlock()
}

// SetDate moves the replay clock to t's UTC day. Without WithReplay it does
// nothing.
func (h *Handler) SetDate(t time.Time) {
	if !h.opts.replay {
		return
	}
	h.clockMu.Lock()
	h.day = utcDate(t)
	h.clockMu.Unlock()
}

// Date returns the sandbox's current date: the replay clock's, or without
// WithReplay the date of the latest bar of all series.
func (h *Handler) Date() time.Time {
	if h.opts.replay {
		h.clockMu.Lock()
		defer h.clockMu.Unlock()
		return h.day
	}
	var last time.Time
	for _, s := range h.data {
		if s.last().After(last) {
			last = s.last()
		}
	}
	return last
}

// Current returns the bar quotes of symbol are served from at the clock's
// date, without advancing the clock. An unknown symbol is an error matching
// providers.ErrNotFound.
func (h *Handler) Current(symbol string) (providers.Bar, error) {
	norm, _, err := providers.NormalizeSymbol(symbol)
	if err != nil {
		return providers.Bar{}, err
	}
	s, n, ok := h.view(norm)
	if !ok {
		return providers.Bar{}, fmt.Errorf("sandbox: current %s: %w", norm, providers.ErrNotFound)
	}
	return s.bars[n-1], nil
}

// Statistics.

// PrefixStats counts the requests one prefix received.
type PrefixStats struct {
	// Requests is the number of requests received.
	Requests int64 `json:"requests"`
	// ByStatus counts answers by HTTP status; 0 counts connections reset
	// and requests canceled before an answer.
	ByStatus map[int]int64 `json:"by_status"`
	// Faults counts injected faults by name: "429", "5xx", "malformed",
	// "slow", "reset", and "canceled" for requests whose context ended
	// during injected latency. Latency itself is not counted.
	Faults map[string]int64 `json:"faults,omitempty"`
}

func (h *Handler) record(prefix string, status int, faultName string) {
	if prefix == "" || !knownPrefix(prefix) {
		prefix = "other"
	}
	h.statsMu.Lock()
	defer h.statsMu.Unlock()
	st := h.stats[prefix]
	if st == nil {
		st = &PrefixStats{ByStatus: map[int]int64{}, Faults: map[string]int64{}}
		h.stats[prefix] = st
	}
	st.Requests++
	st.ByStatus[status]++
	if faultName != "" {
		st.Faults[faultName]++
	}
}

func knownPrefix(p string) bool {
	for _, x := range Prefixes {
		if x == p {
			return true
		}
	}
	return false
}

// Stats returns a copy of the request counts by prefix ("other" counts
// paths outside every prefix).
func (h *Handler) Stats() map[string]PrefixStats {
	h.statsMu.Lock()
	defer h.statsMu.Unlock()
	out := make(map[string]PrefixStats, len(h.stats))
	for k, v := range h.stats {
		out[k] = PrefixStats{Requests: v.Requests, ByStatus: maps.Clone(v.ByStatus), Faults: maps.Clone(v.Faults)}
	}
	return out
}

// ResetStats sets every count to zero.
func (h *Handler) ResetStats() {
	h.statsMu.Lock()
	h.stats = map[string]*PrefixStats{}
	h.statsMu.Unlock()
}
