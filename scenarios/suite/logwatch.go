package suite

import (
	"bytes"
	"regexp"
	"sync"
)

// logWatch receives a spawned process's output: it keeps the end of it
// for error messages and, until one matches, tests each line against the
// ready regexp, sending the line's first group (or "") on matched.
type logWatch struct {
	re      *regexp.Regexp // nil: nothing to watch for
	matched chan string    // buffered 1, sent at most once
	tail    tail

	mu   sync.Mutex
	line []byte // the line being written, at most maxLogLine bytes
	done bool   // a line matched
}

func (w *logWatch) Write(p []byte) (int, error) {
	w.tail.Write(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.re == nil || w.done {
		return len(p), nil
	}
	rest := p
	for len(rest) > 0 && !w.done {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			w.line = append(w.line, rest...)
			if len(w.line) >= maxLogLine {
				w.check()
			}
			break
		}
		w.line = append(w.line, rest[:i]...)
		rest = rest[i+1:]
		w.check()
	}
	return len(p), nil
}

// check tests the current line and starts a new one.
func (w *logWatch) check() {
	line := bytes.TrimRight(w.line, "\r")
	if m := w.re.FindSubmatch(line); m != nil {
		base := ""
		if len(m) > 1 {
			base = string(m[1])
		}
		w.done = true
		w.matched <- base
	}
	w.line = w.line[:0]
}
