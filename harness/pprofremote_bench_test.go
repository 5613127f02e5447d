package harness

import (
	"bufio"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ffeAdminPrefix starts the line `ffe serve` prints with its admin
// listener's URL (engine/cli.AdminPrefix, not imported: the harness's
// tests do not link the engine).
const ffeAdminPrefix = "ffe: admin on "

// startFFEServe builds cmd/ffe, starts `ffe serve` on loopback ports with
// its state under a temporary directory, and returns its admin URL. The
// process is stopped when b ends.
func startFFEServe(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	bin := filepath.Join(dir, "ffe")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/leakgate/leakgate/cmd/ffe").CombinedOutput(); err != nil {
		b.Fatalf("go build cmd/ffe: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	cmd.Env = []string{
		"HOME=" + dir,
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_DATA_HOME=" + filepath.Join(dir, "share"),
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"FFE_DATA_DIR=" + filepath.Join(dir, "data"),
		"FFE_SERVER_EXPORT_DIR=" + filepath.Join(dir, "exports"),
		"FFE_SERVER_TOKEN=leakgate-pprof-benchmark-token",
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), ffeAdminPrefix); ok {
			admin, _, _ := strings.Cut(u, " ")
			go func() { // drain until exit, so that the server never blocks on stdout
				for sc.Scan() {
				}
			}()
			return admin
		}
	}
	b.Fatalf("ffe serve printed no %q line: %v", ffeAdminPrefix, sc.Err())
	return ""
}

// BenchmarkFetchHeapProfile is the cost of one heap profile of `ffe
// serve` (WithPprofURL): the request, the server's collection and
// encoding, and the parse. A run pays it twice.
func BenchmarkFetchHeapProfile(b *testing.B) {
	base := startFFEServe(b) + "/debug/pprof/"
	u, err := checkPprofURL(base, false)
	if err != nil {
		b.Fatal(err)
	}
	data, err := getHeapProfile(b.Context(), heapProfileURL(u), false)
	if err != nil {
		b.Fatal(err)
	}
	p, err := parseHeapProfile(data, true)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := fetchHeapProfile(b.Context(), base, false, true); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/fetch")
	b.ReportMetric(float64(len(data)), "profile-bytes")
	b.ReportMetric(float64(len(p)), "sites")
}

// BenchmarkParseHeapProfile is the parse alone, by the profile's number of
// sites (20 frames each), for targets larger than an idle server.
func BenchmarkParseHeapProfile(b *testing.B) {
	for _, sites := range []int{1_000, 10_000} {
		b.Run(fmt.Sprint("sites=", sites), func(b *testing.B) {
			tp := newTestProfile()
			for i := range sites {
				frames := make([]string, 20)
				for k := range frames {
					frames[k] = fmt.Sprintf("example.com/svc.f%d file%d.go:%d", (i*7+k)%500, k, i%97+k)
				}
				tp.add(1, 1024, frames...)
			}
			data := tp.encode(b)
			for b.Loop() {
				if _, err := parseHeapProfile(data, true); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/parse")
			b.ReportMetric(float64(len(data)), "profile-bytes")
		})
	}
}
