package harness

import (
	"fmt"
	"os"
)

// Target is the process a run measures: this one (Self, the default) or
// another by PID (Process), optionally with the URL of its Prometheus
// metrics for the numbers only the process itself knows.
type Target struct {
	pid         int // 0: this process
	metricsURL  string
	pprofURL    string // net/http/pprof's index, for heap profiles
	pprofRemote bool   // pprofURL may be off loopback
}

// Self returns the target of this process.
func Self() Target { return Target{} }

// Process returns the target of another process, which may be written in
// any language. Descriptors, connections, threads, RSS and children are
// read from /proc; goroutines and heap are unsupported unless the target
// also has a metrics URL (see WithMetricsURL). The scenario drives the
// process (sends it requests, writes to its input); the harness only
// watches.
func Process(pid int) Target { return Target{pid: pid} }

// WithMetricsURL returns a copy of t whose goroutines and heap are read from
// a Prometheus text endpoint: go_goroutines, and the first of
// go_gc_heap_live_bytes, go_memstats_heap_inuse_bytes and
// go_memstats_alloc_bytes that the endpoint exports. The harness keeps one
// connection to the endpoint for the whole run, so it counts as a constant
// in the target's descriptors.
func (t Target) WithMetricsURL(url string) Target {
	t.metricsURL = url
	return t
}

// WithPprofURL returns a copy of t whose heap findings name allocation
// sites, like this process's: url is the target's net/http/pprof index
// ("http://127.0.0.1:6060/debug/pprof/"), and the harness fetches its
// heap profile ("heap?gc=1", which collects first) at the baseline and
// after the final snapshot's counts. When the heap metric fails (which
// needs WithMetricsURL), the sites whose in-use bytes grew most are
// findings. The URL must be on loopback (127.0.0.0/8, ::1, localhost)
// unless AllowRemotePprof, and the harness connects nowhere else.
//
// The sites come at the target's own sampling rate
// (runtime.MemProfileRate, 512 KiB by default), which the harness cannot
// raise from outside: a leak of a few KiB per iteration may leave no
// sample. A profile that cannot be fetched or parsed is a note among the
// findings, not an error of the run. Each fetch uses a connection of its
// own, closed at once, and reads at most MaxPprofBody bytes within
// PprofTimeout. It has no effect on Self.
func (t Target) WithPprofURL(url string) Target {
	t.pprofURL = url
	return t
}

// AllowRemotePprof returns a copy of t whose pprof URL may name a host that
// is not on loopback.
func (t Target) AllowRemotePprof() Target {
	t.pprofRemote = true
	return t
}

// PprofURL returns the pprof URL, or "".
func (t Target) PprofURL() string { return t.pprofURL }

// IsSelf reports whether t is this process.
func (t Target) IsSelf() bool { return t.pid == 0 || t.pid == os.Getpid() }

// PID returns the target's process id.
func (t Target) PID() int {
	if t.pid == 0 {
		return os.Getpid()
	}
	return t.pid
}

// MetricsURL returns the metrics URL, or "".
func (t Target) MetricsURL() string { return t.metricsURL }

// String is "self" or "pid 1234".
func (t Target) String() string {
	if t.IsSelf() {
		return "self"
	}
	return fmt.Sprintf("pid %d", t.pid)
}
