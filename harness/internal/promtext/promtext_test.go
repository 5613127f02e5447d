package promtext

import (
	"context"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParse(t *testing.T) {
	names := []string{"go_goroutines", "go_memstats_heap_inuse_bytes", "absent"}
	tests := []struct {
		name    string
		give    string
		want    []float64
		wantErr string
	}{
		{
			name: "gauges",
			give: "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 12\ngo_memstats_heap_inuse_bytes 4.2e+06\n",
			want: []float64{12, 4.2e6, math.NaN()},
		},
		{
			name: "labels, timestamps and first sample wins",
			give: "go_goroutines{a=\"x}\\\"y\"} 7 1700000000000\ngo_goroutines 9\ngo_memstats_heap_inuse_bytes\t1024\n",
			want: []float64{7, 1024, math.NaN()},
		},
		{name: "similar prefix", give: "go_goroutines_total 3\n", want: []float64{math.NaN(), math.NaN(), math.NaN()}},
		{name: "bad value", give: "go_goroutines many\n", wantErr: "parse metrics line 1: value of go_goroutines"},
		{name: "no value", give: "go_goroutines\n", wantErr: `parse metrics line 1: no value in "go_goroutines"`},
		{name: "unterminated labels", give: "go_goroutines{a=\"b\" 1\n", wantErr: "parse metrics line 1: unterminated labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := make([]float64, len(names))
			err := Parse([]byte(tt.give), names, out)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			for i := range tt.want {
				if math.IsNaN(tt.want[i]) {
					require.True(t, math.IsNaN(out[i]), "%s = %v", names[i], out[i])
				} else {
					require.Equal(t, tt.want[i], out[i], names[i])
				}
			}
		})
	}
}

// newMetricsServer serves a registry with the Go collector and counts the
// connections it accepts.
func newMetricsServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestScrapeKeepsOneConnection(t *testing.T) {
	srv, conns := newMetricsServer(t)
	s, err := New(srv.URL + "/metrics")
	require.NoError(t, err)
	defer s.Close()
	names := []string{"go_goroutines", "go_memstats_heap_inuse_bytes"}
	out := make([]float64, 2)
	for range 5 {
		require.NoError(t, s.Scrape(t.Context(), names, out))
		require.Positive(t, out[0])
		require.Positive(t, out[1])
	}
	require.Equal(t, int32(1), conns.Load())
	require.NotEmpty(t, s.LocalAddr())

	// A server that drops idle connections is redialled.
	srv.CloseClientConnections()
	require.NoError(t, s.Scrape(t.Context(), names, out))
	require.Equal(t, int32(2), conns.Load())
}

func TestScrapeErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	s, err := New(srv.URL)
	require.NoError(t, err)
	defer s.Close()
	out := make([]float64, 1)
	require.ErrorContains(t, s.Scrape(t.Context(), []string{"go_goroutines"}, out), "status 503")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, s.Scrape(ctx, []string{"go_goroutines"}, out), context.Canceled)

	for _, bad := range []string{"ftp://x/metrics", "http:///metrics", "://"} {
		_, err := New(bad)
		require.Error(t, err, bad)
	}
}
