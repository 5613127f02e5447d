package harness

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
	"github.com/stretchr/testify/require"
)

// testProfile builds a heap profile as runtime/pprof writes it: four sample
// types, in-use ones last, one location per frame (leaf first).
type testProfile struct {
	p     *profile.Profile
	funcs map[string]*profile.Function
	locs  map[string]*profile.Location
}

func newTestProfile() *testProfile {
	return &testProfile{
		p: &profile.Profile{
			SampleType: []*profile.ValueType{
				{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"},
				{Type: "inuse_objects", Unit: "count"}, {Type: "inuse_space", Unit: "bytes"},
			},
			PeriodType: &profile.ValueType{Type: "space", Unit: "bytes"},
			Period:     512 << 10,
		},
		funcs: map[string]*profile.Function{},
		locs:  map[string]*profile.Location{},
	}
}

// add records a site: its frames as "pkg.F file.go:line", leaf first.
func (tp *testProfile) add(objects, bytes int64, frames ...string) {
	var locs []*profile.Location
	for _, fr := range frames {
		loc, ok := tp.locs[fr]
		if !ok {
			name, pos, _ := strings.Cut(fr, " ")
			file, line, _ := strings.Cut(pos, ":")
			fn, ok := tp.funcs[name]
			if !ok {
				fn = &profile.Function{ID: uint64(len(tp.funcs) + 1), Name: name, SystemName: name, Filename: "/w/svc/" + file}
				tp.funcs[name] = fn
				tp.p.Function = append(tp.p.Function, fn)
			}
			n := int64(0)
			for _, c := range line {
				n = 10*n + int64(c-'0')
			}
			loc = &profile.Location{ID: uint64(len(tp.locs) + 1), Address: 0x1000 + uint64(len(tp.locs))*16, Line: []profile.Line{{Function: fn, Line: n}}}
			tp.locs[fr] = loc
			tp.p.Location = append(tp.p.Location, loc)
		}
		locs = append(locs, loc)
	}
	vals := make([]int64, len(tp.p.SampleType))
	for i := range vals {
		vals[i] = []int64{objects, bytes}[i%2]
	}
	tp.p.Sample = append(tp.p.Sample, &profile.Sample{Location: locs, Value: vals})
}

// encode writes the profile gzipped, as /debug/pprof/heap serves it.
func (tp *testProfile) encode(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, tp.p.Write(&buf))
	return buf.Bytes()
}

const (
	mallocFrame = "runtime.mallocgc malloc.go:1000"
	cacheFrame  = "example.com/svc.(*Cache).Put cache.go:42"
	handleFrame = "example.com/svc.handle server.go:77"
	bufFrame    = "bytes.(*Buffer).grow buffer.go:151"
	readFrame   = "example.com/svc.readBody server.go:120"
	onceFrame   = "example.com/svc.init config.go:9"
	ownFrame    = "github.com/leakgate/leakgate/harness.(*runner).run run.go:1"
)

func TestRemoteHeapProfileDiff(t *testing.T) {
	base := newTestProfile()
	base.add(10, 1<<20, mallocFrame, cacheFrame, handleFrame)
	base.add(3, 4<<20, onceFrame)
	base.add(1, 100<<10, bufFrame, readFrame, handleFrame)

	final := newTestProfile()
	final.add(40, 5<<20, mallocFrame, cacheFrame, handleFrame) // +4 MiB
	final.add(3, 4<<20, onceFrame)                             // the same
	final.add(2, 612<<10, bufFrame, readFrame, handleFrame)    // +512 KiB
	final.add(5, 8<<20, ownFrame)                              // the harness's own
	final.add(1, 1<<10, handleFrame)                           // new, +1 KiB

	b, err := parseHeapProfile(base.encode(t), false)
	require.NoError(t, err)
	f, err := parseHeapProfile(final.encode(t), true)
	require.NoError(t, err)
	got := allocSiteFindings(b, f, "")

	tests := []struct {
		summary, stack string
		count          int
	}{
		{"+4.0MiB in 30 objects allocated at svc/cache.go:42 in example.com/svc.(*Cache).Put",
			"example.com/svc.(*Cache).Put\n\t/w/svc/cache.go:42\nexample.com/svc.handle\n\t/w/svc/server.go:77", 30},
		{"+512.0KiB in 1 objects allocated at svc/server.go:120 in example.com/svc.readBody",
			"bytes.(*Buffer).grow\n\t/w/svc/buffer.go:151\nexample.com/svc.readBody\n\t/w/svc/server.go:120\nexample.com/svc.handle\n\t/w/svc/server.go:77", 1},
		{"+1.0KiB in 1 objects allocated at svc/server.go:77 in example.com/svc.handle",
			"example.com/svc.handle\n\t/w/svc/server.go:77", 1},
	}
	require.Len(t, got, len(tests))
	for i, tt := range tests {
		require.Equal(t, MetricHeap, got[i].Metric)
		require.Equal(t, FindingAllocSite, got[i].Kind)
		require.Equal(t, tt.summary, got[i].Summary)
		require.Equal(t, tt.stack, got[i].Stack)
		require.Equal(t, tt.count, got[i].Count)
	}
}

func TestRemoteHeapProfileErrors(t *testing.T) {
	cpu := newTestProfile()
	cpu.p.SampleType = []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}
	cpu.add(1, 1, cacheFrame)
	tests := []struct {
		name    string
		give    []byte
		wantErr string
	}{
		{name: "not a heap profile", give: cpu.encode(t), wantErr: "not a Go heap profile"},
		{name: "not a profile", give: []byte("<html>hello</html>"), wantErr: "heap profile: "},
		{name: "truncated gzip", give: newTestProfile().encode(t)[:12], wantErr: "heap profile: gunzip: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseHeapProfile(tt.give, true)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestCheckPprofURL(t *testing.T) {
	tests := []struct {
		give    string
		remote  bool
		wantErr string
	}{
		{give: "http://127.0.0.1:6060/debug/pprof/"},
		{give: "http://localhost:6060/debug/pprof/"},
		{give: "http://[::1]:6060/debug/pprof/"},
		{give: "https://pprof.example.com/debug/pprof/", remote: true},
		{give: "https://pprof.example.com/debug/pprof/", wantErr: "not a loopback address"},
		{give: "http://10.0.0.1:6060/debug/pprof/", wantErr: "not a loopback address"},
		{give: "ftp://127.0.0.1/debug/pprof/", wantErr: "scheme must be http or https"},
		{give: "http:///debug/pprof/", wantErr: "no host"},
		{give: "http://127.0.0.1:6060/%zz", wantErr: "pprof url: "},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			err := Process(1).WithPprofURL(tt.give).validate()
			if tt.remote {
				err = Process(1).WithPprofURL(tt.give).AllowRemotePprof().validate()
			}
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestHeapProfileURL(t *testing.T) {
	for give, want := range map[string]string{
		"http://127.0.0.1:1/debug/pprof/": "http://127.0.0.1:1/debug/pprof/heap?gc=1",
		"http://127.0.0.1:1/debug/pprof":  "http://127.0.0.1:1/debug/pprof/heap?gc=1",
		"http://127.0.0.1:1/admin/pprof/": "http://127.0.0.1:1/admin/pprof/heap?gc=1",
	} {
		u, err := checkPprofURL(give, false)
		require.NoError(t, err)
		require.Equal(t, want, heapProfileURL(u))
	}
}

func TestFetchHeapProfile(t *testing.T) {
	good := newTestProfile()
	good.add(1, 1<<20, cacheFrame, handleFrame)
	body := good.encode(t)
	var gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.RequestURI()
		switch r.URL.Path {
		case "/ok/heap":
			w.Write(body)
		case "/big/heap":
			// Refused from its length, before its body.
			w.Header().Set("Content-Length", strconv.Itoa(MaxPprofBody+1))
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	p, err := fetchHeapProfile(t.Context(), srv.URL+"/ok/", false, true)
	require.NoError(t, err)
	require.Equal(t, "/ok/heap?gc=1", gotPath)
	require.Len(t, p, 1)

	tests := []struct {
		name, url, wantErr string
	}{
		{name: "404", url: srv.URL + "/nope/", wantErr: "status 404"},
		{name: "too large", url: srv.URL + "/big/", wantErr: "67108865 bytes: larger than 64.0MiB"},
		{name: "refused", url: "http://127.0.0.1:1/debug/pprof/", wantErr: "connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fetchHeapProfile(t.Context(), tt.url, false, true)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := fetchHeapProfile(ctx, srv.URL+"/ok/", false, true)
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestFetchRefusesToConnectOffLoopback(t *testing.T) {
	// 192.0.2.1 is TEST-NET-1: the dial is refused before any packet.
	_, err := getHeapProfile(t.Context(), "http://192.0.2.1:6060/debug/pprof/heap", false)
	require.ErrorIs(t, err, errNotLoopback)
}

func TestReadAtMost(t *testing.T) {
	tests := []struct {
		give    string
		want    string
		wantErr error
	}{
		{give: "", want: ""},
		{give: "1234", want: "1234"},
		{give: "12345", wantErr: errTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			got, err := readAtMost(strings.NewReader(tt.give), 4)
			require.ErrorIs(t, err, tt.wantErr)
			require.Equal(t, tt.want, string(got))
		})
	}
}
