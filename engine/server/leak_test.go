package server

import (
	"bufio"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/export/exporttest"
	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/sandbox"
)

// sample is a reading of the process' resources.
type sample struct {
	Goroutines int
	FDs        int
	TCP        int
	Unclosed   int64
	Open       int64
	DBInUse    int    // database connections in use
	Heap       uint64 // live heap after a GC
}

func (s sample) String() string {
	return fmt.Sprintf("goroutines %d, fds %d, tcp %d, unclosed %d, open clients %d, db connections in use %d, live heap %d KiB",
		s.Goroutines, s.FDs, s.TCP, s.Unclosed, s.Open, s.DBInUse, s.Heap>>10)
}

// socketInodes returns the inodes of the TCP sockets in /proc/net/tcp and
// tcp6 (this network namespace).
func socketInodes(t testing.TB) map[string]bool {
	t.Helper()
	inodes := map[string]bool{}
	for _, name := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		f, err := os.Open(name)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) > 9 {
				inodes[fields[9]] = true
			}
		}
		f.Close()
		require.NoError(t, sc.Err())
	}
	return inodes
}

// take reads the process' resources; heap forces a GC first. It first
// closes the idle connections of db's pool, whose number (up to the pool's
// bound, two descriptors each) depends on how many requests happened to
// overlap, so that only connections in use, which a leak would hold,
// count.
func take(t testing.TB, db *sql.DB, heap bool) sample {
	t.Helper()
	db.SetMaxIdleConns(-1) // closes every idle connection
	db.SetMaxIdleConns(2)  // back to database/sql's default, as openDB leaves it
	s := sample{Goroutines: runtime.NumGoroutine(), Unclosed: providers.Unclosed(), Open: providers.OpenClients(),
		DBInUse: db.Stats().InUse}
	inodes := socketInodes(t)
	fds, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	for _, fd := range fds {
		link, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if err != nil {
			continue // the directory's own fd, closed by now
		}
		s.FDs++
		if inode, ok := strings.CutPrefix(link, "socket:["); ok && inodes[strings.TrimSuffix(inode, "]")] {
			s.TCP++
		}
	}
	if heap {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s.Heap = ms.HeapAlloc
	}
	return s
}

// settle polls until the counts are back to base or the time is up, and
// returns the last sample.
func settle(t testing.TB, db *sql.DB, base sample, within time.Duration) sample {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s := take(t, db, false)
		back := s.Goroutines <= base.Goroutines && s.FDs <= base.FDs && s.TCP <= base.TCP &&
			s.Unclosed <= base.Unclosed && s.Open <= base.Open && s.DBInUse == 0
		if back || time.Now().After(deadline) {
			return take(t, db, true)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// slope is the least-squares slope of ys over their index.
func slope(ys []float64) float64 {
	n := float64(len(ys))
	var sx, sy, sxx, sxy float64
	for i, y := range ys {
		x := float64(i)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

// TestFiftyExportCyclesReturnToBaseline runs 50 export cycles (trigger,
// wait, read the manifest, download every file, delete) against a server
// whose providers reach a loopback sandbox with no cache, crew memory and
// the sentiment scan on, and proves goroutines, descriptors, TCP
// connections, open and unclosed provider clients return to their baseline,
// that no database connection is left in use, and that the live heap does
// not trend upward.
func TestFiftyExportCyclesReturnToBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("50 export cycles")
	}
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc")
	}
	const (
		warmup = 10
		cycles = 50
		// maxSlope bounds the growth of the live heap per cycle over the
		// last 40 cycles. With the runtime's threads created beforehand
		// (harness.PrewarmThreads), a healthy server measures under 250 bytes, on
		// a loaded machine too; crew memory without a bound, the
		// incident's leak, grows 1.3 to 1.9 KiB per cycle.
		maxSlope = 640
		// threads is more OS threads than the cycles block in system
		// calls at once (a commit syncs up to 16 files in parallel).
		threads = 64
	)
	srv, err := sandbox.Start()
	require.NoError(t, err)
	defer srv.Close()
	m := NewMetrics()
	env, err := exporttest.New(exporttest.Config{BaseURL: srv.BaseURL, Observer: m.ObserveProviderRequest})
	require.NoError(t, err)
	defer func() { require.NoError(t, env.Close()) }()
	s := testServer(t, env.MarketData, func(c *Config, d *Deps) {
		d.Posts, d.Metrics = env.Posts, m
		c.Subreddits = []string{"wallstreetbets"}
		c.CrewMemory, c.CrewMemoryEntries = true, 16
	})
	base := serve(t, s)

	cycle := func() {
		c := &client{t: t, base: base, hc: &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}}
		job, _ := c.exportCycle("AAPL", "BTC-USD", "EUR_USD")
		res := c.do(http.MethodDelete, "/api/exports/"+job.ID, nil)
		res.Body.Close()
		require.Equal(t, http.StatusNoContent, res.StatusCode)
		c.hc.CloseIdleConnections()
	}
	harness.PrewarmThreads(threads)
	for range warmup {
		cycle()
	}
	db := s.deps.DB.DB() // the store's pool
	baseline := settle(t, db, take(t, db, false), 5*time.Second)
	t.Logf("baseline after %d warm-up cycles: %s", warmup, baseline)

	heap := make([]float64, 0, cycles)
	var peak sample
	for range cycles {
		cycle()
		smp := take(t, db, true)
		heap = append(heap, float64(smp.Heap))
		peak.Goroutines, peak.FDs, peak.TCP = max(peak.Goroutines, smp.Goroutines), max(peak.FDs, smp.FDs), max(peak.TCP, smp.TCP)
	}
	final := settle(t, db, baseline, 10*time.Second)
	trend := slope(heap[cycles-40:])
	t.Logf("peak during cycles: goroutines %d, fds %d, tcp %d", peak.Goroutines, peak.FDs, peak.TCP)
	t.Logf("after %d cycles and settling: %s", cycles, final)
	t.Logf("live heap over the last 40 cycles: first %d KiB, last %d KiB, slope %+.0f B/cycle (bound %d)",
		int(heap[cycles-40])>>10, int(heap[cycles-1])>>10, trend, maxSlope)
	t.Logf("crew memory: %d entries (cap %d), %d bytes", s.Crew().Memory().Len(), s.Crew().Memory().Cap(), s.Crew().Memory().Bytes())

	require.LessOrEqual(t, final.Goroutines, baseline.Goroutines, "goroutines")
	require.LessOrEqual(t, final.FDs, baseline.FDs, "file descriptors")
	require.LessOrEqual(t, final.TCP, baseline.TCP, "TCP connections")
	require.Equal(t, baseline.Unclosed, final.Unclosed, "unclosed provider clients")
	require.Equal(t, baseline.Open, final.Open, "open provider clients")
	require.Zero(t, final.DBInUse, "database connections in use")
	require.Less(t, trend, float64(maxSlope), "live heap trends upward")
	require.LessOrEqual(t, s.Crew().Memory().Len(), 16)
	require.Equal(t, 0, s.Queue().Stats().Running+s.Queue().Stats().Queued)
}
