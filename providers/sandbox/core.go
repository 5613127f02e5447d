package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leakgate/leakgate/providers"
)

// core is what every venue shares: the recorded data, the replay clock and
// the sequence that numbers ids. It is safe for concurrent use.
type core struct {
	opts options
	data map[string]*series
	seq  atomic.Uint64 // numbers request ids, order ids and the like

	clockMu sync.Mutex
	day     time.Time // the replay clock's date; zero when not replaying
}

func newCore(o options, data map[string]*series) *core {
	c := &core{opts: o, data: data}
	if o.replay {
		c.day = o.replayStart
	}
	return c
}

// nextID returns the next number of the sequence (1, 2, …).
func (c *core) nextID() uint64 { return c.seq.Add(1) }

// requestID is a deterministic 32-hex-digit request id, as Polygon sends.
func (c *core) requestID() string {
	n := c.nextID()
	return fmt.Sprintf("%016x%016x", mix(n), mix(n^0x5bd1e995))
}

// uuid returns a deterministic version-4-shaped UUID from the sequence.
func (c *core) uuid() string {
	n := c.nextID()
	a, b := mix(n), mix(^n)
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", uint32(a>>32), uint16(a>>16), uint16(a)&0xfff,
		0x8000|uint16(b>>48)&0x3fff, b&0xffffffffffff)
}

// mix is a 64-bit finaliser (splitmix64) for deterministic ids.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// credential classifies an API key or token: missing, revoked or valid.
func credential(v string) (ok, revoked bool) {
	v = strings.TrimSpace(v)
	return v != "" && v != RevokedKey, v == RevokedKey
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// Clock.

// view returns the series of a normalised symbol and how many of its bars
// are visible at the clock's date (at least one).
func (c *core) view(symbol string) (*series, int, bool) {
	s, ok := c.data[symbol]
	if !ok {
		return nil, 0, false
	}
	if !c.opts.replay {
		return s, len(s.bars), true
	}
	c.clockMu.Lock()
	day := c.day
	c.clockMu.Unlock()
	return s, visible(s, day), true
}

// visible is the number of bars of s dated on or before day, at least one.
func visible(s *series, day time.Time) int {
	n := s.search(day.AddDate(0, 0, 1))
	return max(n, 1)
}

// quoteIndex returns the index of the bar a quote of symbol is served from
// and, with StepPerQuote, moves the clock to the symbol's next bar.
func (c *core) quoteIndex(symbol string) (*series, int, bool) {
	s, ok := c.data[symbol]
	if !ok {
		return nil, 0, false
	}
	if !c.opts.replay {
		return s, len(s.bars) - 1, true
	}
	c.clockMu.Lock()
	defer c.clockMu.Unlock()
	n := visible(s, c.day)
	if c.opts.step == StepPerQuote && n < len(s.bars) {
		c.day = s.bars[n].Time
	}
	return s, n - 1, true
}

// advance moves the replay clock by days; without replay it does nothing.
func (c *core) advance(days int) {
	if !c.opts.replay {
		return
	}
	c.clockMu.Lock()
	c.day = c.day.AddDate(0, 0, days)
	c.clockMu.Unlock()
}

// setDate moves the replay clock to t's UTC day; without replay it does
// nothing.
func (c *core) setDate(t time.Time) {
	if !c.opts.replay {
		return
	}
	c.clockMu.Lock()
	c.day = utcDate(t)
	c.clockMu.Unlock()
}

// date is the replay clock's date, or without replay the date of the
// latest bar of all series.
func (c *core) date() time.Time {
	if c.opts.replay {
		c.clockMu.Lock()
		defer c.clockMu.Unlock()
		return c.day
	}
	var last time.Time
	for _, s := range c.data {
		if s.last().After(last) {
			last = s.last()
		}
	}
	return last
}

// current is the bar quotes of symbol are served from, without advancing
// the clock.
func (c *core) current(symbol string) (providers.Bar, error) {
	norm, _, err := providers.NormalizeSymbol(symbol)
	if err != nil {
		return providers.Bar{}, err
	}
	s, n, ok := c.view(norm)
	if !ok {
		return providers.Bar{}, fmt.Errorf("sandbox: current %s: %w", norm, providers.ErrNotFound)
	}
	return s.bars[n-1], nil
}
