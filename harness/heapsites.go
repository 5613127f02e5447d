package harness

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/leakgate/leakgate/harness/internal/stack"
)

// FindingAllocSite is the kind of a heap finding: a call site whose live
// bytes grew between the baseline and the final snapshot.
const FindingAllocSite = "alloc-site"

// Limits of the heap findings.
const (
	maxAllocSites  = 5 // findings per run, the sites that grew most
	allocSiteDepth = 6 // frames shown per site
)

// DefaultHeapProfileRate is the heap profile's sampling rate during a run
// of this process (WithHeapProfileRate): one sample per 64 KiB allocated on
// average, eight times the runtime's default, so that a leak of a few KiB
// per iteration leaves samples to name its site.
const DefaultHeapProfileRate = 64 << 10

// profileRate raises runtime.MemProfileRate for the runs in progress in
// this process and restores it when the last one ends.
var profileRate struct {
	mu    sync.Mutex
	depth int
	old   int
}

// raiseProfileRate makes the heap profile sample at least every rate bytes
// until the matching restoreProfileRate. It reports whether it did
// anything, for the caller to restore.
func raiseProfileRate(rate int) bool {
	if rate <= 0 {
		return false
	}
	profileRate.mu.Lock()
	defer profileRate.mu.Unlock()
	profileRate.depth++
	if profileRate.depth == 1 {
		profileRate.old = runtime.MemProfileRate
		if runtime.MemProfileRate == 0 || runtime.MemProfileRate > rate {
			runtime.MemProfileRate = rate
		}
	}
	return true
}

func restoreProfileRate() {
	profileRate.mu.Lock()
	defer profileRate.mu.Unlock()
	profileRate.depth--
	if profileRate.depth == 0 {
		runtime.MemProfileRate = profileRate.old
	}
}

// heapSite is the in-use memory of one allocation stack in the heap
// profile, scaled from the profile's samples to estimated totals. Only the
// final profile keeps the stack: as program counters for this process
// (readHeapProfile), as the profile's frames for another one
// (parseHeapProfile).
type heapSite struct {
	bytes, objects float64
	stack          []uintptr
	frames         []siteFrame
}

// siteFrame is one frame of an allocation stack.
type siteFrame struct {
	function, file string
	line           int
}

// hasStack reports whether the site kept its stack.
func (s heapSite) hasStack() bool { return s.stack != nil || s.frames != nil }

// frameList returns the site's frames, innermost first.
func (s heapSite) frameList() []siteFrame {
	if s.frames != nil || s.stack == nil {
		return s.frames
	}
	var out []siteFrame
	frames := runtime.CallersFrames(s.stack)
	for {
		f, more := frames.Next()
		out = append(out, siteFrame{function: f.Function, file: f.File, line: f.Line})
		if !more {
			return out
		}
	}
}

// heapProfile is a heap profile by allocation stack, of this process or,
// fetched from its pprof URL, of another one.
type heapProfile map[uint64]heapSite

var stackSeed = maphash.MakeSeed()

// readHeapProfile reads this process's heap profile as of the latest
// completed collection. Records of the baseline keep no stacks, so that
// what the harness holds in the heap it measures stays small (tens of
// bytes per site, the same at every later point).
func readHeapProfile(withStacks bool) heapProfile {
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, false)
	for {
		recs = make([]runtime.MemProfileRecord, n+50)
		var ok bool
		if n, ok = runtime.MemProfile(recs, false); ok {
			recs = recs[:n]
			break
		}
	}
	rate := float64(runtime.MemProfileRate)
	p := make(heapProfile, len(recs))
	for i := range recs {
		r := &recs[i]
		objs, bytes := r.InUseObjects(), r.InUseBytes()
		if objs == 0 {
			continue
		}
		stk := r.Stack()
		var h maphash.Hash
		h.SetSeed(stackSeed)
		for _, pc := range stk {
			var b [8]byte
			for k := range b {
				b[k] = byte(pc >> (8 * k))
			}
			h.Write(b[:])
		}
		s := p[h.Sum64()]
		scale := scaleHeapSample(objs, bytes, rate)
		s.objects += float64(objs) * scale
		s.bytes += float64(bytes) * scale
		if withStacks && s.stack == nil {
			s.stack = slices.Clone(stk)
		}
		p[h.Sum64()] = s
	}
	return p
}

// scaleHeapSample estimates how many objects a sample stands for: the
// runtime records an allocation with probability 1-exp(-size/rate), as
// runtime/pprof's own scaling assumes.
func scaleHeapSample(count, size int64, rate float64) float64 {
	if count == 0 || size == 0 || rate <= 1 {
		return 1
	}
	avg := float64(size) / float64(count)
	return 1 / (1 - math.Exp(-avg/rate))
}

// allocSiteFindings lists the allocation sites whose in-use bytes grew
// most from base to final, at most maxAllocSites, each with its growth in
// bytes and objects and a short stack. Sites of the harness itself are
// left out. A note says why there are no profiles to compare (another
// process's that could not be fetched): it is then the only finding.
func allocSiteFindings(base, final heapProfile, note string) []Finding {
	if note != "" {
		return []Finding{{Metric: MetricHeap, Kind: FindingAllocSite, Summary: "no allocation sites: " + note}}
	}
	type grown struct {
		bytes, objects float64
		site           heapSite
	}
	var gs []grown
	for k, f := range final {
		b := base[k]
		if d := f.bytes - b.bytes; d > 0 && f.hasStack() {
			gs = append(gs, grown{bytes: d, objects: max(f.objects-b.objects, 0), site: f})
		}
	}
	slices.SortFunc(gs, func(a, b grown) int { return cmp.Compare(b.bytes, a.bytes) })
	var out []Finding
	for _, g := range gs {
		if len(out) == maxAllocSites {
			break
		}
		site, trace := describeStack(g.site.frameList())
		if site == "" {
			continue // the harness's own
		}
		out = append(out, Finding{
			Metric:  MetricHeap,
			Kind:    FindingAllocSite,
			Count:   int(math.Round(g.objects)),
			Summary: fmt.Sprintf("+%s in %.0f objects allocated at %s", FormatBytes(g.bytes), g.objects, site),
			Stack:   trace,
		})
	}
	return out
}

// describeStack returns the first frame outside the runtime and the
// standard library's allocation paths ("x.go:42 in pkg.F"), and the stack's
// first frames above the runtime's allocator, one per line; "" when the
// stack is the harness's own.
func describeStack(frames []siteFrame) (site, trace string) {
	var lines []string
	for _, f := range frames {
		// The allocator's own frames (mallocgc, makeslice, growslice) say
		// nothing about the leak: the printed stack starts above them.
		skip := len(lines) == 0 && strings.HasPrefix(f.function, "runtime.")
		if f.function != "" && !skip && len(lines) < allocSiteDepth {
			lines = append(lines, fmt.Sprintf("%s\n\t%s:%d", f.function, f.file, f.line))
		}
		if site == "" && f.function != "" && !allocInternal(f.function) {
			if strings.HasPrefix(f.function, "github.com/leakgate/leakgate/harness.") {
				return "", "" // the harness's own
			}
			site = fmt.Sprintf("%s:%d in %s", stack.ShortFile(f.file), f.line, f.function)
		}
		if site != "" && len(lines) == allocSiteDepth {
			break
		}
	}
	return site, strings.Join(lines, "\n")
}

// allocInternal reports frames that say how memory was allocated, not
// where: the runtime, internal packages, and the standard library's
// growth helpers (slices, strings.Builder, bytes.Buffer, fmt, append paths).
func allocInternal(fn string) bool {
	for _, p := range []string{"runtime.", "internal/", "slices.", "strings.(*Builder)", "bytes.(*Buffer)", "bytes.growSlice",
		"fmt.", "strconv.", "reflect.", "encoding/json.", "maps."} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}
