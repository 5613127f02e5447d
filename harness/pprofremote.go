package harness

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/google/pprof/profile"
)

// Limits of fetching another process's heap profile (WithPprofURL).
const (
	// MaxPprofBody bounds the heap profile's body as sent (gzipped); a
	// larger one is a note, not a profile. Its decompressed form is bounded
	// to four times as much.
	MaxPprofBody = 64 << 20
	// PprofTimeout bounds one fetch, from connecting to the body's end,
	// including the target's collection before it writes the profile.
	PprofTimeout = 10 * time.Second
)

// errNotLoopback is a dial refused because the address is not on loopback.
var errNotLoopback = errors.New("not a loopback address")

// checkPprofURL parses a target's pprof URL: http or https, with a host,
// on loopback unless remote.
func checkPprofURL(raw string, remote bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("pprof url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("pprof url %q: scheme must be http or https", raw)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("pprof url %q: no host", raw)
	}
	if !remote && !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("pprof url %q: %w (127.0.0.0/8, ::1, localhost; see AllowRemotePprof)", raw, errNotLoopback)
	}
	return u, nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// heapProfileURL is the URL of the heap profile under a pprof index: after
// a collection (gc=1), in the protobuf format (no debug=1).
func heapProfileURL(u *url.URL) string {
	v := *u
	if !strings.HasSuffix(v.Path, "/") {
		v.Path += "/"
	}
	v.RawPath = ""
	return v.ResolveReference(&url.URL{Path: "heap", RawQuery: "gc=1"}).String()
}

// validate checks the target's settings that Run can check before it
// starts.
func (t Target) validate() error {
	if t.pprofURL == "" || t.IsSelf() {
		return nil
	}
	if _, err := checkPprofURL(t.pprofURL, t.pprofRemote); err != nil {
		return fmt.Errorf("harness: target %v: %w", t, err)
	}
	return nil
}

// remoteHeap fetches another process's heap profile when the target has a
// pprof URL and its heap is measured: nil and no note otherwise, nil and a
// note saying why when the fetch fails. Only a final profile keeps the
// sites' frames.
func (s *sampler) remoteHeap(ctx context.Context, t Target, withStacks bool) (heapProfile, string) {
	if s.self || t.pprofURL == "" || s.index(MetricHeap) < 0 {
		return nil, ""
	}
	p, err := fetchHeapProfile(ctx, t.pprofURL, t.pprofRemote, withStacks)
	if err != nil {
		return nil, err.Error()
	}
	return p, ""
}

// fetchHeapProfile fetches and parses the heap profile under a pprof index
// URL, on a connection of its own that it closes before it returns, so
// that the target sees no connection of the harness's between fetches.
func fetchHeapProfile(ctx context.Context, base string, remote, withStacks bool) (heapProfile, error) {
	u, err := checkPprofURL(base, remote)
	if err != nil {
		return nil, err
	}
	data, err := getHeapProfile(ctx, heapProfileURL(u), remote)
	if err != nil {
		return nil, err
	}
	return parseHeapProfile(data, withStacks)
}

// getHeapProfile GETs raw, bounded by PprofTimeout and MaxPprofBody,
// refusing to connect off loopback unless remote, and returns the body.
func getHeapProfile(ctx context.Context, raw string, remote bool) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, PprofTimeout)
	defer cancel()
	d := &net.Dialer{}
	if !remote {
		// Names that resolve off loopback are refused too.
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("connect to %s: %w", address, errNotLoopback)
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:              nil,
		DialContext:        d.DialContext,
		DisableCompression: true, // the profile is gzipped itself
		MaxIdleConns:       1,
	}
	// Closed by the harness, not the target: a Go server that closes a
	// connection keeps its descriptor for half a second.
	defer tr.CloseIdleConnections()
	hc := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, fmt.Errorf("heap profile: %w", err)
	}
	req.Header.Set("User-Agent", "leakgate-harness")
	redacted := req.URL.Redacted()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("heap profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("heap profile %s: status %s", redacted, resp.Status)
	}
	if resp.ContentLength > MaxPprofBody {
		return nil, fmt.Errorf("heap profile %s: %d bytes: %w", redacted, resp.ContentLength, errTooLarge)
	}
	data, err := readAtMost(resp.Body, MaxPprofBody)
	if err != nil {
		return nil, fmt.Errorf("heap profile %s: %w", redacted, err)
	}
	return data, nil
}

// errTooLarge is a heap profile beyond MaxPprofBody, or beyond
// maxPprofDecoded once decompressed.
var errTooLarge = fmt.Errorf("larger than %s", FormatBytes(MaxPprofBody))

// readAtMost reads r to its end, or fails with errTooLarge after limit
// bytes.
func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

// maxPprofDecoded bounds a heap profile once decompressed.
const maxPprofDecoded = 4 * MaxPprofBody

// parseHeapProfile reads a heap profile in pprof's protobuf format,
// gzipped or not, as written by runtime/pprof: its in-use space and
// objects by stack, already scaled by the writer to estimated totals.
func parseHeapProfile(data []byte, withStacks bool) (heapProfile, error) {
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("heap profile: %w", err)
		}
		if data, err = readAtMost(zr, maxPprofDecoded); errors.Is(err, errTooLarge) {
			return nil, fmt.Errorf("heap profile: larger than %s decompressed", FormatBytes(maxPprofDecoded))
		} else if err != nil {
			return nil, fmt.Errorf("heap profile: gunzip: %w", err)
		}
	}
	p, err := profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("heap profile: %w", err)
	}
	return heapProfileOf(p, withStacks)
}

// heapProfileOf sums a parsed heap profile's in-use space and objects by
// stack. Locations are keyed by address, or by their lines when they have
// none (a profile of another process keeps its addresses fixed for its
// lifetime).
func heapProfileOf(p *profile.Profile, withStacks bool) (heapProfile, error) {
	iBytes, iObjs := -1, -1
	for i, st := range p.SampleType {
		switch st.Type {
		case "inuse_space":
			iBytes = i
		case "inuse_objects":
			iObjs = i
		}
	}
	if iBytes < 0 || iObjs < 0 {
		return nil, errors.New("heap profile: no inuse_space and inuse_objects samples: not a Go heap profile")
	}
	out := make(heapProfile, len(p.Sample))
	for _, smp := range p.Sample {
		objs, bytes := smp.Value[iObjs], smp.Value[iBytes]
		if objs == 0 && bytes == 0 {
			continue
		}
		var h maphash.Hash
		h.SetSeed(stackSeed)
		for _, loc := range smp.Location {
			if loc.Address != 0 {
				var b [8]byte
				for k := range b {
					b[k] = byte(loc.Address >> (8 * k))
				}
				h.Write(b[:])
				continue
			}
			for _, ln := range loc.Line {
				if ln.Function != nil {
					h.WriteString(ln.Function.Name)
				}
				fmt.Fprintf(&h, ":%d;", ln.Line)
			}
		}
		key := h.Sum64()
		s := out[key]
		s.objects += float64(objs)
		s.bytes += float64(bytes)
		if withStacks && s.frames == nil {
			s.frames = framesOf(smp.Location)
		}
		out[key] = s
	}
	return out, nil
}

// framesOf lists a sample's frames, innermost first: a location's inlined
// calls come before the function they were inlined into.
func framesOf(locs []*profile.Location) []siteFrame {
	fs := make([]siteFrame, 0, len(locs))
	for _, loc := range locs {
		if len(loc.Line) == 0 {
			fs = append(fs, siteFrame{function: fmt.Sprintf("0x%x", loc.Address)})
		}
		for _, ln := range loc.Line {
			f := siteFrame{line: int(ln.Line)}
			if ln.Function != nil {
				f.function, f.file = ln.Function.Name, ln.Function.Filename
			}
			fs = append(fs, f)
		}
	}
	return fs
}
