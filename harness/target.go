package harness

import (
	"fmt"
	"os"
)

// Target is the process a run measures: this one (Self, the default) or
// another by PID (Process), optionally with the URL of its Prometheus
// metrics for the numbers only the process itself knows.
type Target struct {
	pid        int // 0: this process
	metricsURL string
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
