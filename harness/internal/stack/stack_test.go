package stack

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite testdata/dump.txt from this process")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// all returns the goroutines of this process.
func all(t *testing.T) []Goroutine {
	t.Helper()
	gs, err := Parse(Dump(nil))
	require.NoError(t, err)
	return gs
}

type server struct{ stop chan struct{} }

func (s *server) loop()               { <-s.stop }
func wait[T any](c chan T)            { <-c }
func startBlocked(stop chan struct{}) { go func() { <-stop }() }

// startFixture starts the goroutines that testdata/dump.txt shows.
func startFixture(t *testing.T) {
	stop := make(chan struct{})
	var ready sync.WaitGroup
	s := &server{stop: stop}
	ready.Go(func() {})
	go s.loop()
	go wait(stop)
	startBlocked(stop)
	ready.Wait()
	t.Cleanup(func() { close(stop) })
	require.Eventually(t, func() bool {
		gs, err := Parse(Dump(nil))
		if err != nil {
			return false
		}
		n := 0
		for _, g := range gs {
			if strings.Contains(g.Top, "internal/stack.") && g.State == "chan receive" {
				n++
			}
		}
		return n == 3
	}, 5e9, 1e6)
}

func TestAll(t *testing.T) {
	startFixture(t)
	found := map[string]string{}
	for _, g := range all(t) {
		if strings.Contains(g.Top, "internal/stack.") {
			found[g.Top] = g.Creator
		}
	}
	const pkg = "github.com/leakgate/leakgate/harness/internal/stack."
	require.Equal(t, map[string]string{
		pkg + "(*server).loop":     pkg + "startFixture",
		pkg + "wait[...]":          pkg + "startFixture",
		pkg + "startBlocked.func1": pkg + "startBlocked",
		pkg + "Dump":               "testing.(*T).Run", // the caller, on top of runtime.Stack
	}, found)
}

func TestParseTestdata(t *testing.T) {
	path := filepath.Join("testdata", "dump.txt")
	if *update {
		startFixture(t)
		require.NoError(t, os.WriteFile(path, Dump(nil), 0o644))
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	gs, err := Parse(data)
	require.NoError(t, err)
	byTop := map[string]Goroutine{}
	for _, g := range gs {
		byTop[g.Top] = g
	}
	const pkg = "github.com/leakgate/leakgate/harness/internal/stack."
	loop := byTop[pkg+"(*server).loop"]
	require.Equal(t, "chan receive", loop.State)
	require.Equal(t, pkg+"startFixture", loop.Creator)
	require.True(t, strings.HasPrefix(loop.Stack, "goroutine "), loop.Stack)
	require.Contains(t, loop.Stack, "created by "+pkg+"startFixture in goroutine")
	require.Equal(t, pkg+"startBlocked", byTop[pkg+"startBlocked.func1"].Creator)
	require.Contains(t, byTop, pkg+"wait[...]")
	require.Equal(t, pkg+"(*server).loop", loop.Blocked.Func, "blocked in its own loop, not in the runtime's chanrecv")
	require.Equal(t, "stack/stack_test.go", loop.Blocked.ShortFile())
	require.Positive(t, loop.Blocked.Line)
}

// TestBlockedAt checks, over known stacks, that the frame a goroutine is
// blocked at is the first one outside the runtime, internal packages, sync
// and time.Sleep.
func TestBlockedAt(t *testing.T) {
	tests := []struct {
		name  string
		give  string
		want  Frame
		short string
	}{
		{
			name: "chan receive in a loop",
			give: "goroutine 12 [chan receive]:\nruntime.gopark(0x1?, 0x2?, 0x0?, 0x0?, 0x0?)\n\t/usr/local/go/src/runtime/proc.go:460 +0xce\n" +
				"runtime.chanrecv(0xc000, 0x0, 0x1)\n\t/usr/local/go/src/runtime/chan.go:667 +0x445\n" +
				"runtime.chanrecv1(0xc000?, 0x0?)\n\t/usr/local/go/src/runtime/chan.go:509 +0x12\n" +
				"github.com/leakgate/leakgate/scenarios.(*Monitor).loop(0xc0001)\n\t/work/main/scenarios/x.go:42 +0x5a\n" +
				"created by github.com/leakgate/leakgate/scenarios.(*Monitor).Start in goroutine 1\n\t/work/main/scenarios/x.go:30 +0x6f\n",
			want:  Frame{"github.com/leakgate/leakgate/scenarios.(*Monitor).loop", "/work/main/scenarios/x.go", 42},
			short: "scenarios/x.go",
		},
		{
			name: "wait group",
			give: "goroutine 5 [sync.WaitGroup.Wait]:\nruntime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)\n\t/go/src/runtime/proc.go:460 +0xce\n" +
				"runtime.semacquire1(0xc0, 0x0, 0x1, 0x0, 0x18)\n\t/go/src/runtime/sema.go:192 +0x21d\n" +
				"sync.runtime_SemacquireWaitGroup(0x0?, 0x0?)\n\t/go/src/runtime/sema.go:114 +0x2e\n" +
				"sync.(*WaitGroup).Wait(0xc0)\n\t/go/src/sync/waitgroup.go:206 +0x85\n" +
				"example.com/app/jobs.(*Pool).drain(...)\n\t/src/app/jobs/pool.go:77\n",
			want:  Frame{"example.com/app/jobs.(*Pool).drain", "/src/app/jobs/pool.go", 77},
			short: "jobs/pool.go",
		},
		{
			name: "sleep and IO wait",
			give: "goroutine 6 [sleep]:\ntime.Sleep(0x3b9aca00)\n\t/go/src/runtime/time.go:363 +0x165\n" +
				"main.poll()\n\tmain.go:9 +0x1a\n",
			want:  Frame{"main.poll", "main.go", 9},
			short: "main.go",
		},
		{
			name: "network poller",
			give: "goroutine 7 [IO wait]:\ninternal/poll.runtime_pollWait(0x7f, 0x72)\n\t/go/src/runtime/netpoll.go:351 +0x85\n" +
				"internal/poll.(*pollDesc).wait(0xc0?, 0xc0?, 0x0)\n\t/go/src/internal/poll/fd_poll_runtime.go:84 +0x27\n" +
				"net.(*netFD).Read(0xc0, {0xc0, 0x1000, 0x1000})\n\t/go/src/net/fd_posix.go:68 +0x25\n",
			want:  Frame{"net.(*netFD).Read", "/go/src/net/fd_posix.go", 68},
			short: "net/fd_posix.go",
		},
		{
			name: "runtime only",
			give: "goroutine 2 [force gc (idle)]:\nruntime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)\n\t/go/src/runtime/proc.go:460 +0xce\n" +
				"runtime.forcegchelper()\n\t/go/src/runtime/proc.go:373 +0xb3\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs, err := Parse([]byte(tt.give))
			require.NoError(t, err)
			require.Len(t, gs, 1)
			require.Equal(t, tt.want, gs[0].Blocked)
			if tt.short != "" {
				require.Equal(t, tt.short, gs[0].Blocked.ShortFile())
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    []Goroutine
		wantErr string
	}{
		{
			name: "main and created",
			give: "goroutine 1 [running]:\nmain.main()\n\t/x/main.go:5 +0x1d\n\n" +
				"goroutine 7 [select, 2 minutes, locked to thread]:\nnet/http.(*persistConn).writeLoop(0xc0001)\n\t/go/src/net/http/transport.go:2590 +0xe7\n" +
				"created by net/http.(*Transport).dialConn in goroutine 6\n\t/go/src/net/http/transport.go:1947 +0x1545\n",
			want: []Goroutine{
				{ID: 1, State: "running", Top: "main.main", Blocked: Frame{"main.main", "/x/main.go", 5},
					Stack: "goroutine 1 [running]:\nmain.main()\n\t/x/main.go:5 +0x1d"},
				{ID: 7, State: "select", Top: "net/http.(*persistConn).writeLoop", Creator: "net/http.(*Transport).dialConn",
					Blocked: Frame{"net/http.(*persistConn).writeLoop", "/go/src/net/http/transport.go", 2590},
					Stack:   "goroutine 7 [select, 2 minutes, locked to thread]:\nnet/http.(*persistConn).writeLoop(0xc0001)\n\t/go/src/net/http/transport.go:2590 +0xe7\ncreated by net/http.(*Transport).dialConn in goroutine 6\n\t/go/src/net/http/transport.go:1947 +0x1545"},
			},
		},
		{
			name: "debug header and elided frames",
			give: "goroutine 9 gp=0xc000 m=nil [chan send]:\nmain.f(...)\n\t/x.go:1\n...additional frames elided...\ncreated by main.g\n\t/x.go:2\n",
			want: []Goroutine{{ID: 9, State: "chan send", Top: "main.f", Creator: "main.g", Blocked: Frame{"main.f", "/x.go", 1},
				Stack: "goroutine 9 gp=0xc000 m=nil [chan send]:\nmain.f(...)\n\t/x.go:1\n...additional frames elided...\ncreated by main.g\n\t/x.go:2"}},
		},
		{
			name: "labels",
			give: "goroutine 8 [chan receive, 3 minutes labels:{\"leakgate.run\": \"a#1\", \"k\": \"q\\\"]}, x\"}]:\nmain.f()\n\t/x.go:1\n",
			want: []Goroutine{{ID: 8, State: "chan receive", Top: "main.f", Blocked: Frame{"main.f", "/x.go", 1},
				Labels: map[string]string{"leakgate.run": "a#1", "k": "q\"]}, x"},
				Stack:  "goroutine 8 [chan receive, 3 minutes labels:{\"leakgate.run\": \"a#1\", \"k\": \"q\\\"]}, x\"}]:\nmain.f()\n\t/x.go:1"}},
		},
		{
			name: "leaked",
			give: "goroutine 6 [chan receive (nil chan) (leaked)]:\nmain.f()\n\t/x.go:1\n\ngoroutine 7 [select (leaked), 2 minutes labels:{\"a\": \"b\"}]:\nmain.g()\n\t/x.go:2\n",
			want: []Goroutine{
				{ID: 6, State: "chan receive (nil chan)", Top: "main.f", Blocked: Frame{"main.f", "/x.go", 1}, Leaked: true,
					Stack: "goroutine 6 [chan receive (nil chan) (leaked)]:\nmain.f()\n\t/x.go:1"},
				{ID: 7, State: "select", Top: "main.g", Blocked: Frame{"main.g", "/x.go", 2}, Leaked: true, Labels: map[string]string{"a": "b"},
					Stack: "goroutine 7 [select (leaked), 2 minutes labels:{\"a\": \"b\"}]:\nmain.g()\n\t/x.go:2"},
			},
		},
		{name: "bad labels", give: "goroutine 3 [running labels:{\"a\" \"b\"}]:\n", wantErr: `line 1: parse header: labels in`},
		{name: "bad id", give: "goroutine x [running]:\n", wantErr: `line 1: parse header: bad goroutine ID "x"`},
		{name: "no state", give: "goroutine 3 running:\n", wantErr: "line 1: parse header: no state"},
		{name: "no function", give: "goroutine 3 [running]:\nmain.main\n", wantErr: `line 2: parse function: no function in "main.main"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.give))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseLabelsOfThisProcess(t *testing.T) {
	t.Setenv("GODEBUG", "tracebacklabels=1")
	stop, started := make(chan struct{}), make(chan struct{})
	defer close(stop)
	pprof.Do(context.Background(), pprof.Labels("leakgate.run", `x "1"`), func(context.Context) {
		go func() { close(started); <-stop }()
	})
	<-started
	found := false
	for _, g := range all(t) {
		if g.Labels["leakgate.run"] == `x "1"` {
			found = true
		}
	}
	require.True(t, found, "a goroutine labelled by pprof.Do shows its labels")
}
