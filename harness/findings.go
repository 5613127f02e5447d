package harness

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/leakgate/leakgate/harness/internal/procfs"
	"github.com/leakgate/leakgate/harness/internal/stack"
)

// Finding names what grew: a group of new goroutines, new descriptors,
// connections or child processes, new items of a probe, or resources that
// only a garbage collection released.
type Finding struct {
	Metric  string   `json:"metric"`
	Kind    string   `json:"kind"`
	Count   int      `json:"count"`
	Summary string   `json:"summary"`
	Items   []string `json:"items,omitempty"`
	Stack   string   `json:"stack,omitempty"`
	// Leaked marks goroutines that the runtime proved blocked forever on
	// synchronisation objects no running goroutine can reach
	// (GOEXPERIMENT=goroutineleakprofile); their Summary starts with
	// LeakedSummary.
	Leaked bool `json:"leaked,omitempty"`
}

// Kinds of findings.
const (
	FindingGoroutine  = "goroutine"   // new goroutines with one creator and top function
	FindingFD         = "fd"          // new descriptors with one description
	FindingConn       = "conn"        // new TCP connections with one state and peer
	FindingChild      = "child"       // new child processes with one command and state
	FindingItem       = "item"        // new items of an ItemProbe
	FindingGCReleased = "gc-released" // resources only a forced garbage collection released
)

// maxItems bounds the example items of one finding.
const maxItems = 10

func appendItem(items []string, s string) []string {
	if len(items) < maxItems {
		return append(items, s)
	}
	return items
}

// goroutineIDs returns the sorted IDs of gs: all a baseline keeps of its
// goroutine dump.
func goroutineIDs(gs []stack.Goroutine) []int {
	ids := make([]int, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	slices.Sort(ids)
	return ids
}

// grouper gathers the findings of one metric and kind by summary.
type grouper struct {
	metric, kind string
	groups       map[string]*Finding
	order        []string // summaries, in order of first appearance
}

func newGrouper(metric, kind string) *grouper {
	return &grouper{metric: metric, kind: kind, groups: map[string]*Finding{}}
}

// add counts one more under summary and returns its finding.
func (g *grouper) add(summary string) *Finding {
	f, ok := g.groups[summary]
	if !ok {
		f = &Finding{Metric: g.metric, Kind: g.kind, Summary: summary}
		g.groups[summary] = f
		g.order = append(g.order, summary)
	}
	f.Count++
	return f
}

// findings returns the groups, largest first, ties in order of first
// appearance.
func (g *grouper) findings() []Finding {
	out := make([]Finding, 0, len(g.order))
	for _, s := range g.order {
		out = append(out, *g.groups[s])
	}
	sortFindings(out)
	return out
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int { return cmp.Compare(b.Count, a.Count) })
}

// goroutineFindings groups the goroutines whose IDs are not in base (sorted)
// by state, top function and creator, with the first one's stack. Groups of
// goroutines that the runtime proved leaked are marked and come first, and
// are also findings of goroutines_leaked.
func goroutineFindings(base []int, final []stack.Goroutine) []Finding {
	grp := newGrouper(MetricGoroutines, FindingGoroutine)
	for _, g := range final {
		if _, seen := slices.BinarySearch(base, g.ID); seen {
			continue
		}
		creator := g.Creator
		if creator == "" {
			creator = "(unknown)"
		}
		summary := goroutineSummary(g, creator)
		if g.Leaked {
			summary = LeakedSummary + ": " + summary
		}
		f := grp.add(summary)
		f.Leaked = g.Leaked
		if f.Count == 1 {
			f.Stack = g.Stack
		}
	}
	out := grp.findings()
	slices.SortStableFunc(out, func(a, b Finding) int {
		switch {
		case a.Leaked == b.Leaked:
			return 0
		case a.Leaked:
			return -1
		}
		return 1
	})
	for _, f := range out {
		if f.Leaked {
			f.Metric = MetricGoroutinesLeaked
			out = append(out, f)
		}
	}
	return out
}

// goroutineSummary names a goroutine's group: where it waits, in which
// state, and its creator. "blocked in chan receive at scenarios/x.go:42
// in scenarios.(*Monitor).loop, created by scenarios.(*Monitor).Start";
// a goroutine with no frame outside the runtime's internals is named by
// its top function.
func goroutineSummary(g stack.Goroutine, creator string) string {
	if g.Blocked.IsZero() {
		return fmt.Sprintf("[%s] %s, created by %s", g.State, g.Top, creator)
	}
	verb := "blocked in " + g.State
	if g.State == "running" || g.State == "runnable" {
		verb = g.State
	}
	return fmt.Sprintf("%s at %s:%d in %s, created by %s", verb, g.Blocked.ShortFile(), g.Blocked.Line, g.Blocked.Func, creator)
}

// newFDs returns the descriptors of final whose key is not in base.
func newFDs(base, final []procfs.FD) []procfs.FD {
	seen := make(map[string]bool, len(base))
	for _, f := range base {
		seen[f.Key()] = true
	}
	var out []procfs.FD
	for _, f := range final {
		if !seen[f.Key()] {
			out = append(out, f)
		}
	}
	return out
}

// fdFindings describes the new descriptors, grouped by description with
// the numbers as items. TCP sockets are grouped by state and peer, as
// connection findings are, and each item describes its socket in full.
func fdFindings(final, fresh []procfs.FD) []Finding {
	listening := listeningAddrs(final)
	grp := newGrouper(MetricFDs, FindingFD)
	for _, f := range fresh {
		desc, item := f.String(), fmt.Sprintf("fd %d", f.Num)
		if f.Conn != nil {
			desc = "socket tcp " + connKey(f.Conn, listening)
			item = fmt.Sprintf("fd %d: %s", f.Num, f.Conn)
		}
		g := grp.add(desc)
		g.Items = appendItem(g.Items, item)
	}
	return grp.findings()
}

// listeningAddrs returns the local addresses of the listening sockets.
func listeningAddrs(fds []procfs.FD) map[string]bool {
	listening := map[string]bool{}
	for _, f := range fds {
		if f.Conn != nil && f.Conn.State == "LISTEN" {
			listening[f.Conn.Local.String()] = true
		}
	}
	return listening
}

// connKey groups a connection by state and peer: the remote address of an
// outgoing connection, or the listening address of an accepted one (whose
// remote port is ephemeral).
func connKey(c *procfs.Conn, listening map[string]bool) string {
	switch {
	case c.State == "LISTEN":
		return "LISTEN on " + c.Local.String()
	case listening[c.Local.String()] || listening[anyAddr(c)]:
		return fmt.Sprintf("%s accepted on %s from %s", c.State, c.Local, c.Remote.Addr())
	default:
		return fmt.Sprintf("%s to %s", c.State, c.Remote)
	}
}

// connFindings groups new TCP connections by state and peer.
func connFindings(final, fresh []procfs.FD) []Finding {
	listening := listeningAddrs(final)
	grp := newGrouper(MetricConns, FindingConn)
	for _, f := range fresh {
		if f.Conn == nil {
			continue
		}
		g := grp.add(connKey(f.Conn, listening))
		g.Items = appendItem(g.Items, f.Conn.String())
	}
	return grp.findings()
}

// anyAddr is the wildcard listening address on a connection's local port.
func anyAddr(c *procfs.Conn) string {
	if c.Local.Addr().Is4() {
		return fmt.Sprintf("0.0.0.0:%d", c.Local.Port())
	}
	return fmt.Sprintf("[::]:%d", c.Local.Port())
}

// childFindings describes child processes absent from the baseline.
func childFindings(base, final []procfs.Child) []Finding {
	seen := map[int]bool{}
	for _, c := range base {
		seen[c.PID] = true
	}
	grp := newGrouper(MetricChildren, FindingChild)
	for _, c := range final {
		if seen[c.PID] {
			continue
		}
		summary := c.Comm
		if c.State == "Z" {
			summary += " (zombie: exited, not waited for)"
		}
		g := grp.add(summary)
		g.Items = appendItem(g.Items, fmt.Sprintf("pid %d (%s)", c.PID, c.State))
	}
	return grp.findings()
}

// itemFindings counts the items of a probe that outnumber the baseline's.
func itemFindings(metric string, base, final []string) []Finding {
	count := map[string]int{}
	for _, s := range base {
		count[s]--
	}
	for _, s := range final {
		count[s]++
	}
	var out []Finding
	for _, s := range slices.Sorted(maps.Keys(count)) {
		if n := count[s]; n > 0 {
			out = append(out, Finding{Metric: metric, Kind: FindingItem, Count: n, Summary: s})
		}
	}
	sortFindings(out)
	return out
}

// gcReleasedFinding reports descriptors that were open before the final
// forced collection and closed after it: dropped without Close, released
// by a finalizer.
func gcReleasedFinding(metric string, n int, gone []procfs.FD) Finding {
	noun := "descriptors"
	if metric == MetricConns {
		noun = "TCP connections"
	}
	f := Finding{
		Metric:  metric,
		Kind:    FindingGCReleased,
		Count:   n,
		Summary: noun + " released only by garbage collection: dropped without Close",
	}
	for _, fd := range gone {
		if metric == MetricConns && fd.Conn == nil {
			continue
		}
		f.Items = appendItem(f.Items, fmt.Sprintf("fd %d: %s", fd.Num, fd))
	}
	return f
}

// goneFDs returns the descriptors of before whose key is not in after.
func goneFDs(before, after []procfs.FD) []procfs.FD { return newFDs(after, before) }

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}
