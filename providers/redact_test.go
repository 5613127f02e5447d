package providers_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
)

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{name: "empty", give: "  ", want: ""},
		{name: "json", give: "{\"message\":\n  \"NotFound\"}", want: `{"message": "NotFound"}`},
		{name: "html title", give: "<html><HEAD><Title>502 Bad\n Gateway</TITLE></head></html>", want: "HTML page: 502 Bad Gateway"},
		{name: "html without title", give: "<html><body>x</body></html>", want: "HTML page"},
		// Invalid UTF-8 before the title: bytes.ToLower would grow it and
		// shift every offset.
		{name: "invalid utf-8", give: "<\xff\xff\xff\xff<title>t</title>", want: "HTML page: t"},
		{name: "unterminated title", give: "<\xff\xff\xff<title>", want: "HTML page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, providers.Excerpt([]byte(tt.give)))
		})
	}
}

func FuzzExcerpt(f *testing.F) {
	for _, s := range []string{"<html><title>x</title>", "<\xff<title>", "{}", "<TITLE></TITLE>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out := providers.Excerpt(b)
		if len(out) > 220 {
			t.Fatalf("excerpt of %d bytes is not short", len(out))
		}
	})
}
