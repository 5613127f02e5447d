package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/jobs"
)

const triggerPath = "/api/jobs/download-tracker/trigger"

// countingReader serves n bytes of JSON-ish filler and counts what was read.
type countingReader struct {
	left int64
	read atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), r.left)
	for i := range p[:n] {
		p[i] = ' '
	}
	r.left -= n
	r.read.Add(n)
	return int(n), nil
}

// TestTriggerOversizedBody answers 413 for a body declared larger than
// MaxBodyBytes without reading any of it, and for a chunked body once it
// passes the limit.
func TestTriggerOversizedBody(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	t.Run("declared length", func(t *testing.T) {
		body := &countingReader{left: 50 << 20}
		req := httptest.NewRequest(http.MethodPost, triggerPath, body)
		req.ContentLength = 50 << 20
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		require.Zero(t, body.read.Load(), "the body is not read")
		p := decode[Problem](t, rec.Result())
		require.Equal(t, "body", p.Field)
	})
	t.Run("chunked", func(t *testing.T) {
		body := &countingReader{left: 50 << 20}
		req := httptest.NewRequest(http.MethodPost, triggerPath, body)
		req.ContentLength = -1
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		require.LessOrEqual(t, body.read.Load(), int64(2*MaxBodyBytes), "reading stops at the limit")
	})
}

// rawRequest writes head to a new connection to base and returns the
// connection and a reader of its answers.
func rawRequest(t *testing.T, base, head string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	_, err = io.WriteString(conn, head)
	require.NoError(t, err)
	return conn, bufio.NewReader(conn)
}

// TestTriggerExpectContinue never sends 100 Continue for a body declared
// too large: the client learns 413 before sending it.
func TestTriggerExpectContinue(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	base := serve(t, s)
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", triggerPath, testToken, 50<<20)
	_, br := rawRequest(t, base, head)
	res, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
}

// TestTriggerSlowBody answers 408, naming no socket address, for a body
// that does not arrive within Config.BodyTimeout.
func TestTriggerSlowBody(t *testing.T) {
	s := testServer(t, &fakeMD{}, func(c *testConfig, _ *testDeps) { c.BodyTimeout = 300 * time.Millisecond })
	base := serve(t, s)
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
		"Content-Length: 100\r\n\r\n{\"symbols\":", triggerPath, testToken)
	start := time.Now()
	_, br := rawRequest(t, base, head)
	res, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	require.Equal(t, http.StatusRequestTimeout, res.StatusCode, string(body))
	require.Less(t, time.Since(start), 10*time.Second)
	require.NotContains(t, string(body), "127.0.0.1")
	require.NotContains(t, string(body), "->")
}

// TestProblemsDoNotEchoLargeInput caps the values a 400 repeats.
func TestProblemsDoNotEchoLargeInput(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	huge := strings.Repeat("x", 100<<10)
	for _, body := range []string{
		`{"range":"` + huge + `"}`,
		`{"symbols":["` + huge + `"]}`,
		`{"formats":["` + huge + `"]}`,
		`{"interval":"` + huge + `"}`,
		`{"` + huge + `":1}`,
	} {
		res := call(t, s.Handler(), http.MethodPost, triggerPath, testToken, strings.NewReader(body))
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		require.Equal(t, http.StatusBadRequest, res.StatusCode)
		require.Less(t, len(got), 2048, "answer of %d bytes: %.300s", len(got), got)
	}
}

// TestTriggerStrictFields refuses keys in another case and an empty
// symbol list.
func TestTriggerStrictFields(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	tests := []struct {
		give, wantField, wantDetail string
	}{
		{give: `{"Symbols":["AAPL"]}`, wantField: "Symbols", wantDetail: "unknown field"},
		{give: `{"RANGE":"1y"}`, wantField: "RANGE", wantDetail: "unknown field"},
		{give: `{"symbols":[]}`, wantField: "symbols", wantDetail: "omit the field to export the watchlist"},
		{give: `{"range":"0001-01-01/9999-12-31"}`, wantField: "range", wantDetail: "100 years"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			res := call(t, s.Handler(), http.MethodPost, triggerPath, testToken, strings.NewReader(tt.give))
			require.Equal(t, http.StatusBadRequest, res.StatusCode)
			p := decode[Problem](t, res)
			require.Equal(t, tt.wantField, p.Field)
			require.Contains(t, p.Detail, tt.wantDetail)
		})
	}
}

// TestShortTokenRefusedOffLoopback refuses a token shorter than
// MinTokenLength beyond loopback and accepts it on loopback.
func TestShortTokenRefusedOffLoopback(t *testing.T) {
	s := testServer(t, &fakeMD{}, func(c *testConfig, _ *testDeps) { c.Token = "x" })
	fl := &fakeListener{}
	require.ErrorContains(t, s.Serve(context.Background(), fl), "at least 16")
	require.True(t, fl.closed)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, s.Serve(ctx, ln))
}

// TestExportGoneAfterRetention shows a pruned export as gone: the job
// has no export link but says why, and the export answers 410.
func TestExportGoneAfterRetention(t *testing.T) {
	s := testServer(t, &fakeMD{}, nil)
	serve(t, s)
	j := trigger(t, s.Handler(), map[string]any{"symbols": []string{"AAPL"}, "formats": []string{"csv"}})
	require.Equal(t, jobs.Succeeded, waitJob(t, s, j.ID).State)
	require.NoError(t, s.bundles.Delete(j.ID)) // as retention does

	res := call(t, s.Handler(), http.MethodGet, "/api/jobs/"+j.ID, testToken, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	v := decode[JobView](t, res)
	require.NotContains(t, v.Links, "export")
	require.Contains(t, v.ExportGone, "deleted")

	res = call(t, s.Handler(), http.MethodGet, "/api/exports/"+j.ID, testToken, nil)
	require.Equal(t, http.StatusGone, res.StatusCode)
	res.Body.Close()
	res = call(t, s.Handler(), http.MethodGet, "/api/exports/job-never", testToken, nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	res.Body.Close()
}
