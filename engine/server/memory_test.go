package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/crew"
	"github.com/leakgate/leakgate/engine/jobs"
)

// TestCrewMemoryBoundedOver200Jobs runs 200 export jobs with crew memory
// on through the API and the job queue and proves the memory never holds
// more than its bound, in entries and in bytes.
func TestCrewMemoryBoundedOver200Jobs(t *testing.T) {
	if testing.Short() {
		t.Skip("200 export jobs")
	}
	const (
		entries = 12
		total   = 200
		batch   = 20
	)
	s := testServer(t, &fakeMD{}, func(c *testConfig, _ *testDeps) {
		c.CrewMemory, c.CrewMemoryEntries, c.CrewMemoryAge = true, entries, time.Hour
		c.KeepExports, c.RetentionInterval = 10, 50*time.Millisecond
	})
	serve(t, s)
	mem := s.Crew().Memory()
	require.NotNil(t, mem)
	require.Equal(t, entries, mem.Cap())
	bound := entries * (crew.MaxEntryBytes + 128)
	maxLen, maxBytes := 0, 0
	for done := 0; done < total; done += batch {
		ids := make([]string, 0, batch)
		for range batch {
			j := trigger(t, s.Handler(), map[string]any{"symbols": []string{"AAPL"}, "formats": []string{"csv"}, "crew": true})
			ids = append(ids, j.ID)
		}
		for _, id := range ids {
			require.Equal(t, jobs.Succeeded, waitJob(t, s, id).State)
			maxLen, maxBytes = max(maxLen, mem.Len()), max(maxBytes, mem.Bytes())
			require.LessOrEqual(t, mem.Len(), entries)
			require.LessOrEqual(t, mem.Bytes(), bound)
		}
	}
	require.Equal(t, entries, mem.Len(), "the memory filled up and stayed at its bound")
	t.Logf("crew memory over %d jobs: at most %d entries (cap %d), at most %d bytes (bound %d)", total, maxLen, entries, maxBytes, bound)
}

// TestCrewMemoryMetrics proves the admin listener exports the crew
// memory's entries and bytes when the memory is on, and neither when off.
func TestCrewMemoryMetrics(t *testing.T) {
	tests := []struct {
		name   string
		memory bool
		want   []string
	}{
		{name: "on", memory: true, want: []string{MetricCrewMemoryEntries + " 3\n", MetricCrewMemoryBytes + " "}},
		{name: "off", memory: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testServer(t, &fakeMD{}, func(c *testConfig, d *testDeps) {
				c.CrewMemory, c.CrewMemoryEntries = tt.memory, 8
				d.Metrics = NewMetrics()
			})
			serve(t, s)
			j := trigger(t, s.Handler(), map[string]any{"symbols": []string{"AAPL"}, "formats": []string{"csv"}, "crew": true})
			require.Equal(t, jobs.Succeeded, waitJob(t, s, j.ID).State)

			res := call(t, s.AdminHandler(), http.MethodGet, "/metrics", "", nil)
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			text := string(body)
			for _, w := range tt.want {
				require.Contains(t, text, w)
			}
			require.Equal(t, tt.memory, strings.Contains(text, MetricCrewMemoryEntries))
		})
	}
}
