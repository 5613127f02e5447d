package sandbox

import (
	"maps"
	"sync"
)

// PrefixStats counts the requests one prefix received.
type PrefixStats struct {
	// Requests is the number of requests received.
	Requests int64 `json:"requests"`
	// ByStatus counts answers by HTTP status; 0 counts connections reset
	// and requests canceled before an answer.
	ByStatus map[int]int64 `json:"by_status"`
	// Faults counts injected faults by name: "429", "5xx", "malformed",
	// "slow", "reset", and "canceled" for requests whose context ended
	// during injected latency. Latency itself is not counted.
	Faults map[string]int64 `json:"faults,omitempty"`
}

// statsByPrefix counts requests per prefix. It is safe for concurrent use.
type statsByPrefix struct {
	mu sync.Mutex
	m  map[string]*PrefixStats
}

// record counts one request under prefix, which the caller has already
// mapped to "other" when it names no venue.
func (s *statsByPrefix) record(prefix string, status int, faultName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*PrefixStats{}
	}
	st := s.m[prefix]
	if st == nil {
		st = &PrefixStats{ByStatus: map[int]int64{}, Faults: map[string]int64{}}
		s.m[prefix] = st
	}
	st.Requests++
	st.ByStatus[status]++
	if faultName != "" {
		st.Faults[faultName]++
	}
}

// snapshot returns a deep copy of the counts.
func (s *statsByPrefix) snapshot() map[string]PrefixStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]PrefixStats, len(s.m))
	for k, v := range s.m {
		out[k] = PrefixStats{Requests: v.Requests, ByStatus: maps.Clone(v.ByStatus), Faults: maps.Clone(v.Faults)}
	}
	return out
}

// reset sets every count to zero.
func (s *statsByPrefix) reset() {
	s.mu.Lock()
	s.m = nil
	s.mu.Unlock()
}
