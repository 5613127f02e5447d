package providertest

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestMockClient runs a real core client over MockOptions, a Recorder and
// the responders: a GET answered 503 is retried after a short backoff, and
// every request is recorded with its body and time.
func TestMockClient(t *testing.T) {
	tr := httpmock.NewMockTransport()
	var rec Recorder
	tr.RegisterResponder(http.MethodGet, "https://api.example.com/v1/quote", rec.Wrap(
		RespondHTML(503, "<html><title>busy</title></html>").Then(RespondJSON(200, []byte(`{"ok":true}`), "X-Request-Id", "42", "Odd"))))
	tr.RegisterResponder(http.MethodPost, "https://api.example.com/v1/orders", rec.Wrap(RespondJSON(201, []byte(`{}`))))
	c, err := providers.NewClient("acme", "https://api.example.com", nil, nil, MockOptions(tr)...)
	require.NoError(t, err)
	defer c.Close()
	start := time.Now()
	resp, err := c.Do(t.Context(), providers.Request{Path: "/v1/quote", Op: "quote"})
	require.NoError(t, err)
	require.Less(t, time.Since(start), time.Second, "1-5 ms backoff")
	require.Equal(t, `{"ok":true}`, string(resp.Body))
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.Equal(t, "42", resp.Header.Get("X-Request-Id"))
	_, err = c.Do(t.Context(), providers.Request{Method: http.MethodPost, Path: "/v1/orders", Body: []byte(`{"qty":1}`), Op: "order"})
	require.NoError(t, err)

	require.Equal(t, 3, rec.Len())
	reqs, bodies := rec.Requests()
	require.Len(t, reqs, 3)
	require.Equal(t, []string{"/v1/quote", "/v1/quote", "/v1/orders"}, []string{reqs[0].URL.Path, reqs[1].URL.Path, reqs[2].URL.Path})
	require.Equal(t, []string{"", "", `{"qty":1}`}, []string{string(bodies[0]), string(bodies[1]), string(bodies[2])})
	at := rec.Times()
	require.Len(t, at, 3)
	require.False(t, at[1].Before(at[0]))
}

func TestRespondHTML(t *testing.T) {
	resp, err := RespondHTML(502, "<html>x</html>")(nil)
	require.NoError(t, err)
	require.Equal(t, 502, resp.StatusCode)
	require.Equal(t, "text/html", resp.Header.Get("Content-Type"))
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "<html>x</html>", string(b))
}

func TestEnvOrSkip(t *testing.T) {
	t.Setenv("PROVIDERTEST_A", "a")
	t.Setenv("PROVIDERTEST_LIVE", "1")
	t.Setenv("PROVIDERTEST_EMPTY", "")
	tests := []struct {
		name     string
		vars     []string
		wantSkip string // "" means the test runs
		want     []string
	}{
		{name: "set", vars: []string{"PROVIDERTEST_A", "PROVIDERTEST_LIVE=1"}, want: []string{"a", "1"}},
		{name: "one unset", vars: []string{"PROVIDERTEST_A", "PROVIDERTEST_UNSET"}, wantSkip: "PROVIDERTEST_A and PROVIDERTEST_UNSET not set"},
		{name: "empty", vars: []string{"PROVIDERTEST_EMPTY"}, wantSkip: "PROVIDERTEST_EMPTY not set"},
		{name: "other value", vars: []string{"PROVIDERTEST_A=1"}, wantSkip: "PROVIDERTEST_A=1 not set"},
		{name: "three", vars: []string{"PROVIDERTEST_X", "PROVIDERTEST_Y", "PROVIDERTEST_Z"}, wantSkip: "PROVIDERTEST_X, PROVIDERTEST_Y and PROVIDERTEST_Z not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := &fakeTB{TB: t}
			var got []string
			ft.run(func() { got = EnvOrSkip(ft, tt.vars...) })
			require.Equal(t, tt.wantSkip, ft.skipped)
			if tt.wantSkip == "" {
				require.Equal(t, tt.want, got)
			}
		})
	}
}

func TestRequireSaneBars(t *testing.T) {
	at := func(s int64) time.Time { return time.Unix(s, 0).UTC() }
	tests := []struct {
		name      string
		give      []providers.Bar
		wantFatal string // "" means the bars pass
	}{
		{name: "sane", give: []providers.Bar{{Time: at(1), Close: 1}, {Time: at(2), Close: 2}}},
		{name: "none"},
		{name: "local time", give: []providers.Bar{{Time: time.Unix(1, 0)}}, wantFatal: "bar 0 not UTC"},
		{name: "repeat", give: []providers.Bar{{Time: at(1)}, {Time: at(1)}}, wantFatal: "bar 1 not after bar 0"},
		{name: "NaN", give: []providers.Bar{{Time: at(1), High: math.NaN()}}, wantFatal: "bar 0 holds NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := &fakeTB{TB: t}
			ft.run(func() { RequireSaneBars(ft, tt.give) })
			require.Equal(t, tt.wantFatal, ft.fatal)
		})
	}
}

func TestSyncBuffer(t *testing.T) {
	var buf SyncBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { fmt.Fprintf(&buf, "line %d\n", i) })
	}
	wg.Wait()
	require.Equal(t, 8, strings.Count(buf.String(), "\n"))
}

// fakeTB records a Skip, Fatal or failed assertion instead of ending the
// test.
type fakeTB struct {
	testing.TB
	skipped, fatal string
	failed         bool
}

func (f *fakeTB) Errorf(string, ...any) { f.failed = true }

func (f *fakeTB) FailNow() { panic(f) }

func (f *fakeTB) Helper() {}

func (f *fakeTB) Skip(args ...any) {
	f.skipped = fmt.Sprint(args...)
	panic(f)
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	panic(f)
}

// run calls fn, stopping at a recorded Skip or Fatal as the real ones stop
// the test.
func (f *fakeTB) run(fn func()) {
	defer func() {
		if r := recover(); r != nil && r != any(f) {
			panic(r)
		}
	}()
	fn()
}

// TestScript: OnGet answers with the steps in order, repeating the last,
// honours a step's Delay up to the request's deadline, and records every
// request.
func TestScript(t *testing.T) {
	mt := httpmock.NewMockTransport()
	rec := OnGet(mt, "https://api.example.com/v1/bars",
		Step{Status: 429, Header: http.Header{"Retry-After": {"0"}}}, OK([]byte(`{"n":1}`)))
	slow := OnGet(mt, "=~^https://api\\.example\\.com/v1/slow", Step{Status: 200, Delay: time.Minute})
	c, err := providers.NewClient("acme", "https://api.example.com", nil, nil,
		MockOptions(mt, providers.WithTimeout(20*time.Millisecond), providers.WithRetry(2, time.Millisecond, time.Millisecond))...)
	require.NoError(t, err)
	defer c.Close()
	for range 2 {
		resp, err := c.Do(t.Context(), providers.Request{Path: "/v1/bars", Query: map[string][]string{"s": {"X"}}, Op: "bars"})
		require.NoError(t, err)
		require.Equal(t, `{"n":1}`, string(resp.Body))
	}
	require.Equal(t, 3, rec.Len())
	require.Equal(t, "X", rec.Request(0).URL.Query().Get("s"))
	require.Equal(t, "/v1/bars", rec.Last().URL.Path)
	_, err = c.Do(t.Context(), providers.Request{Path: "/v1/slow", Op: "slow"})
	require.ErrorIs(t, err, providers.ErrTimeout)
	require.Equal(t, 2, slow.Len())
}

func TestRequireStatus(t *testing.T) {
	se := fmt.Errorf("bars: %w", &providers.StatusError{Provider: "acme", Status: 502})
	RequireStatus(t, se, "acme", 502)
	RequireStatus(t, errors.New("plain"), "acme", 0)
	for _, tt := range []struct {
		name   string
		err    error
		status int
	}{
		{name: "other status", err: se, status: 503},
		{name: "status error where none is wanted", err: se},
		{name: "no status error", err: errors.New("plain"), status: 502},
	} {
		ft := &fakeTB{TB: t}
		ft.run(func() { RequireStatus(ft, tt.err, "acme", tt.status) })
		require.True(t, ft.failed, tt.name)
	}
}

func TestRequireBarsOrError(t *testing.T) {
	bar := []providers.Bar{{Time: time.Unix(1, 0).UTC(), Close: 1}}
	RequireBarsOrError(t, bar, nil, providers.ErrDecode)
	RequireBarsOrError(t, nil, fmt.Errorf("x: %w", providers.ErrNoData), providers.ErrDecode, providers.ErrNoData)
	for _, tt := range []struct {
		name string
		bars []providers.Bar
		err  error
	}{
		{name: "untyped error", err: errors.New("plain")},
		{name: "bars with an error", bars: bar, err: providers.ErrDecode},
		{name: "no bars", bars: []providers.Bar{}},
		{name: "local time", bars: []providers.Bar{{Time: time.Unix(1, 0)}}},
	} {
		ft := &fakeTB{TB: t}
		ft.run(func() { RequireBarsOrError(ft, tt.bars, tt.err, providers.ErrDecode) })
		require.True(t, ft.failed || ft.fatal != "", tt.name)
	}
}
