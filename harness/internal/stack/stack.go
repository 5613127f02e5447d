// Package stack parses the goroutine dump of runtime.Stack(buf, true).
//
// It follows go.uber.org/goleak's internal/stack: a header line
// "goroutine N [state]:", then pairs of function and position lines, then
// an optional "created by F in goroutine M" pair. Go 1.26 headers may also
// carry the goroutine's pprof labels (with GODEBUG=tracebacklabels=1,
// `[select labels:{"k": "v"}]`) and, after a goroutine leak collection
// (GOEXPERIMENT=goroutineleakprofile), the mark " (leaked)" after the
// state.
package stack

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// Goroutine is one goroutine of a dump.
type Goroutine struct {
	ID      int
	State   string // e.g. "chan receive", without the wait time or "locked to thread"
	Top     string // the function on top of the stack
	Creator string // the function after "created by"; empty for the main goroutine
	// Blocked is the first frame outside the runtime and the standard
	// library's synchronisation internals (runtime, internal/..., sync,
	// time.Sleep): the code that waits. Zero when every frame is inside.
	Blocked Frame
	Stack   string // the goroutine's full text, header included
	// Labels are the goroutine's pprof labels, when the dump has them
	// (GODEBUG=tracebacklabels=1); nil otherwise.
	Labels map[string]string
	// Leaked is true when the runtime's goroutine leak detection found the
	// goroutine blocked forever on synchronisation objects that no running
	// goroutine can reach (the header's state ends in "(leaked)").
	Leaked bool
}

// Frame is a function with the file and line it is at.
type Frame struct {
	Func string // "pkg/path.(*T).M"
	File string // as the dump prints it: an absolute path or a module path
	Line int
}

// IsZero reports whether f is no frame.
func (f Frame) IsZero() bool { return f.Func == "" }

// ShortFile is the file's last directory and name, "scenarios/x.go".
func (f Frame) ShortFile() string { return ShortFile(f.File) }

// ShortFile returns a path's last directory and name.
func ShortFile(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return path
	}
	if j := strings.LastIndexByte(path[:i], '/'); j >= 0 {
		return path[j+1:]
	}
	return path
}

// internal reports whether fn is in the runtime or the standard library's
// synchronisation internals: frames that say how a goroutine waits, not
// where.
func internal(fn string) bool {
	pkg := fn
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
		if j := strings.IndexByte(pkg[i:], '.'); j >= 0 {
			pkg = pkg[:i+j]
		}
	} else if j := strings.IndexByte(pkg, '.'); j >= 0 {
		pkg = pkg[:j]
	}
	switch {
	case pkg == "runtime", pkg == "sync", pkg == "sync/atomic", strings.HasPrefix(pkg, "internal/"),
		strings.HasPrefix(pkg, "runtime/"), fn == "time.Sleep":
		return true
	}
	return false
}

// Dump returns runtime.Stack(buf, true), in buf when it is large enough.
// Each call stops the world and formats every goroutine, so a new buffer
// starts at a size that usually fits (2 KiB per goroutine) and grows only
// when it did not.
func Dump(buf []byte) []byte {
	if want := max(64<<10, 2<<10*runtime.NumGoroutine()); len(buf) < want {
		buf = make([]byte, want)
	}
	for {
		if n := runtime.Stack(buf, true); n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

// Parse parses a goroutine dump. The goroutines' Stack texts share one copy
// of the dump.
func Parse(dump []byte) ([]Goroutine, error) {
	text := string(dump)
	var (
		out     []Goroutine
		errs    []error
		cur     *Goroutine
		start   int  // of the current goroutine's text
		wantPos bool // the next position line is cur.Blocked's
	)
	finish := func(end int) {
		if cur != nil {
			cur.Stack = strings.TrimRight(text[start:end], "\n")
			out = append(out, *cur)
			cur = nil
		}
	}
	pos := 0
	for n := 1; pos < len(text); n++ {
		lineStart := pos
		line := text[pos:]
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line, pos = line[:i], pos+i+1
		} else {
			pos = len(text)
		}
		if strings.HasPrefix(line, "goroutine ") {
			finish(lineStart)
			h, err := parseHeader(line)
			if err != nil {
				errs = append(errs, fmt.Errorf("line %d: parse header: %w", n, err))
				continue
			}
			cur, start, wantPos = &Goroutine{ID: h.id, State: h.state, Labels: h.labels, Leaked: h.leaked}, lineStart, false
			continue
		}
		if cur != nil && wantPos && line != "" && line[0] == '\t' {
			cur.Blocked.File, cur.Blocked.Line = position(line)
			wantPos = false
			continue
		}
		if cur == nil || line == "" || line[0] == '\t' || strings.HasPrefix(line, "...") || strings.HasPrefix(line, "[originating") {
			continue // position, separator, elided frames, ancestor traceback
		}
		if after, ok := strings.CutPrefix(line, "created by "); ok {
			if cur.Creator == "" {
				cur.Creator, _, _ = strings.Cut(after, " in goroutine ")
			}
			continue
		}
		name, err := funcName(line)
		if err != nil {
			if cur.Top == "" {
				errs = append(errs, fmt.Errorf("line %d: parse function: %w", n, err))
			}
			continue
		}
		if cur.Top == "" {
			cur.Top = name
		}
		if cur.Blocked.IsZero() && !internal(name) {
			cur.Blocked.Func, wantPos = name, true
		}
	}
	finish(len(text))
	return out, errors.Join(errs...)
}

// header is what a goroutine's header line says.
type header struct {
	id     int
	state  string
	labels map[string]string
	leaked bool
}

// labelsMark starts the labels of a header (GODEBUG=tracebacklabels=1).
const labelsMark = " labels:{"

// leakedMark follows the state of a goroutine that leak detection found.
const leakedMark = " (leaked)"

// parseHeader parses "goroutine 7 [chan receive, 2 minutes]:", with
// optional labels, `goroutine 7 [select labels:{"k": "v"}]:`, and the leak
// mark, "goroutine 7 [chan receive (leaked)]:".
func parseHeader(line string) (header, error) {
	var h header
	rest := strings.TrimSuffix(strings.TrimPrefix(line, "goroutine "), ":")
	idText, rest, ok := strings.Cut(rest, " ")
	if !ok {
		return h, fmt.Errorf("unexpected format: %q", line)
	}
	id, err := strconv.Atoi(idText)
	if err != nil {
		return h, fmt.Errorf("bad goroutine ID %q in %q", idText, line)
	}
	h.id = id
	// Debug settings may add fields ("gp=0x... m=nil") before the state.
	open := strings.IndexByte(rest, '[')
	closing := strings.LastIndexByte(rest, ']')
	if open < 0 || closing < open {
		return h, fmt.Errorf("no state in %q", line)
	}
	inner := rest[open+1 : closing]
	if i := strings.Index(inner, labelsMark); i >= 0 {
		if h.labels, err = parseLabels(strings.TrimSuffix(inner[i+len(labelsMark):], "}")); err != nil {
			return h, fmt.Errorf("labels in %q: %w", line, err)
		}
		inner = inner[:i]
	}
	state, _, _ := strings.Cut(inner, ",")
	if s, ok := strings.CutSuffix(state, leakedMark); ok {
		state, h.leaked = s, true
	}
	h.state = state
	return h, nil
}

// parseLabels parses the labels of a header: `"k": "v", "k2": "v2"`, each
// string quoted as Go quotes it.
func parseLabels(s string) (map[string]string, error) {
	labels := map[string]string{}
	for s != "" {
		k, rest, err := unquotePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		rest, ok := strings.CutPrefix(rest, ": ")
		if !ok {
			return nil, fmt.Errorf("no ': ' after key %q", k)
		}
		v, rest, err := unquotePrefix(rest)
		if err != nil {
			return nil, fmt.Errorf("value of %q: %w", k, err)
		}
		labels[k] = v
		s = strings.TrimPrefix(rest, ", ")
		if s == rest && s != "" {
			return nil, fmt.Errorf("no ', ' after the value of %q", k)
		}
	}
	return labels, nil
}

// unquotePrefix unquotes the quoted string at the start of s and returns
// the rest.
func unquotePrefix(s string) (string, string, error) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", "", fmt.Errorf("%q: %w", s, err)
	}
	u, err := strconv.Unquote(q)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", q, err)
	}
	return u, s[len(q):], nil
}

// position parses "\t/path/file.go:42 +0x1f".
func position(line string) (file string, n int) {
	line = strings.TrimSpace(line)
	if i := strings.LastIndex(line, " +0x"); i >= 0 {
		line = line[:i]
	}
	i := strings.LastIndexByte(line, ':')
	if i < 0 {
		return line, 0
	}
	n, _ = strconv.Atoi(line[i+1:])
	return line[:i], n
}

// funcName returns the function of a frame line "pkg.(*T).M(0x1, ...)":
// the text before the last '('.
func funcName(line string) (string, error) {
	i := strings.LastIndexByte(line, '(')
	if i <= 0 {
		return "", fmt.Errorf("no function in %q", line)
	}
	return line[:i], nil
}
