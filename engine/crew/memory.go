package crew

import (
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/leakgate/leakgate/providers/leakinject"
)

// Defaults of a Memory.
const (
	DefaultMemoryEntries = 64
	DefaultMemoryAge     = 24 * time.Hour
	// MaxEntryBytes bounds the text of one memory entry; longer text is
	// cut at a rune boundary.
	MaxEntryBytes = 512
	// maxLabelBytes bounds the task and symbol of an entry.
	maxLabelBytes = 64
)

// Entry is one remembered conclusion.
type Entry struct {
	Time   time.Time `json:"time"`
	Task   string    `json:"task"`
	Symbol string    `json:"symbol,omitempty"`
	Text   string    `json:"text"`
}

// Memory is a bounded store of recent entries: at most max entries, none
// older than maxAge, each at most MaxEntryBytes of text. Adding beyond the
// bound drops the oldest entry. It is safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	max     int
	maxAge  time.Duration
	now     func() time.Time
	entries []Entry // ring buffer of capacity max
	start   int     // index of the oldest entry
	n       int     // entries held
}

// NewMemory returns a Memory holding at most maxEntries entries younger than
// maxAge. Non-positive values take DefaultMemoryEntries and
// DefaultMemoryAge. now is the time source; nil means time.Now.
func NewMemory(maxEntries int, maxAge time.Duration, now func() time.Time) *Memory {
	if maxEntries <= 0 {
		maxEntries = DefaultMemoryEntries
	}
	if maxAge <= 0 {
		maxAge = DefaultMemoryAge
	}
	if now == nil {
		now = time.Now
	}
	return &Memory{max: maxEntries, maxAge: maxAge, now: now, entries: make([]Entry, maxEntries)}
}

// Cap returns the most entries the memory holds.
func (m *Memory) Cap() int { return m.max }

// Add stores e, stamped with the current time, dropping expired entries and
// the oldest one when full.
func (m *Memory) Add(e Entry) {
	// Clone, so an entry never pins a larger string it was cut from.
	e.Text = strings.Clone(truncate(e.Text, MaxEntryBytes))
	e.Task = strings.Clone(truncate(e.Task, maxLabelBytes))
	e.Symbol = strings.Clone(truncate(e.Symbol, maxLabelBytes))
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	e.Time = now
	m.expireLocked(now)
	if m.n == m.max && leakinject.On(leakinject.CrewMemoryUnbounded) {
		// BUG-040: the bound is ignored; the memory grows by every entry
		// of every job.
		m.entries = append(append(m.entries[m.start:m.n:m.n], m.entries[:m.start]...), Entry{})
		m.start, m.max = 0, m.max+1
	}
	if m.n == m.max {
		m.entries[m.start] = Entry{}
		m.start = (m.start + 1) % m.max
		m.n--
	}
	m.entries[(m.start+m.n)%m.max] = e
	m.n++
}

// Recent returns up to n unexpired entries, oldest first; n <= 0 means all.
func (m *Memory) Recent(n int) []Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expireLocked(m.now())
	if n <= 0 || n > m.n {
		n = m.n
	}
	out := make([]Entry, 0, n)
	for i := m.n - n; i < m.n; i++ {
		out = append(out, m.entries[(m.start+i)%m.max])
	}
	return out
}

// Len returns how many unexpired entries the memory holds.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expireLocked(m.now())
	return m.n
}

// Bytes returns the total text size of the unexpired entries held.
func (m *Memory) Bytes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expireLocked(m.now())
	total := 0
	for i := range m.n {
		e := m.entries[(m.start+i)%m.max]
		total += len(e.Text) + len(e.Task) + len(e.Symbol)
	}
	return total
}

// Clear drops every entry.
func (m *Memory) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.entries)
	m.start, m.n = 0, 0
}

func (m *Memory) expireLocked(now time.Time) {
	cutoff := now.Add(-m.maxAge)
	for m.n > 0 && m.entries[m.start].Time.Before(cutoff) {
		m.entries[m.start] = Entry{}
		m.start = (m.start + 1) % m.max
		m.n--
	}
}

// truncate shortens s to at most n bytes without splitting a rune.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
