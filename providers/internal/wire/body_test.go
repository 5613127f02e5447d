package wire

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/leakgate/leakgate/providers"
)

func TestWantObject(t *testing.T) {
	tests := []struct {
		give     string
		wantText string // "" means no error
	}{
		{give: `{"a":1}`},
		{give: " \n{}"},
		{give: "", wantText: "empty body"},
		{give: " \t", wantText: "empty body"},
		{give: `[1]`, wantText: `want a JSON object, got "[1]"`},
		{give: "<html><title>502 Bad Gateway</title></html>", wantText: `got "HTML page: 502 Bad Gateway"`},
	}
	for _, tt := range tests {
		err := WantObject("acme", []byte(tt.give), "quote")
		if tt.wantText == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.give, err)
			}
			continue
		}
		var de *providers.DecodeError
		if !errors.As(err, &de) || de.Provider != "acme" || de.Field != "quote" || !strings.Contains(err.Error(), tt.wantText) {
			t.Errorf("%q: got %v, want a decode error of acme's quote with %q", tt.give, err, tt.wantText)
		}
	}
}

func TestJSONError(t *testing.T) {
	var v struct {
		Price string `json:"price"`
	}
	tests := []struct {
		name      string
		body      string
		wantField string
		wantText  string
	}{
		{"type mismatch names the field", `{"price": 12.5}`, "price", "want string, got JSON number"},
		{"syntax error", `{"price": `, "ticker", "unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := JSONError("acme", "ticker", json.Unmarshal([]byte(tt.body), &v))
			var de *providers.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, providers.ErrDecode) || de.Provider != "acme" || de.Field != tt.wantField ||
				!strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("got %#v (%v), want field %q with %q", de, err, tt.wantField, tt.wantText)
			}
		})
	}
}

func TestIsHTML(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		want        bool
	}{
		{"JSON", "application/json", `{"a":1}`, false},
		{"HTML content type", "Text/HTML; charset=utf-8", `{"a":1}`, true},
		{"page without content type", "", "\n <!DOCTYPE html><html></html>", true},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &providers.Response{Status: 200, Header: http.Header{"Content-Type": {tt.contentType}}, Body: []byte(tt.body)}
			if got := IsHTML(r); got != tt.want {
				t.Fatalf("IsHTML = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewClientOrderID(t *testing.T) {
	uuid4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		id := NewClientOrderID()
		if !uuid4.MatchString(id) || seen[id] {
			t.Fatalf("%q is not a fresh version 4 UUID", id)
		}
		seen[id] = true
	}
}
