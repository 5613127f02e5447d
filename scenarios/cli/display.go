package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/leakgate/leakgate/harness/report"
)

// redrawEvery bounds how often the live line is redrawn, and maxLine its
// length in characters.
const (
	redrawEvery = 100 * time.Millisecond
	maxLine     = 150
)

// display shows a run's progress: on a terminal, one live line (the units
// running, iteration i/N, elapsed, current growth) above which each
// finished unit leaves a line; otherwise only the finished lines.
type display struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	total    int
	finished int
	began    time.Time
	running  map[string]string // unit id → its latest progress text
	drawn    time.Time
}

func newDisplay(w io.Writer, total int) *display {
	d := &display{w: w, total: total, began: time.Now(), running: map[string]string{}}
	if f, ok := w.(*os.File); ok {
		d.tty = isatty.IsTerminal(f.Fd())
	}
	return d
}

func (d *display) start(u unit) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.running[u.id()] = "starting"
	d.redraw(true)
}

func (d *display) progress(u unit, p progressLine) {
	d.mu.Lock()
	defer d.mu.Unlock()
	text := fmt.Sprintf("%s %d/%d", p.Phase, p.I, p.Of)
	if p.Of >= 1_000_000 || p.Of == 0 {
		text = fmt.Sprintf("%s %d", p.Phase, p.I)
	}
	text += fmt.Sprintf(" %.1fs", p.Elapsed)
	if len(p.Delta) > 0 {
		var parts []string
		for _, m := range []struct{ name, short string }{{"goroutines", "g"}, {"fds", "fd"}, {"conns", "conn"}} {
			if v, ok := p.Delta[m.name]; ok {
				parts = append(parts, fmt.Sprintf("%s%+.0f", m.short, v))
			}
		}
		text += " " + strings.Join(parts, " ")
	}
	d.running[u.id()] = text
	d.redraw(false)
}

// done prints the finished line of unit u's case c.
func (d *display) done(u unit, c report.Case) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.running, u.id())
	d.finished++
	d.clear()
	line := fmt.Sprintf("[%d/%d] %-6s %s in %.1fs", d.finished, d.total, strings.ToUpper(string(c.Status)), u.id(), c.DurationSeconds)
	if c.Reason != "" && c.Status != report.StatusPass {
		line += ": " + firstLine(c.Reason)
	}
	fmt.Fprintln(d.w, line)
	d.redraw(true)
}

// close clears the live line.
func (d *display) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clear()
}

func (d *display) clear() {
	if d.tty {
		fmt.Fprint(d.w, "\r\x1b[K")
	}
}

// redraw rewrites the live line, at most every redrawEvery unless forced.
func (d *display) redraw(force bool) {
	if !d.tty || (!force && time.Since(d.drawn) < redrawEvery) {
		return
	}
	d.drawn = time.Now()
	ids := make([]string, 0, len(d.running))
	for id := range d.running {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var parts []string
	for _, id := range ids {
		parts = append(parts, id+" "+d.running[id])
	}
	line := fmt.Sprintf("[%d/%d %s] %s", d.finished, d.total, time.Since(d.began).Round(time.Second), strings.Join(parts, " | "))
	if r := []rune(line); len(r) > maxLine {
		line = string(r[:maxLine-1]) + "…"
	}
	fmt.Fprint(d.w, "\r\x1b[K"+line)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:199]) + "…"
	}
	return s
}
