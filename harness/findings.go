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

// goroutineFindings groups the goroutines whose IDs are not in base (sorted)
// by creator and top function.
func goroutineFindings(base []int, final []stack.Goroutine) []Finding {
	type key struct{ creator, top, state string }
	groups := map[key]*Finding{}
	var order []key
	for _, g := range final {
		if _, seen := slices.BinarySearch(base, g.ID); seen {
			continue
		}
		k := key{g.Creator, g.Top, g.State}
		f, ok := groups[k]
		if !ok {
			creator := g.Creator
			if creator == "" {
				creator = "(unknown)"
			}
			f = &Finding{
				Metric:  MetricGoroutines,
				Kind:    FindingGoroutine,
				Summary: fmt.Sprintf("[%s] %s, created by %s", g.State, g.Top, creator),
				Stack:   g.Stack,
			}
			groups[k] = f
			order = append(order, k)
		}
		f.Count++
	}
	out := make([]Finding, 0, len(order))
	for _, k := range order {
		out = append(out, *groups[k])
	}
	sortFindings(out)
	return out
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int { return cmp.Compare(b.Count, a.Count) })
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
	groups := map[string]*Finding{}
	var order []string
	for _, f := range fresh {
		desc, item := f.String(), fmt.Sprintf("fd %d", f.Num)
		if f.Conn != nil {
			desc = "socket tcp " + connKey(f.Conn, listening)
			item = fmt.Sprintf("fd %d: %s", f.Num, f.Conn)
		}
		g, ok := groups[desc]
		if !ok {
			g = &Finding{Metric: MetricFDs, Kind: FindingFD, Summary: desc}
			groups[desc] = g
			order = append(order, desc)
		}
		g.Count++
		g.Items = appendItem(g.Items, item)
	}
	out := make([]Finding, 0, len(order))
	for _, d := range order {
		out = append(out, *groups[d])
	}
	sortFindings(out)
	return out
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
func connFindings(final []procfs.FD, fresh []procfs.FD) []Finding {
	listening := listeningAddrs(final)
	groups := map[string]*Finding{}
	var order []string
	for _, f := range fresh {
		c := f.Conn
		if c == nil {
			continue
		}
		key := connKey(c, listening)
		g, ok := groups[key]
		if !ok {
			g = &Finding{Metric: MetricConns, Kind: FindingConn, Summary: key}
			groups[key] = g
			order = append(order, key)
		}
		g.Count++
		g.Items = appendItem(g.Items, c.String())
	}
	out := make([]Finding, 0, len(order))
	for _, k := range order {
		out = append(out, *groups[k])
	}
	sortFindings(out)
	return out
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
	groups := map[string]*Finding{}
	var order []string
	for _, c := range final {
		if seen[c.PID] {
			continue
		}
		key := c.Comm
		if c.State == "Z" {
			key += " (zombie: exited, not waited for)"
		}
		g, ok := groups[key]
		if !ok {
			g = &Finding{Metric: MetricChildren, Kind: FindingChild, Summary: key}
			groups[key] = g
			order = append(order, key)
		}
		g.Count++
		g.Items = appendItem(g.Items, fmt.Sprintf("pid %d (%s)", c.PID, c.State))
	}
	out := make([]Finding, 0, len(order))
	for _, k := range order {
		out = append(out, *groups[k])
	}
	sortFindings(out)
	return out
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
		Summary: fmt.Sprintf("%d %s released only by garbage collection: dropped without Close", n, noun),
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
