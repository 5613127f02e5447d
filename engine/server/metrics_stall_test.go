package server

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/export"
)

// Bounds of the scrape-during-a-stalled-write check.
const (
	// stallHold is how long another connection holds the database's
	// write lock: long enough that a scrape waiting for the queue's
	// write could not pass for one that did not, and shorter than the
	// store's busy timeout (5s), so the write then succeeds.
	stallHold = 3 * time.Second
	// scrapeBound is how fast /metrics must answer meanwhile: it reads
	// counts in memory and nothing else.
	scrapeBound = 100 * time.Millisecond
	// scrapeTries is how many scrapes may try to meet scrapeBound.
	scrapeTries = 3
)

// TestMetricsScrapeDoesNotWaitOnTheDatabase holds the database's write
// lock from another connection while a queue write waits for it, and
// scrapes /metrics meanwhile: the scrape must answer at once (the
// Prometheus collector contract), with the counts as they were, and the
// counts must follow the write once it is through.
func TestMetricsScrapeDoesNotWaitOnTheDatabase(t *testing.T) {
	tests := []struct {
		name string
		// write is the queue write that waits on the lock.
		write func(ctx context.Context, s *Server) error
		// before and after are lines of /metrics during and after the
		// write.
		before, after []string
	}{
		{
			name: "enqueue",
			write: func(ctx context.Context, s *Server) error {
				_, err := s.Queue().Enqueue(ctx, export.Kind, map[string]any{"symbols": []string{"AAPL"}})
				return err
			},
			before: []string{"ffe_export_queue_depth 0", `ffe_export_jobs{status="queued"} 0`},
			after:  []string{"ffe_export_queue_depth 1", `ffe_export_jobs{status="queued"} 1`},
		},
		{
			name: "prune",
			write: func(ctx context.Context, s *Server) error {
				_, err := s.Queue().Prune(ctx, 1, 0)
				return err
			},
			before: []string{"ffe_export_queue_depth 0"},
			after:  []string{"ffe_export_queue_depth 0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testServer(t, &fakeMD{}, nil)
			ctx := t.Context()
			// A first scrape sets the collectors up (the Go runtime's
			// metric descriptions): the measured one is not the first.
			res := call(t, s.AdminHandler(), http.MethodGet, "/metrics", "", nil)
			require.NoError(t, res.Body.Close())
			require.Equal(t, http.StatusOK, res.StatusCode)

			// Another connection takes the write lock and keeps it.
			other, err := sql.Open("sqlite", s.svc.DB().Path())
			require.NoError(t, err)
			defer other.Close()
			conn, err := other.Conn(ctx)
			require.NoError(t, err)
			defer conn.Close()
			_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
			require.NoError(t, err)

			wrote := make(chan error, 1)
			go func() { wrote <- tt.write(context.Background(), s) }()
			// The write is under way once it holds a connection of the
			// store's pool: it waits for the lock, holding the queue's.
			for s.svc.DB().Stats().InUse == 0 {
				select {
				case err := <-wrote:
					t.Fatalf("the write returned while the lock was held: %v", err)
				default:
				}
				time.Sleep(time.Millisecond)
			}

			// A scrape that waited for the write could not answer before
			// it; one that does not wait answers within scrapeBound unless
			// the machine stalls the test itself, so a few tries are
			// allowed, all while the write still waits.
			start := time.Now()
			var tries []time.Duration
			for len(tries) < scrapeTries && (len(tries) == 0 || slices.Min(tries) >= scrapeBound) {
				t0 := time.Now()
				res = call(t, s.AdminHandler(), http.MethodGet, "/metrics", "", nil)
				tries = append(tries, time.Since(t0))
				body, err := io.ReadAll(res.Body)
				require.NoError(t, err)
				require.NoError(t, res.Body.Close())
				require.Equal(t, http.StatusOK, res.StatusCode)
				for _, line := range tt.before {
					require.Contains(t, string(body), line+"\n")
				}
				select {
				case err := <-wrote:
					t.Fatalf("the write ended (%v) before a scrape answered within %s: scrapes took %v", err, scrapeBound, tries)
				default:
				}
			}
			t.Logf("scrapes during the stalled write: %v", tries)
			require.Less(t, slices.Min(tries), scrapeBound, "a scrape waited on the database write")

			time.Sleep(stallHold - time.Since(start)) // the lock stays held for stallHold in all
			_, err = conn.ExecContext(ctx, "ROLLBACK")
			require.NoError(t, err)
			require.NoError(t, <-wrote)

			res = call(t, s.AdminHandler(), http.MethodGet, "/metrics", "", nil)
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.NoError(t, res.Body.Close())
			for _, line := range tt.after {
				require.Contains(t, string(body), line+"\n")
			}
		})
	}
}
