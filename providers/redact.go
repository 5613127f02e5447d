package providers

import (
	"bytes"
	"strings"
	"sync"
	"unicode/utf8"
)

// Redacted is what a secret is replaced with wherever the client prints.
const Redacted = "REDACTED"

// redactor masks a client's secrets. The zero value masks nothing.
type redactor struct {
	needles []string // every secret and its URL-escaped form
	r       *strings.Replacer
}

// newRedactor returns a redactor of every secret (and its URL-escaped form)
// by Redacted.
func newRedactor(secrets []string) redactor {
	needles := secretNeedles(secrets)
	if len(needles) == 0 {
		return redactor{}
	}
	return redactor{needles: needles, r: replacerOf(needles)}
}

// secretNeedles returns the forms of secrets that are masked: each secret
// of 4 bytes or more and its URL-escaped form.
func secretNeedles(secrets []string) []string {
	var out []string
	for _, s := range secrets {
		if len(s) < 4 { // too short to be a credential; replacing it would garble text
			continue
		}
		out = append(out, s)
		if esc := urlQueryEscape(s); esc != s {
			out = append(out, esc)
		}
	}
	return out
}

func replacerOf(needles []string) *strings.Replacer {
	pairs := make([]string, 0, 2*len(needles))
	for _, n := range needles {
		pairs = append(pairs, n, Redacted)
	}
	return strings.NewReplacer(pairs...)
}

// replace masks the secrets in s.
func (r redactor) replace(s string) string {
	if r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// body returns b with the secrets masked: b itself when it holds none.
func (r redactor) body(b []byte) []byte {
	for _, n := range r.needles {
		if bytes.Contains(b, []byte(n)) {
			return []byte(r.r.Replace(string(b)))
		}
	}
	return b
}

// open is the process-wide set of the secrets of open Clients. Excerpt masks
// them before it cuts text, so that no text cut out of an upstream answer
// (in this package or a provider's) can end in the first characters of a
// key: a client's own redactor, applied after the cut, would no longer
// recognise them.
var open struct {
	mu    sync.RWMutex
	count map[string]int
	r     *strings.Replacer // nil when there are no secrets
}

// registerSecrets adds secrets to the open set until the returned function
// is called (any number of times).
func registerSecrets(secrets []string) (forget func()) {
	needles := secretNeedles(secrets)
	if len(needles) == 0 {
		return func() {}
	}
	open.mu.Lock()
	if open.count == nil {
		open.count = map[string]int{}
	}
	for _, n := range needles {
		open.count[n]++
	}
	rebuildOpenLocked()
	open.mu.Unlock()
	return sync.OnceFunc(func() {
		open.mu.Lock()
		defer open.mu.Unlock()
		for _, n := range needles {
			if open.count[n]--; open.count[n] <= 0 {
				delete(open.count, n)
			}
		}
		rebuildOpenLocked()
	})
}

func rebuildOpenLocked() {
	if len(open.count) == 0 {
		open.r = nil
		return
	}
	needles := make([]string, 0, len(open.count))
	for n := range open.count {
		needles = append(needles, n)
	}
	open.r = replacerOf(needles)
}

// redactOpen masks the secrets of every open Client in s.
func redactOpen(s string) string {
	open.mu.RLock()
	r := open.r
	open.mu.RUnlock()
	if r == nil {
		return s
	}
	return r.Replace(s)
}

func urlQueryEscape(s string) string {
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// Excerpt returns a short, single-line description of an error body for
// messages: the <title> of an HTML page, otherwise the first 200 bytes with
// white space folded. The secrets of every open Client are masked in the
// whole body before it is cut, so no part of one survives the cut.
func Excerpt(body []byte) string {
	b := bytes.TrimSpace([]byte(redactOpen(string(body))))
	if len(b) == 0 {
		return ""
	}
	if b[0] == '<' {
		if i := indexFold(b, "<title>"); i >= 0 {
			rest := b[i+len("<title>"):]
			if j := indexFold(rest, "</title>"); j >= 0 {
				return "HTML page: " + truncate(strings.Join(strings.Fields(strings.ToValidUTF8(string(rest[:j]), "\uFFFD")), " "), 120)
			}
		}
		return "HTML page"
	}
	return truncate(strings.Join(strings.Fields(string(b)), " "), 200)
}

// Truncate shortens s to at most n bytes without splitting a UTF-8
// sequence, marking a cut with "…". The secrets of every open Client are
// masked in the whole of s first, so no part of one survives the cut.
func Truncate(s string, n int) string { return truncate(redactOpen(s), n) }

// truncate shortens s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// indexFold returns the index of the first ASCII-case-insensitive match of
// the lower-case ASCII needle in b, or -1. Unlike bytes.ToLower it never
// changes offsets, whatever bytes b holds.
func indexFold(b []byte, needle string) int {
	for i := 0; i+len(needle) <= len(b); i++ {
		j := 0
		for ; j < len(needle); j++ {
			c := b[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[j] {
				break
			}
		}
		if j == len(needle) {
			return i
		}
	}
	return -1
}
