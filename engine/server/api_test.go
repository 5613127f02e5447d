package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/engine/export"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/engine/service"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestAuth(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	routes := []struct{ method, path string }{
		{http.MethodPost, "/api/jobs/download-tracker/trigger"},
		{http.MethodGet, "/api/jobs/job-x"},
		{http.MethodGet, "/api/jobs"},
		{http.MethodDelete, "/api/jobs/job-x"},
		{http.MethodGet, "/api/exports/job-x"},
		{http.MethodGet, "/api/exports/job-x/files/AAPL.csv"},
		{http.MethodDelete, "/api/exports/job-x"},
		{http.MethodGet, "/api/nothing-here"},
	}
	tests := []struct {
		name   string
		header string
	}{
		{name: "missing"},
		{name: "wrong token", header: "Bearer nope"},
		{name: "token prefix", header: "Bearer " + testToken[:5]},
		{name: "token suffix", header: "Bearer " + testToken + "x"},
		{name: "basic scheme", header: "Basic " + testToken},
		{name: "no scheme", header: testToken},
	}
	for _, tt := range tests {
		for _, rt := range routes {
			t.Run(tt.name+" "+rt.method+" "+rt.path, func(t *testing.T) {
				hdr := []string{}
				if tt.header != "" {
					hdr = []string{"Authorization", tt.header}
				}
				res := call(t, s.Handler(), rt.method, rt.path, "", nil, hdr...)
				require.Equal(t, http.StatusUnauthorized, res.StatusCode)
				require.Equal(t, `Bearer realm="ffe"`, res.Header.Get("WWW-Authenticate"))
				require.Equal(t, ProblemContentType, res.Header.Get("Content-Type"))
				p := decode[Problem](t, res)
				require.Equal(t, ProblemUnauthorized, p.Type)
				require.Equal(t, http.StatusUnauthorized, p.Status)
				require.Equal(t, rt.path, p.Instance)
			})
		}
	}
	t.Run("lower-case scheme", func(t *testing.T) {
		res := call(t, s.Handler(), http.MethodGet, "/api/jobs", "", nil, "Authorization", "bearer "+testToken)
		require.Equal(t, http.StatusOK, res.StatusCode)
	})
	t.Run("health needs no token", func(t *testing.T) {
		res := call(t, s.Handler(), http.MethodGet, "/healthz", "", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		res = call(t, s.Handler(), http.MethodGet, "/readyz", "", nil)
		require.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "not ready before Serve")
	})
}

func TestTriggerValidation(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	symbols := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "S" + strconv.Itoa(i)
		}
		return out
	}
	big := `{"symbols":["AAPL"],"range":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	tests := []struct {
		name        string
		body        string
		contentType string
		wantStatus  int
		wantField   string
		wantFields  []string
	}{
		{name: "too large", body: big, wantStatus: 413, wantField: "body"},
		{name: "unknown field", body: `{"symbols":["AAPL"],"format":["csv"]}`, wantStatus: 400, wantField: "format"},
		{name: "too many symbols", body: string(mustJSON(map[string]any{"symbols": symbols(101)})), wantStatus: 400, wantField: "symbols"},
		{name: "unknown format", body: `{"formats":["csv","xml"]}`, wantStatus: 400, wantField: "formats[1]"},
		{name: "bad symbol", body: `{"symbols":["AAPL","../../etc"]}`, wantStatus: 400, wantField: "symbols[1]"},
		{name: "bad range", body: `{"range":"sometime"}`, wantStatus: 400, wantField: "range"},
		{name: "bad interval", body: `{"interval":"7s"}`, wantStatus: 400, wantField: "interval"},
		{name: "several", body: `{"interval":"7s","formats":["pdf"]}`, wantStatus: 400, wantField: "interval",
			wantFields: []string{"interval", "formats[0]"}},
		{name: "wrong type", body: `{"symbols":"AAPL"}`, wantStatus: 400, wantField: "symbols"},
		{name: "wrong type crew", body: `{"crew":"yes"}`, wantStatus: 400, wantField: "crew"},
		{name: "malformed", body: `{"symbols":[`, wantStatus: 400, wantField: "body"},
		{name: "syntax", body: `{symbols}`, wantStatus: 400, wantField: "body"},
		{name: "two values", body: `{} {}`, wantStatus: 400, wantField: "body"},
		{name: "not an object", body: `[]`, wantStatus: 400, wantField: "body"},
		{name: "wrong content type", body: `{}`, contentType: "text/plain", wantStatus: 415},
		{name: "100 symbols", body: string(mustJSON(map[string]any{"symbols": symbols(100)})), wantStatus: 202},
		{name: "empty body", body: ``, wantStatus: 202},
		{name: "empty object", body: `{}`, contentType: "application/json; charset=utf-8", wantStatus: 202},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := []string{}
			if tt.contentType != "" {
				hdr = []string{"Content-Type", tt.contentType}
			}
			res := call(t, s.Handler(), http.MethodPost, "/api/jobs/download-tracker/trigger", testToken, strings.NewReader(tt.body), hdr...)
			require.Equal(t, tt.wantStatus, res.StatusCode)
			if tt.wantStatus == http.StatusAccepted {
				res.Body.Close()
				return
			}
			require.Equal(t, ProblemContentType, res.Header.Get("Content-Type"))
			p := decode[Problem](t, res)
			require.Equal(t, tt.wantStatus, p.Status)
			require.Equal(t, tt.wantField, p.Field, "detail: %s", p.Detail)
			if tt.wantFields != nil {
				var got []string
				for _, e := range p.Errors {
					got = append(got, e.Field)
				}
				require.Equal(t, tt.wantFields, got)
			}
			if tt.wantStatus == http.StatusBadRequest {
				require.Equal(t, ProblemValidation, p.Type)
				require.NotEmpty(t, p.Errors)
			}
		})
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestTriggerAnswersWithJobAndLinks(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	res := call(t, s.Handler(), http.MethodPost, "/api/jobs/download-tracker/trigger", testToken,
		strings.NewReader(`{"symbols":["aapl","btc/usd"],"range":"2016-01-01/2016-03-31","formats":["csv"],"crew":true}`))
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	v := decode[JobView](t, res)
	require.Equal(t, "/api/jobs/"+v.ID, res.Header.Get("Location"))
	require.Equal(t, jobs.Queued, v.Status)
	require.Equal(t, export.Kind, v.Kind)
	require.Equal(t, map[string]string{"self": "/api/jobs/" + v.ID, "cancel": "/api/jobs/" + v.ID}, v.Links)
	require.JSONEq(t, `{"symbols":["AAPL","BTC-USD"],"range":"2016-01-01/2016-03-31","from":"2016-01-01T00:00:00Z",
		"to":"2016-03-31T23:59:59.999999999Z","interval":"1d","formats":["csv"],"crew":true}`, string(v.Params))

	// Defaults: the watchlist, the default range against the market clock.
	d := trigger(t, s.Handler(), nil)
	require.JSONEq(t, `{"symbols":["AAPL","SPY"],"range":"1y","from":"2016-01-01T00:00:00Z",
		"to":"2017-01-01T00:00:00Z","relative":true,"interval":"1d","formats":["csv","json"],"crew":false}`, string(d.Params))
}

func TestFullQueueAnswers429(t *testing.T) {
	s := testServer(t, &fakeMD{}, func(c *testConfig, _ *testDeps) { c.QueueCapacity = 2 })
	for range 2 {
		trigger(t, s.Handler(), nil)
	}
	res := call(t, s.Handler(), http.MethodPost, "/api/jobs/download-tracker/trigger", testToken, nil)
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, secs, 1)
	p := decode[Problem](t, res)
	require.Equal(t, ProblemQueueFull, p.Type)
	require.Equal(t, http.StatusTooManyRequests, p.Status)
}

func TestJobRoutes(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	a := trigger(t, s.Handler(), map[string]any{"symbols": []string{"AAPL"}})
	b := trigger(t, s.Handler(), map[string]any{"symbols": []string{"SPY"}})

	res := call(t, s.Handler(), http.MethodGet, "/api/jobs/"+a.ID, testToken, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	got := decode[JobView](t, res)
	require.Equal(t, a.ID, got.ID)
	require.Equal(t, jobs.Queued, got.Status)

	// Cancel b while queued: 200 cancelled; again: 409.
	res = call(t, s.Handler(), http.MethodDelete, "/api/jobs/"+b.ID, testToken, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, jobs.Cancelled, decode[JobView](t, res).Status)
	res = call(t, s.Handler(), http.MethodDelete, "/api/jobs/"+b.ID, testToken, nil)
	require.Equal(t, http.StatusConflict, res.StatusCode)
	p := decode[Problem](t, res)
	require.Equal(t, ProblemJobFinished, p.Type)
	require.Equal(t, "job "+b.ID+" is cancelled already; only queued and running jobs can be cancelled", p.Detail)
	// A 404 says where to look.
	res = call(t, s.Handler(), http.MethodGet, "/api/jobs/job-nope", testToken, nil)
	require.Equal(t, "no job job-nope; GET /api/jobs lists the jobs kept", decode[Problem](t, res).Detail)
	res = call(t, s.Handler(), http.MethodGet, "/api/exports/"+a.ID, testToken, nil)
	require.Contains(t, decode[Problem](t, res).Detail, "GET /api/jobs/"+a.ID+" tells its job's state")

	tests := []struct {
		name       string
		method     string
		target     string
		wantStatus int
		wantIDs    []string
		wantField  string
	}{
		{name: "all", method: "GET", target: "/api/jobs", wantStatus: 200, wantIDs: []string{b.ID, a.ID}},
		{name: "queued", method: "GET", target: "/api/jobs?status=queued", wantStatus: 200, wantIDs: []string{a.ID}},
		{name: "cancelled", method: "GET", target: "/api/jobs?status=cancelled", wantStatus: 200, wantIDs: []string{b.ID}},
		{name: "none", method: "GET", target: "/api/jobs?status=running", wantStatus: 200, wantIDs: []string{}},
		{name: "limit", method: "GET", target: "/api/jobs?limit=1", wantStatus: 200, wantIDs: []string{b.ID}},
		{name: "bad status", method: "GET", target: "/api/jobs?status=done", wantStatus: 400, wantField: "status"},
		{name: "bad limit", method: "GET", target: "/api/jobs?limit=0", wantStatus: 400, wantField: "limit"},
		{name: "unknown param", method: "GET", target: "/api/jobs?state=queued", wantStatus: 400, wantField: "state"},
		{name: "unknown job", method: "GET", target: "/api/jobs/job-nope", wantStatus: 404},
		{name: "cancel unknown", method: "DELETE", target: "/api/jobs/job-nope", wantStatus: 404},
		{name: "invalid id", method: "GET", target: "/api/jobs/-x", wantStatus: 400, wantField: "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, s.Handler(), tt.method, tt.target, testToken, nil)
			require.Equal(t, tt.wantStatus, res.StatusCode)
			if tt.wantStatus != http.StatusOK {
				require.Equal(t, ProblemContentType, res.Header.Get("Content-Type"))
				require.Equal(t, tt.wantField, decode[Problem](t, res).Field)
				return
			}
			list := decode[JobList](t, res)
			ids := []string{}
			for _, j := range list.Jobs {
				ids = append(ids, j.ID)
			}
			require.Equal(t, tt.wantIDs, ids)
		})
	}
}

func TestCancelRunningJob(t *testing.T) {
	md := &fakeMD{gate: make(chan struct{})}
	s := testServer(t, md, nil)
	serve(t, s)
	j := trigger(t, s.Handler(), map[string]any{"symbols": []string{"AAPL"}})
	for md.barCalls() == 0 {
		time.Sleep(time.Millisecond)
	}
	res := call(t, s.Handler(), http.MethodDelete, "/api/jobs/"+j.ID, testToken, nil)
	require.Contains(t, []int{http.StatusAccepted, http.StatusOK}, res.StatusCode)
	res.Body.Close()
	require.Equal(t, jobs.Cancelled, waitJob(t, s, j.ID).State)
	res = call(t, s.Handler(), http.MethodGet, "/api/exports/"+j.ID, testToken, nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	res.Body.Close()
}

func TestExportRoutes(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	serve(t, s)
	j := trigger(t, s.Handler(), map[string]any{"symbols": []string{"AAPL", "SPY"}, "crew": true})
	done := waitJob(t, s, j.ID)
	require.Equal(t, jobs.Succeeded, done.State, done.Error)

	res := call(t, s.Handler(), http.MethodGet, "/api/jobs/"+j.ID, testToken, nil)
	v := decode[JobView](t, res)
	require.Equal(t, "/api/exports/"+j.ID, v.Links["export"])
	require.Equal(t, 4, v.Progress.Total) // two symbols, crew, bundle
	require.Equal(t, 4, v.Progress.Done)
	require.GreaterOrEqual(t, v.Timings.Ran, 0.0)

	res = call(t, s.Handler(), http.MethodGet, "/api/exports/"+j.ID, testToken, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	ev := decode[ExportView](t, res)
	require.Equal(t, j.ID, ev.ID)
	require.Len(t, ev.Files, 6)
	for _, f := range ev.Files {
		res := call(t, s.Handler(), http.MethodGet, f.Href, testToken, nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, f.ContentType, res.Header.Get("Content-Type"))
		require.Equal(t, `"`+f.SHA256+`"`, res.Header.Get("ETag"))
		require.Contains(t, res.Header.Get("Content-Disposition"), f.Name)
		data, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		res.Body.Close()
		sum := sha256.Sum256(data)
		require.Equal(t, f.SHA256, hex.EncodeToString(sum[:]))
		require.Equal(t, f.Size, int64(len(data)))
	}
	csv := ev.Files[0]
	res = call(t, s.Handler(), http.MethodGet, csv.Href, testToken, nil, "If-None-Match", `"`+csv.SHA256+`"`)
	require.Equal(t, http.StatusNotModified, res.StatusCode)
	res = call(t, s.Handler(), http.MethodGet, csv.Href, testToken, nil, "Range", "bytes=0-3")
	require.Equal(t, http.StatusPartialContent, res.StatusCode)
	part, _ := io.ReadAll(res.Body)
	require.Equal(t, "time", string(part))
	res = call(t, s.Handler(), http.MethodGet, "/api/exports/"+j.ID+"/files/manifest.json", testToken, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "application/json", res.Header.Get("Content-Type"))

	tests := []struct {
		name       string
		method     string
		target     string
		wantStatus int
		wantField  string
	}{
		{name: "unknown export", method: "GET", target: "/api/exports/job-nope", wantStatus: 404},
		{name: "unknown file", method: "GET", target: "/api/exports/" + j.ID + "/files/MSFT.csv", wantStatus: 404},
		{name: "file of unknown export", method: "GET", target: "/api/exports/job-nope/files/AAPL.csv", wantStatus: 404},
		{name: "invalid file", method: "GET", target: "/api/exports/" + j.ID + "/files/.hidden", wantStatus: 400, wantField: "name"},
		{name: "delete unknown", method: "DELETE", target: "/api/exports/job-nope", wantStatus: 404},
		{name: "delete", method: "DELETE", target: "/api/exports/" + j.ID, wantStatus: 204},
		{name: "gone", method: "GET", target: "/api/exports/" + j.ID, wantStatus: 410},
		{name: "file gone", method: "GET", target: csv.Href, wantStatus: 404},
		{name: "delete again", method: "DELETE", target: "/api/exports/" + j.ID, wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, s.Handler(), tt.method, tt.target, testToken, nil)
			require.Equal(t, tt.wantStatus, res.StatusCode)
			if tt.wantStatus >= 400 {
				require.Equal(t, tt.wantField, decode[Problem](t, res).Field)
			}
		})
	}
}

func TestTraversalIsRefused(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	serve(t, s)
	tests := []struct {
		name    string
		rawPath string
	}{
		{name: "dotdot id", rawPath: "/api/exports/../../etc"},
		{name: "dotdot in files", rawPath: "/api/exports/job-x/files/../../../etc/passwd"},
		{name: "encoded dotdot", rawPath: "/api/exports/%2e%2e/files/passwd"},
		{name: "encoded slash in name", rawPath: "/api/exports/job-x/files/..%2f..%2fetc%2fpasswd"},
		{name: "encoded slash in id", rawPath: "/api/exports/a%2Fb"},
		{name: "encoded backslash", rawPath: "/api/jobs/..%5c..%5cx"},
		{name: "dot segment", rawPath: "/api/exports/./job-x"},
		{name: "empty segment", rawPath: "/api/exports//job-x"},
		{name: "hidden staging dir", rawPath: "/api/exports/.tmp-job-x"},
		{name: "dotdot inside a name", rawPath: "/api/exports/job-x/files/a..b"},
		{name: "NUL", rawPath: "/api/exports/job%00x"},
		{name: "absolute name", rawPath: "/api/exports/job-x/files/%2fetc%2fpasswd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Sent raw, as a client that does not clean paths would.
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			u, err := url.ParseRequestURI(tt.rawPath)
			require.NoError(t, err)
			req.URL = u
			req.RequestURI = tt.rawPath
			req.Header.Set("Authorization", "Bearer "+testToken)
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			res := rec.Result()
			require.Equal(t, http.StatusBadRequest, res.StatusCode, "path %s", u.Path)
			require.Equal(t, ProblemContentType, res.Header.Get("Content-Type"))
			p := decode[Problem](t, res)
			require.Contains(t, []string{ProblemInvalidPath, ProblemValidation}, p.Type)
		})
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	tests := []struct {
		method, path string
		want         int
		allow        string
	}{
		{method: "GET", path: "/api/nothing", want: 404},
		{method: "GET", path: "/nothing", want: 404},
		{method: "PUT", path: "/api/jobs/job-x", want: 405, allow: "DELETE, GET, HEAD"},
		{method: "GET", path: "/api/jobs/download-tracker/trigger", want: 405, allow: "POST"},
		{method: "POST", path: "/healthz", want: 405, allow: "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res := call(t, s.Handler(), tt.method, tt.path, testToken, nil)
			require.Equal(t, tt.want, res.StatusCode)
			require.Equal(t, tt.allow, res.Header.Get("Allow"))
			require.Equal(t, tt.want, decode[Problem](t, res).Status)
		})
	}
}

func TestReadiness(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	base := serve(t, s)
	res, err := http.Get(base + "/readyz")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	res.Body.Close()
	res, err = http.Get(base + "/healthz")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	res.Body.Close()
	http.DefaultClient.CloseIdleConnections()

	// A database that does not answer makes the server unready, not dead.
	require.NoError(t, s.svc.DB().Close())
	res = call(t, s.Handler(), http.MethodGet, "/readyz", "", nil)
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	require.Contains(t, decode[Problem](t, res).Detail, "database")
	res = call(t, s.Handler(), http.MethodGet, "/healthz", "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
}

// fakeListener reports a public address; Serve must refuse it.
type fakeListener struct {
	net.Listener
	closed bool
}

func (l *fakeListener) Addr() net.Addr {
	return &net.TCPAddr{IP: net.ParseIP("192.0.2.10"), Port: 8740}
}
func (l *fakeListener) Close() error              { l.closed = true; return nil }
func (l *fakeListener) Accept() (net.Conn, error) { return nil, errors.New("unused") }

func TestTokenRules(t *testing.T) {
	tests := []struct {
		name          string
		token, env    string
		wantToken     string
		wantGenerated bool
	}{
		{name: "configured", token: "cfg-token", env: "env-token", wantToken: "cfg-token"},
		{name: "from env", env: "env-token", wantToken: "env-token"},
		{name: "generated", wantGenerated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			dir := t.TempDir()
			s := newServer(t, testConfig{Config: Config{Token: tt.token}, svcConfig: svcConfig{ExportDir: dir + "/x", MonitorOff: true}},
				testDeps{Deps: Deps{Logger: quiet}, svcDeps: svcDeps{MarketData: &fakeMD{}, DB: openDB(t, dir+"/db"), Logger: quiet}},
				WithTokenOutput(&out), WithGetenv(func(k string) string {
					if k == TokenEnv {
						return tt.env
					}
					return ""
				}))
			if !tt.wantGenerated {
				require.Equal(t, tt.wantToken, s.Token())
			}
			// A public address: refused without a configured token.
			fl := &fakeListener{}
			err := s.Serve(context.Background(), fl)
			if tt.wantGenerated {
				require.ErrorContains(t, err, "without a configured token")
				require.True(t, fl.closed)
				require.Empty(t, out.String(), "nothing printed when refusing")
				// On loopback it serves and prints the token once.
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				require.NoError(t, s.Serve(ctx, ln))
				require.Equal(t, 1, strings.Count(out.String(), s.Token()))
				require.Len(t, s.Token(), 26)
				return
			}
			require.Error(t, err, "fake listener cannot accept")
		})
	}
}

func TestServeOnlyOnceAndCloseIdempotent(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, s.Serve(ctx, ln))
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.ErrorIs(t, s.Serve(context.Background(), ln2), ErrServing)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
}

func TestCloseStopsServing(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), ln) }()
	for !s.ready.Load() {
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, s.Close())
	require.NoError(t, <-done)
}

func TestNewRejects(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir+"/db")
	tests := []struct {
		name string
		cfg  svcConfig
		deps svcDeps
		want string
	}{
		{name: "no market data", cfg: svcConfig{ExportDir: dir}, deps: svcDeps{DB: db}, want: "required"},
		{name: "no db", cfg: svcConfig{ExportDir: dir}, deps: svcDeps{MarketData: &fakeMD{}}, want: "required"},
		{name: "no export dir", deps: svcDeps{MarketData: &fakeMD{}, DB: db}, want: "ExportDir"},
		{name: "bad default range", cfg: svcConfig{ExportDir: dir, DefaultRange: "x"}, deps: svcDeps{MarketData: &fakeMD{}, DB: db}, want: "range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := service.New(tt.cfg, tt.deps)
			require.ErrorContains(t, err, tt.want)
		})
	}
	_, err := New(Config{}, nil, Deps{})
	require.ErrorContains(t, err, "nil service")
}

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	l, err := NewLogger(&buf, "json", "info")
	require.NoError(t, err)
	l.Info("hello", "k", 1)
	require.JSONEq(t, fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"hello","k":1}`, jsonTime(t, buf.Bytes())), buf.String())
	_, err = NewLogger(&buf, "xml", "info")
	require.Error(t, err)
	_, err = NewLogger(&buf, "text", "loud")
	require.Error(t, err)
}

func jsonTime(t *testing.T, line []byte) string {
	t.Helper()
	var v struct{ Time string }
	require.NoError(t, json.Unmarshal(line, &v))
	_, err := time.Parse(time.RFC3339Nano, v.Time)
	require.NoError(t, err)
	return v.Time
}
