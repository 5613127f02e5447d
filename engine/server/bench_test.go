package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/export/exporttest"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/providers/sandbox"
)

const benchBody = `{"symbols":["AAPL","BTC-USD","EUR_USD"],"range":"2016-01-01/2016-12-31","crew":true}`

// BenchmarkTrigger measures the trigger handler in process: decode,
// validate, store the job. It reports the 50th and 99th percentile of the
// handler's latency.
func BenchmarkTrigger(b *testing.B) {
	s := testServer(b, &fakeMD{}, func(c *testConfig, _ *testDeps) { c.QueueCapacity = 1 << 30 })
	h := s.Handler()
	var lat []time.Duration
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/jobs/download-tracker/trigger", strings.NewReader(benchBody))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		lat = append(lat, time.Since(start))
		if rec.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*50/100].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkJobThroughput runs 3-symbol export jobs on the in-process
// sandbox (no provider cache: every job fetches its bars) in batches and
// reports jobs per second.
func BenchmarkJobThroughput(b *testing.B) {
	tests := []struct {
		name      string
		sentiment bool
		crew      bool
		tmpfs     bool
	}{
		{name: "bars"},
		{name: "bars+crew", crew: true},
		{name: "bars+sentiment+crew", sentiment: true, crew: true},
		// The same on tmpfs: what the software does when creating a file
		// does not cost the disk's millisecond.
		{name: "bars+sentiment+crew/tmpfs", sentiment: true, crew: true, tmpfs: true},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			exportDir := ""
			if tt.tmpfs {
				dir, err := os.MkdirTemp("/dev/shm", "ffe-bench-")
				if err != nil {
					b.Skip("no tmpfs at /dev/shm")
				}
				b.Cleanup(func() { os.RemoveAll(dir) })
				exportDir = dir
			}
			h := sandbox.New()
			env, err := exporttest.New(exporttest.Config{BaseURL: exporttest.InProcess, Transport: h.Transport()})
			require.NoError(b, err)
			defer env.Close()
			s := testServer(b, env.MarketData, func(c *testConfig, d *testDeps) {
				c.Workers = 8
				if exportDir != "" {
					c.ExportDir = exportDir
				}
				if tt.sentiment {
					d.Posts, c.Subreddits = env.Posts, []string{"wallstreetbets"}
				}
			})
			serve(b, s)
			body := strings.Replace(benchBody, `"crew":true`, `"crew":`+map[bool]string{true: "true", false: "false"}[tt.crew], 1)
			const batch = 16
			ids := make([]string, 0, batch)
			start := time.Now()
			for b.Loop() {
				ids = ids[:0]
				for range batch {
					res := call(b, s.Handler(), http.MethodPost, "/api/jobs/download-tracker/trigger", testToken, strings.NewReader(body))
					if res.StatusCode != http.StatusAccepted {
						b.Fatalf("status %d", res.StatusCode)
					}
					ids = append(ids, decode[JobView](b, res).ID)
				}
				for _, id := range ids {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					j, err := s.Queue().Wait(ctx, id)
					cancel()
					if err != nil || j.State != jobs.Succeeded {
						b.Fatalf("job %s: %v %s", id, err, j.Error)
					}
				}
			}
			b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "jobs/s")
		})
	}
}
