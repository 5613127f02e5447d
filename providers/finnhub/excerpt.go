package finnhub

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/leakgate/leakgate/providers"
)

// excerpt is providers.Excerpt made safe for any bytes: it names an HTML
// page by its <title>, found with an ASCII-only case fold so that offsets
// into the body stay valid even when the body is not UTF-8 (bytes.ToLower
// widens invalid bytes, which shifts them).
func excerpt(body []byte) string {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '<' {
		return providers.Excerpt(body)
	}
	lower := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	const open, closing = "<title>", "</title>"
	i := bytes.Index(lower, []byte(open))
	if i < 0 {
		return "HTML page"
	}
	j := bytes.Index(lower[i+len(open):], []byte(closing))
	if j < 0 {
		return "HTML page"
	}
	title := strings.ToValidUTF8(string(b[i+len(open):i+len(open)+j]), "\uFFFD")
	return "HTML page: " + clip(strings.Join(strings.Fields(title), " "), 120)
}

// clip shortens s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
