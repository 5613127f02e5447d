package cli

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// leakedPiece returns the first piece of key, 4 characters or longer, that
// text holds, or "".
func leakedPiece(text, key string) string {
	for i := 0; i+4 <= len(key); i++ {
		if p := key[i : i+4]; strings.Contains(text, p) {
			return p
		}
	}
	return ""
}

// TestNoSecretInAnyOutputOfAFaultRun points every provider at a loopback
// upstream that refuses each request with 400 and an error text that ends
// in the configured API key, at every offset around the error excerpt's
// cut, then runs `ffe analyze` and an export job through `ffe serve`, and
// scans everything that left the process — stdout, stderr and logs, the
// API's answers, the database and every file under the data and export
// directories — for any piece of the key of 4 characters or more.
func TestNoSecretInAnyOutputOfAFaultRun(t *testing.T) {
	const key = "AVk3y9QzX7pLm2WdHs5T"
	var n atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pad := 150 + int(n.Add(1)%70) // the key straddles the excerpt's cut at some offset
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "%s invalid request for key %s", strings.Repeat("e", pad), key)
	}))
	defer upstream.Close()

	f := newFFE(t, modeSandbox).with(
		"FFE_DATA_SOURCE", "live",
		"FFE_DATA_SANDBOX_URL", upstream.URL,
		"FFE_ALPHAVANTAGE_API_KEY", key,
		"FFE_POLYGON_API_KEY", key,
		"FFE_FINNHUB_API_KEY", key,
		"FFE_SERVER_TOKEN", "tok-0123456789abcdef",
	)
	var outputs []string

	r := f.run("analyze", "AAPL", "--log-level", "debug")
	require.NotEqual(t, ExitOK, r.code, "every provider refuses: %s", r)
	outputs = append(outputs, r.stdout, r.stderr)
	rj := f.run("analyze", "AAPL", "--json")
	outputs = append(outputs, rj.stdout, rj.stderr)

	s := f.startServe("serve", "--addr", "127.0.0.1:0", "--admin-addr", "off", "--log-level", "debug", "--log-format", "json")
	s.token = "tok-0123456789abcdef"
	job := getJSON[map[string]any](s, http.StatusAccepted, http.MethodPost, "/api/jobs/download-tracker/trigger",
		map[string]any{"symbols": []string{"AAPL", "SPY"}, "range": "2016-01-01/2016-03-31"})
	id, _ := job["id"].(string)
	require.NotEmpty(t, id)
	// Every answer, raw: the job while it runs and when it has ended, and
	// the job list.
	rawGet := func(path string) string {
		res := s.do(http.MethodGet, path, nil)
		defer res.Body.Close()
		b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		require.NoError(t, err)
		return string(b)
	}
	require.Eventually(t, func() bool {
		body := rawGet("/api/jobs/" + id)
		outputs = append(outputs, body)
		return strings.Contains(body, `"status":"failed"`) || strings.Contains(body, `"status":"succeeded"`)
	}, 60*time.Second, 50*time.Millisecond)
	outputs = append(outputs, rawGet("/api/jobs"))
	require.Equal(t, ExitOK, s.stop())
	outputs = append(outputs, s.stdout.String(), s.stderr.String())

	seen := 0
	for i, out := range outputs {
		require.Empty(t, leakedPiece(out, key), "output %d holds a piece of the key:\n%s", i, out)
		if strings.Contains(out, "eeee") {
			seen++ // the upstream's error text reached this output, around the key
		}
	}
	require.GreaterOrEqual(t, seen, 3, "the upstream's errors reach the CLI's stderr, its JSON and the job's answer:\n%s", strings.Join(outputs, "\n---\n"))
	// The database (with its WAL) and every file ffe wrote.
	root := filepath.Dir(f.env["FFE_DATA_DIR"])
	files := 0
	require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if p := leakedPiece(string(b), key); p != "" {
			t.Errorf("%s holds %q, a piece of the key", path, p)
		}
		return nil
	}))
	require.Positive(t, files, "the database at least")
	// The test can fail: the key itself is in what the upstream sent.
	require.NotEmpty(t, leakedPiece("… key "+key, key))
}
