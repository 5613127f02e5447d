package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/export"
	"github.com/leakgate/leakgate/engine/export/exporttest"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/providers/sandbox"
)

// TestNoSecretsInLogsAnswersOrExports serves with a generated token and
// providers whose requests partly fail, logging at debug level, and proves
// that neither the API token nor the providers' credentials appear in the
// logs, in any API answer (job views, errors, problem details, manifests)
// or in any exported file, and that the generated token is printed once.
func TestNoSecretsInLogsAnswersOrExports(t *testing.T) {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// Polygon always fails, Yahoo (the fallback) half the time: some
	// symbols fail with provider errors, the others are exported.
	srv, err := sandbox.Start(sandbox.WithFaults(sandbox.Faults{Seed: 7,
		ServerError: sandbox.Chance{P: 1, Prefix: "polygon"}, Malformed: sandbox.Chance{P: 0.5, Prefix: "yahoo"}}))
	require.NoError(t, err)
	defer srv.Close()
	env, err := exporttest.New(exporttest.Config{BaseURL: srv.BaseURL, Logger: logger})
	require.NoError(t, err)
	defer func() { require.NoError(t, env.Close()) }()

	dir := t.TempDir()
	var tokenOut bytes.Buffer
	s := newServer(t, testConfig{svcConfig: svcConfig{ExportDir: filepath.Join(dir, "exports"), Watchlist: []string{"AAPL", "SPY", "MSFT"},
		MonitorOff: true, Subreddits: []string{"wallstreetbets"}}},
		testDeps{Deps: Deps{Logger: logger}, svcDeps: svcDeps{MarketData: env.MarketData, Posts: env.Posts,
			DB: openDB(t, filepath.Join(dir, "ffe.db")), Logger: logger, MarketClock: func() time.Time { return marketNow }}},
		WithTokenOutput(&tokenOut), WithGetenv(func(string) string { return "" }))
	token := s.Token()
	base := serve(t, s)
	hc := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	defer hc.CloseIdleConnections()

	var answers bytes.Buffer // every API answer body
	do := func(method, path, auth string, body io.Reader) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, base+path, body)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := hc.Do(req)
		require.NoError(t, err)
		data, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		answers.Write(data)
		answers.WriteByte('\n')
		res.Body = io.NopCloser(bytes.NewReader(data))
		return res
	}
	bearer := "Bearer " + token

	// Refused tokens: a near miss and the token in the wrong scheme.
	for _, auth := range []string{"Bearer " + token[:len(token)-1] + "x", "Basic " + token, token} {
		res := do(http.MethodGet, "/api/jobs", auth, nil)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	}
	// A validation problem and a job that fails at every symbol.
	res := do(http.MethodPost, "/api/jobs/download-tracker/trigger", bearer, strings.NewReader(`{"formats":["xml"]}`))
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	var ids []string
	for _, body := range []string{`{"symbols":["AAPL","SPY","MSFT"],"range":"2016-01-01/2016-12-31","crew":true}`,
		`{"symbols":["AAPL","SPY"],"range":"2016-01-01/2016-12-31"}`, `{"symbols":["NOPE"],"range":"2016-01-01/2016-12-31"}`} {
		res := do(http.MethodPost, "/api/jobs/download-tracker/trigger", bearer, strings.NewReader(body))
		require.Equal(t, http.StatusAccepted, res.StatusCode)
		ids = append(ids, decode[JobView](t, res).ID)
	}
	failures := 0
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		j, err := s.Queue().Wait(ctx, id)
		cancel()
		require.NoError(t, err)
		v := decode[JobView](t, do(http.MethodGet, "/api/jobs/"+id, bearer, nil))
		if v.Status == jobs.Failed {
			failures++
			continue
		}
		require.Equal(t, jobs.Succeeded, j.State, j.Error)
		var r export.Result
		require.NoError(t, json.Unmarshal(v.Result, &r))
		failures += len(r.Failed)
		ev := decode[ExportView](t, do(http.MethodGet, "/api/exports/"+id, bearer, nil))
		do(http.MethodGet, ev.Links["manifest"], bearer, nil)
		for _, f := range ev.Files {
			require.Equal(t, http.StatusOK, do(http.MethodGet, f.Href, bearer, nil).StatusCode)
		}
	}
	require.Positive(t, failures, "some symbols failed, so provider errors reached the jobs")
	do(http.MethodGet, "/api/jobs", bearer, nil)

	var files bytes.Buffer // every file under the export directory
	require.NoError(t, filepath.WalkDir(filepath.Join(dir, "exports"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		files.Write(data)
		return err
	}))
	require.Positive(t, files.Len())

	require.Equal(t, 1, strings.Count(tokenOut.String(), token), "the generated token is printed once")
	for name, secret := range map[string]string{"API token": token, "provider key": sandbox.Key} {
		require.NotContains(t, logs.String(), secret, "%s in the logs", name)
		require.NotContains(t, answers.String(), secret, "%s in an API answer", name)
		require.NotContains(t, files.String(), secret, "%s in an export", name)
	}
	require.Contains(t, logs.String(), `"level":"DEBUG"`, "debug logs were written")
}
