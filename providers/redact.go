package providers

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Redacted is what a secret is replaced with wherever the client prints.
const Redacted = "REDACTED"

// newRedactor returns a replacer of every secret (and its URL-escaped form)
// by Redacted, or nil when there are no secrets.
func newRedactor(secrets []string) *strings.Replacer {
	var pairs []string
	for _, s := range secrets {
		if len(s) < 4 { // too short to be a credential; replacing it would garble text
			continue
		}
		pairs = append(pairs, s, Redacted)
		if esc := urlQueryEscape(s); esc != s {
			pairs = append(pairs, esc, Redacted)
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	return strings.NewReplacer(pairs...)
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
// white space folded.
func Excerpt(body []byte) string {
	b := bytes.TrimSpace(body)
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
