package sandbox

import (
	"crypto/ecdsa"
	"fmt"
	"net/http"
	"strings"
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

// Handler routes each request by its path prefix to the venue that serves
// that upstream API (see Prefixes), after the fault injection and request
// statistics every venue shares. It is safe for concurrent use and starts
// no goroutines. The zero value is not usable: call New.
type Handler struct {
	core   *core
	venues map[string]venue // by prefix
	faults faultInjector
	stats  statsByPrefix
}

// venue serves one upstream API in its wire format, under one prefix.
type venue interface {
	// route answers a request; rest is its path after the prefix, "/…".
	// The router calls it on the concrete type (see the route function),
	// so a new venue type needs a case there too.
	route(r *http.Request, rest string) reply
	// tooManyRequests is the API's rate-limit answer (status 429), to which
	// the router adds Retry-After.
	tooManyRequests() reply
	// internalError is the API's answer to an internal error (status 500).
	internalError() reply
}

// newVenues builds one venue per prefix over the shared core.
func newVenues(c *core) map[string]venue {
	return map[string]venue{
		PrefixAlphaVantage:     &alphavantageVenue{c},
		PrefixCoinbaseExchange: &coinbaseExchangeVenue{c},
		PrefixCoinbase:         newCoinbaseVenue(c),
		PrefixOANDA:            newOandaVenue(c),
		PrefixPolygon:          &polygonVenue{c},
		PrefixFinnhub:          &finnhubVenue{c},
		PrefixYahoo:            &yahooVenue{c},
		PrefixRedditWWW:        redditWWWVenue{},
		PrefixReddit:           redditVenue{},
		PrefixLLM:              &llmVenue{c},
	}
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
	c := newCore(o, data)
	h := &Handler{core: c, venues: newVenues(c)}
	h.faults.header = o.faultHeader
	h.faults.set(o.faults)
	return h
}

// ServeHTTP implements http.Handler. A request whose context ends during
// injected latency, or that meets a reset fault on a connection that cannot
// be hijacked, is aborted with panic(http.ErrAbortHandler), which net/http
// turns into a dropped connection.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	prefix, rest := splitPrefix(r.URL.Path)
	f := h.faults.pick(prefix, r.Header.Get(FaultHeader))
	if err := f.wait(r.Context()); err != nil {
		h.record(prefix, 0, "canceled")
		panic(http.ErrAbortHandler) // no answer: not an empty 200
	}
	if f.kind == faultReset {
		h.record(prefix, 0, f.kind.String())
		resetConn(w)
		return
	}
	rep := h.respond(r, prefix, rest, f)
	h.record(prefix, rep.status, f.kind.String())
	rep.write(w, r, f)
}

// respond routes r to the venue of prefix, or answers for it the
// status-replacing faults.
func (h *Handler) respond(r *http.Request, prefix, rest string, f fault) reply {
	v := h.venues[prefix]
	switch f.kind {
	case fault429:
		return rateLimited(v, f.retryAfter)
	case fault5xx:
		return serverError(v, f.status)
	}
	if v == nil {
		return textReply(http.StatusNotFound, "404 page not found\n")
	}
	return route(v, r, rest)
}

// route calls v's route method. It calls it on each concrete type rather
// than through the interface: through the interface the request would
// escape to the heap, costing every in-process request (Transport) an
// allocation of its copy. A venue type missing here is a bug that
// TestRouterHasOneVenuePerPrefix catches.
func route(v venue, r *http.Request, rest string) reply {
	switch v := v.(type) {
	case *alphavantageVenue:
		return v.route(r, rest)
	case *coinbaseExchangeVenue:
		return v.route(r, rest)
	case *coinbaseVenue:
		return v.route(r, rest)
	case *oandaVenue:
		return v.route(r, rest)
	case *polygonVenue:
		return v.route(r, rest)
	case *finnhubVenue:
		return v.route(r, rest)
	case *yahooVenue:
		return v.route(r, rest)
	case redditWWWVenue:
		return v.route(r, rest)
	case redditVenue:
		return v.route(r, rest)
	case *llmVenue:
		return v.route(r, rest)
	}
	panic(fmt.Sprintf("sandbox: the router cannot call venue %T (a bug in this package)", v))
}

// splitPrefix splits "/oanda/v3/x" into "oanda" and "/v3/x".
func splitPrefix(path string) (prefix, rest string) {
	path = strings.TrimPrefix(path, "/")
	prefix, rest, _ = strings.Cut(path, "/")
	return prefix, "/" + rest
}

// record counts a request under its prefix, or under "other" when no venue
// serves the prefix.
func (h *Handler) record(prefix string, status int, faultName string) {
	if h.venues[prefix] == nil {
		prefix = "other"
	}
	h.stats.record(prefix, status, faultName)
}

// Stats returns a copy of the request counts by prefix ("other" counts
// paths outside every prefix).
func (h *Handler) Stats() map[string]PrefixStats { return h.stats.snapshot() }

// ResetStats sets every count to zero.
func (h *Handler) ResetStats() { h.stats.reset() }

// Tick advances the replay clock by one day. Without WithReplay it does
// nothing.
func (h *Handler) Tick() { h.core.advance(1) }

// Advance moves the replay clock by days (negative to go back). Without
// WithReplay it does nothing.
func (h *Handler) Advance(days int) { h.core.advance(days) }

// SetDate moves the replay clock to t's UTC day. Without WithReplay it does
// nothing.
func (h *Handler) SetDate(t time.Time) { h.core.setDate(t) }

// Date returns the sandbox's current date: the replay clock's, or without
// WithReplay the date of the latest bar of all series.
func (h *Handler) Date() time.Time { return h.core.date() }

// Current returns the bar quotes of symbol are served from at the clock's
// date, without advancing the clock. An unknown symbol is an error matching
// providers.ErrNotFound.
func (h *Handler) Current(symbol string) (providers.Bar, error) { return h.core.current(symbol) }
