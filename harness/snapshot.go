package harness

import (
	"maps"
	"math"
	"time"
)

// Snapshot is a point-in-time reading of a process's resources. Copy
// freely: Gauges is never modified after the snapshot is taken.
//
// A metric that is switched off or unsupported on the target reads -1.
type Snapshot struct {
	Taken      time.Time          `json:"taken"`
	Goroutines int                `json:"goroutines"`
	FDs        int                `json:"fds"`
	Conns      int                `json:"conns"`
	Threads    int                `json:"threads"`
	Children   int                `json:"children"`
	RSS        int64              `json:"rss_bytes"`
	Heap       int64              `json:"heap_bytes"`
	Unclosed   int64              `json:"unclosed"`
	Gauges     map[string]float64 `json:"gauges,omitempty"` // added probes, by name
}

// Value returns a metric by name; ok is false when the snapshot does not
// have it.
func (s Snapshot) Value(metric string) (v float64, ok bool) {
	switch metric {
	case MetricGoroutines:
		v = float64(s.Goroutines)
	case MetricFDs:
		v = float64(s.FDs)
	case MetricConns:
		v = float64(s.Conns)
	case MetricThreads:
		v = float64(s.Threads)
	case MetricChildren:
		v = float64(s.Children)
	case MetricRSS:
		v = float64(s.RSS)
	case MetricHeap:
		v = float64(s.Heap)
	case MetricUnclosed:
		v = float64(s.Unclosed)
	default:
		v, ok = s.Gauges[metric]
		return v, ok
	}
	return v, v >= 0
}

// Delta is the growth between two snapshots, by metric name. Metrics
// missing from either snapshot are absent.
type Delta map[string]float64

// Sub returns the growth from base to s.
func (s Snapshot) Sub(base Snapshot) Delta {
	d := Delta{}
	names := []string{MetricGoroutines, MetricFDs, MetricConns, MetricThreads, MetricChildren, MetricRSS, MetricHeap, MetricUnclosed}
	for _, n := range names {
		a, ok1 := s.Value(n)
		b, ok2 := base.Value(n)
		if ok1 && ok2 {
			d[n] = a - b
		}
	}
	for n, a := range s.Gauges {
		if b, ok := base.Gauges[n]; ok {
			d[n] = a - b
		}
	}
	return d
}

// snapshotOf builds a Snapshot from one sample row.
func snapshotOf(defs []*metricDef, taken time.Time, v []float64) Snapshot {
	s := Snapshot{Taken: taken, Goroutines: -1, FDs: -1, Conns: -1, Threads: -1, Children: -1, RSS: -1, Heap: -1, Unclosed: -1}
	for i, d := range defs {
		x := v[i]
		if d.unsupported || math.IsNaN(x) {
			continue
		}
		switch {
		case d.probe != nil && d.name != MetricUnclosed:
			if s.Gauges == nil {
				s.Gauges = map[string]float64{}
			}
			s.Gauges[d.name] = x
		case d.name == MetricGoroutines:
			s.Goroutines = int(x)
		case d.name == MetricFDs:
			s.FDs = int(x)
		case d.name == MetricConns:
			s.Conns = int(x)
		case d.name == MetricThreads:
			s.Threads = int(x)
		case d.name == MetricChildren:
			s.Children = int(x)
		case d.name == MetricRSS:
			s.RSS = int64(x)
		case d.name == MetricHeap:
			s.Heap = int64(x)
		case d.name == MetricUnclosed:
			s.Unclosed = int64(x)
		}
	}
	s.Gauges = maps.Clone(s.Gauges)
	return s
}
