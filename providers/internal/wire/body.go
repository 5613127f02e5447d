package wire

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/leakgate/leakgate/providers"
)

// WantObject returns a *providers.DecodeError of provider for field unless
// body is a JSON object (after white space), so that an empty body, an HTML
// page or an array gets a clear error before decoding.
func WantObject(provider string, body []byte, field string) error {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return providers.Decodef(provider, field, "empty body")
	}
	if b[0] != '{' {
		return providers.Decodef(provider, field, "want a JSON object, got %q", providers.Excerpt(b))
	}
	return nil
}

// JSONError turns an encoding/json error into a *providers.DecodeError of
// provider. A type mismatch names the field at fault; anything else is
// reported for field.
func JSONError(provider, field string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return providers.Decodef(provider, te.Field, "want %s, got JSON %s", te.Type, te.Value)
	}
	return providers.Decodef(provider, field, "%v", err)
}

// IsHTML reports whether a response is an HTML page (a proxy's or a CDN's
// error page) rather than the API's JSON: by its Content-Type or its first
// byte.
func IsHTML(r *providers.Response) bool {
	if strings.Contains(strings.ToLower(r.Header.Get("Content-Type")), "text/html") {
		return true
	}
	b := bytes.TrimSpace(r.Body)
	return len(b) > 0 && b[0] == '<'
}

// NewClientOrderID returns a random (version 4) UUID, for the client order
// id of an order the caller did not name.
func NewClientOrderID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
