package scenarios

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/leakgate/leakgate/engine"
	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/sandbox"
)

// MockURL is the base URL of the sandbox in mock mode. No such host
// exists: httpmock answers every request to it, and nothing else.
const MockURL = "http://sandbox.mock"

// ErrUnmocked matches the error of a request in mock mode that no
// responder matched. Test with errors.Is.
var ErrUnmocked = errors.New("unmocked request")

// Market is the market-data and trading backend of one mode: the recorded
// sandbox behind httpmock (Mock), or served on a loopback port (Live).
// Scenarios point the engine or a provider at it and drive its clock and
// faults through Sandbox. Call Close when done.
type Market struct {
	mode    Mode
	handler *sandbox.Handler
	srv     *sandbox.Server         // Live
	mock    *httpmock.MockTransport // Mock

	mu       sync.Mutex
	unmocked []string // "GET http://…", the first few
	nUnmock  int
}

// maxUnmockedKept bounds the unmocked requests a Market remembers.
const maxUnmockedKept = 5

// replayStart is the replay clock's date when a scenario sets none: after
// every recording ends, so everything recorded is served.
var replayStart = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// OpenMarket starts the backend of mode. The sandbox replays its
// recordings with a manual clock (SetDate); opts add faults and the like.
func OpenMarket(mode Mode, opts ...sandbox.Option) (*Market, error) {
	opts = append([]sandbox.Option{sandbox.WithReplay(replayStart, sandbox.StepManual)}, opts...)
	m := &Market{mode: mode}
	switch mode {
	case Mock:
		m.handler = sandbox.New(opts...)
		m.mock = httpmock.NewMockTransport()
		// One responder per API prefix the sandbox serves, answered from
		// the recorded data; anything else is unmocked.
		re := regexp.MustCompile(`^` + regexp.QuoteMeta(MockURL) + `/(` + strings.Join(sandbox.Prefixes, "|") + `)(/|\?|$)`)
		rt := m.handler.Transport()
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodPut} {
			m.mock.RegisterRegexpResponder(method, re, rt.RoundTrip)
		}
		m.mock.RegisterNoResponder(m.noResponder)
	case Live:
		srv, err := sandbox.Start(opts...)
		if err != nil {
			return nil, fmt.Errorf("start the sandbox on loopback: %w", err)
		}
		m.srv, m.handler = srv, srv.Handler
	default:
		return nil, fmt.Errorf("mode %q: want mock or live", mode)
	}
	return m, nil
}

func (m *Market) noResponder(req *http.Request) (*http.Response, error) {
	desc := req.Method + " " + req.URL.String()
	m.mu.Lock()
	m.nUnmock++
	if len(m.unmocked) < maxUnmockedKept {
		m.unmocked = append(m.unmocked, desc)
	}
	m.mu.Unlock()
	return nil, fmt.Errorf("%w: %s", ErrUnmocked, desc)
}

// Mode returns the market's mode.
func (m *Market) Mode() Mode { return m.mode }

// Sandbox returns the sandbox that answers: its clock, faults and
// statistics.
func (m *Market) Sandbox() *sandbox.Handler { return m.handler }

// URL is the base URL to point clients at: MockURL, or the loopback
// server's URL. A provider's base URL is URL()+"/"+prefix.
func (m *Market) URL() string {
	if m.srv != nil {
		return m.srv.URL()
	}
	return MockURL
}

// Transport is the round tripper clients must use: httpmock's in Mock
// mode, nil (each client's own) in Live mode.
func (m *Market) Transport() http.RoundTripper {
	if m.mock != nil {
		return m.mock
	}
	return nil
}

// EngineOptions are the engine options that route every provider through
// Transport.
func (m *Market) EngineOptions() []engine.Option {
	if m.mock != nil {
		return []engine.Option{engine.WithTransport(m.mock)}
	}
	return nil
}

// Env is the ffe environment that points the engine at the market: live
// data source at URL.
func (m *Market) Env() map[string]string {
	return map[string]string{"FFE_DATA_SOURCE": "live", "FFE_DATA_SANDBOX_URL": m.URL()}
}

// SetDate replays the recordings as of day (YYYY-MM-DD); "" serves
// everything recorded.
func (m *Market) SetDate(day string) error {
	if day == "" {
		m.handler.SetDate(replayStart)
		return nil
	}
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return fmt.Errorf("sandbox date %q: %w", day, err)
	}
	m.handler.SetDate(d)
	return nil
}

// Err returns an error naming the requests no mock answered since the last
// call, or nil; it matches ErrUnmocked. Scenarios call it after every
// iteration, so that an unmocked request fails the scenario even when the
// code under test swallowed the request's error.
func (m *Market) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.nUnmock == 0 {
		return nil
	}
	err := fmt.Errorf("%w: %d request(s) had no responder: %s", ErrUnmocked, m.nUnmock, strings.Join(m.unmocked, ", "))
	m.nUnmock, m.unmocked = 0, nil
	return err
}

// Close stops the loopback server, if any. It is idempotent.
func (m *Market) Close() error {
	if m.srv != nil {
		return m.srv.Close()
	}
	return nil
}

// clientProbes are the options of every scenario that builds provider
// clients: the unclosed-client counter, and the clients open now, which
// must be back at their baseline at the end.
func clientProbes() []harness.Option {
	return []harness.Option{
		harness.WithProbes(
			harness.Unclosed(providers.Unclosed),
			harness.Gauge("open_clients", func() float64 { return float64(providers.OpenClients()) }),
		),
		harness.WithThreshold("open_clients", "delta<=0"),
	}
}
