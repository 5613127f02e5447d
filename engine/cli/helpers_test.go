package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/engine"
	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/sandbox"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// openClientsMetric is the name of openClientsProbe's metric.
const openClientsMetric = "open_clients"

// openClientsProbe is the harness probe of providers.OpenClients: the
// provider clients made and not yet closed.
func openClientsProbe() harness.Probe {
	return harness.Gauge(openClientsMetric, func() float64 { return float64(providers.OpenClients()) })
}

// measureOpen takes a harness snapshot of the process, open provider
// clients included.
func measureOpen(t testing.TB) harness.Snapshot {
	t.Helper()
	s, err := harness.Measure(t.Context(), harness.WithProbes(openClientsProbe()))
	require.NoError(t, err)
	return s
}

// settleOpen takes snapshots until the open descriptors and provider
// clients are back to base's or within has passed, and returns the last:
// a one-shot check, where harness.Check's repetition does not apply.
func settleOpen(t testing.TB, base harness.Snapshot, within time.Duration) harness.Snapshot {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s := measureOpen(t)
		back := s.FDs <= base.FDs && s.Gauges[openClientsMetric] <= base.Gauges[openClientsMetric]
		if back || time.Now().After(deadline) {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Data modes the end-to-end tests run in.
const (
	// modeSandbox is the default configuration: the in-process sandbox.
	modeSandbox = "sandbox"
	// modeHTTPMock runs live mode against http://sandbox.mock through an
	// httpmock transport whose fallback responder is a sandbox handler.
	modeHTTPMock = "httpmock"
	// modeLoopback runs live mode against a sandbox server on 127.0.0.1.
	modeLoopback = "loopback"
)

// mockURL is the sandbox_url of modeHTTPMock; httpmock intercepts it.
const mockURL = "http://sandbox.mock"

// ffe runs the CLI in-process with its own data directory and
// environment.
type ffe struct {
	t    *testing.T
	mode string
	env  map[string]string
	opts []Option
	// mock and handler are set in modeHTTPMock; srv in modeLoopback.
	mock    *httpmock.MockTransport
	handler *sandbox.Handler
	srv     *sandbox.Server
}

func newFFE(t *testing.T, mode string) *ffe {
	t.Helper()
	dir := t.TempDir()
	f := &ffe{t: t, mode: mode, env: map[string]string{
		"HOME":            dir,
		"XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"FFE_DATA_DIR":    filepath.Join(dir, "data"),
	}}
	switch mode {
	case modeSandbox:
	case modeHTTPMock:
		f.handler = sandbox.New(sandbox.WithReplay(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), sandbox.StepManual))
		f.mock = httpmock.NewMockTransport()
		f.mock.RegisterNoResponder(f.handler.Transport().RoundTrip)
		f.env["FFE_DATA_SOURCE"] = "live"
		f.env["FFE_DATA_SANDBOX_URL"] = mockURL
		f.opts = append(f.opts, WithEngineOptions(engine.WithTransport(f.mock)))
	case modeLoopback:
		srv, err := sandbox.Start(sandbox.WithReplay(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), sandbox.StepManual))
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, srv.Close()) })
		f.srv = srv
		f.env["FFE_DATA_SOURCE"] = "live"
		f.env["FFE_DATA_SANDBOX_URL"] = srv.URL()
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	return f
}

// setDate replays the sandbox as of day (YYYY-MM-DD); "" serves all
// recorded data.
func (f *ffe) setDate(day string) {
	f.t.Helper()
	d := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if day != "" {
		var err error
		d, err = time.Parse(time.DateOnly, day)
		require.NoError(f.t, err)
	}
	switch f.mode {
	case modeSandbox:
		if day == "" {
			delete(f.env, "FFE_DATA_SANDBOX_DATE")
		} else {
			f.env["FFE_DATA_SANDBOX_DATE"] = day
		}
	case modeHTTPMock:
		f.handler.SetDate(d)
	case modeLoopback:
		f.srv.Handler.SetDate(d)
	}
}

// with returns a copy of f with extra environment variables.
func (f *ffe) with(kv ...string) *ffe {
	g := *f
	g.env = map[string]string{}
	for k, v := range f.env {
		g.env[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		g.env[kv[i]] = kv[i+1]
	}
	return &g
}

// withOpts returns a copy of f with extra Run options.
func (f *ffe) withOpts(opts ...Option) *ffe {
	g := *f
	g.opts = append(append([]Option(nil), f.opts...), opts...)
	return &g
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return "exit " + string(rune('0'+r.code)) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// runCtx runs one command line.
func (f *ffe) runCtx(ctx context.Context, args ...string) result {
	var out, errb bytes.Buffer
	env := f.env
	opts := append([]Option{WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })}, f.opts...)
	code := Run(ctx, args, strings.NewReader(""), &out, &errb, opts...)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func (f *ffe) run(args ...string) result {
	f.t.Helper()
	return f.runCtx(f.t.Context(), args...)
}

// ok runs a command that must succeed.
func (f *ffe) ok(args ...string) string {
	f.t.Helper()
	r := f.run(args...)
	require.Equal(f.t, ExitOK, r.code, "ffe %s\n%s", strings.Join(args, " "), r)
	return r.stdout
}

// json runs a command with --json that must succeed and decodes its
// output into v.
func (f *ffe) json(v any, args ...string) {
	f.t.Helper()
	out := f.ok(append(args, "--json")...)
	dec := json.NewDecoder(strings.NewReader(out))
	require.NoError(f.t, dec.Decode(v), out)
	require.False(f.t, dec.More(), "one JSON document: %s", out)
}

// fail runs a command that must fail with code, and returns stderr.
func (f *ffe) fail(code int, args ...string) string {
	f.t.Helper()
	r := f.run(args...)
	require.Equal(f.t, code, r.code, "ffe %s\n%s", strings.Join(args, " "), r)
	require.NotEmpty(f.t, r.stderr)
	require.True(f.t, strings.HasPrefix(r.stderr, "ffe: "), r.stderr)
	return r.stderr
}

// Output documents, with the fields the tests read.
type (
	decisionDoc struct {
		ID         string  `json:"id"`
		Symbol     string  `json:"symbol"`
		Action     string  `json:"action"`
		Confidence float64 `json:"confidence"`
		Quantity   float64 `json:"quantity"`
		Price      float64 `json:"price"`
		StopLoss   float64 `json:"stop_loss"`
		TakeProfit float64 `json:"take_profit"`
		Reasons    []string
		Votes      []struct {
			Strategy string  `json:"strategy"`
			Signal   float64 `json:"signal"`
			Weight   float64 `json:"weight"`
			Abstain  bool    `json:"abstain"`
		} `json:"votes"`
		Executed bool `json:"executed"`
	}
	analysisDoc struct {
		Decision decisionDoc `json:"decision"`
		Quote    struct {
			Price    float64 `json:"price"`
			Provider string  `json:"provider"`
		} `json:"quote"`
		Bars       int                 `json:"bars"`
		Indicators map[string]*float64 `json:"indicators"`
		Position   float64             `json:"position"`
		Equity     float64             `json:"equity"`
		Sentiment  *struct {
			Score   float64 `json:"score"`
			Samples int     `json:"samples"`
		} `json:"sentiment"`
		Warnings []string `json:"warnings"`
	}
	executionDoc struct {
		Order struct {
			ID             string  `json:"id"`
			Platform       string  `json:"platform"`
			Side           string  `json:"side"`
			Status         string  `json:"status"`
			FilledQuantity float64 `json:"filled_quantity"`
			AvgPrice       float64 `json:"avg_price"`
			Fees           float64 `json:"fees"`
		} `json:"order"`
		Position struct {
			Quantity float64 `json:"quantity"`
		} `json:"position"`
		Closed []struct {
			PnL       float64 `json:"pnl"`
			Direction string  `json:"direction"`
			Quantity  float64 `json:"quantity"`
		} `json:"closed"`
		Weights map[string]float64 `json:"weights"`
	}
	balanceDoc struct {
		Platform string `json:"platform"`
		Account  struct {
			Balance float64 `json:"balance"`
			NAV     float64 `json:"nav"`
		} `json:"account"`
		Positions []struct {
			Symbol   string  `json:"symbol"`
			Quantity float64 `json:"quantity"`
		} `json:"positions"`
		RealizedToday float64 `json:"realized_today"`
	}
	historyDoc struct {
		Decisions []decisionDoc `json:"decisions"`
	}
	learningDoc struct {
		Strategies []struct {
			Strategy string  `json:"strategy"`
			Trades   int     `json:"trades"`
			WinRate  float64 `json:"win_rate"`
			Weight   float64 `json:"weight"`
		} `json:"strategies"`
		Portfolio struct {
			Trades   int     `json:"trades"`
			TotalPnL float64 `json:"total_pnl"`
		} `json:"portfolio"`
	}
	pruneDoc struct {
		ByAge     int   `json:"removed_by_age"`
		ByCount   int   `json:"removed_by_count"`
		Removed   []any `json:"removed"`
		Remaining int   `json:"remaining"`
		DryRun    bool  `json:"dry_run"`
	}
	agentDoc struct {
		Cycles []struct {
			Cycle   int `json:"cycle"`
			Results []struct {
				Symbol   string `json:"symbol"`
				Action   string `json:"action"`
				Executed bool   `json:"executed"`
				Skipped  string `json:"skipped"`
				Error    string `json:"error"`
			} `json:"results"`
		} `json:"cycles"`
		Decisions   int  `json:"decisions"`
		Executions  int  `json:"executions"`
		Errors      int  `json:"errors"`
		Interrupted bool `json:"interrupted"`
	}
)

func (d analysisDoc) weight(strategy string) float64 {
	for _, v := range d.Decision.Votes {
		if v.Strategy == strategy {
			return v.Weight
		}
	}
	return -1
}
