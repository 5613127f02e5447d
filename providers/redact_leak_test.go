package providers_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
)

// leakKey is a credential made of characters that the filler text and
// REDACTED do not share, so any 4-character piece of it found in an error
// is a leak.
const leakKey = "K7Q2Z9W4V8X3J6B5N1M0"

// requireNoKeyPiece fails when text holds any substring of key of 4 bytes
// or more.
func requireNoKeyPiece(t *testing.T, text, key string) {
	t.Helper()
	for i := 0; i+4 <= len(key); i++ {
		piece := key[i : i+4]
		require.NotContains(t, text, piece, "a piece of the key (%q at %d) leaked", piece, i)
	}
}

// keyAfterFiller answers status with n bytes of filler text, then the key,
// then more text: every position of the key across the excerpt boundary.
func keyAfterFiller(status int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.WriteHeader(status)
		fmt.Fprint(w, strings.Repeat("e", n)+leakKey+" is not a valid apikey, see the documentation")
	})
}

func TestErrorTextHoldsNoPieceOfAKey(t *testing.T) {
	classifiers := []struct {
		name     string
		classify func(c **providers.Client) providers.Classifier
	}{
		{name: "status", classify: func(**providers.Client) providers.Classifier { return nil }},
		{name: "classifier excerpt", classify: func(c **providers.Client) providers.Classifier {
			return func(resp *providers.Response) error {
				return (*c).NewStatusError(resp, providers.ErrUpstream, providers.Excerpt(resp.Body))
			}
		}},
		{name: "classifier raw message", classify: func(c **providers.Client) providers.Classifier {
			return func(resp *providers.Response) error {
				return &providers.StatusError{Provider: "p", Status: resp.Status, Kind: providers.ErrUpstream,
					Message: providers.Excerpt(resp.Body)}
			}
		}},
		{name: "classifier long message", classify: func(c **providers.Client) providers.Classifier {
			return func(resp *providers.Response) error {
				return (*c).NewStatusError(resp, providers.ErrUpstream, string(resp.Body))
			}
		}},
	}
	srv := httptest.NewServer(keyAfterFiller(http.StatusBadRequest))
	t.Cleanup(srv.Close)
	for _, cl := range classifiers {
		t.Run(cl.name, func(t *testing.T) {
			var c *providers.Client
			c, err := providers.NewClient("p", srv.URL, cl.classify(&c), nil,
				providers.WithSecrets(leakKey), providers.WithRetry(1, 0, 0))
			require.NoError(t, err)
			t.Cleanup(func() { c.Close() })
			for n := 150; n <= 210; n++ {
				_, err := c.Do(t.Context(), providers.Request{Op: "quote", Query: url.Values{"n": {strconv.Itoa(n)}}})
				require.Error(t, err)
				requireNoKeyPiece(t, err.Error(), leakKey)
				var se *providers.StatusError
				require.True(t, errors.As(err, &se))
				requireNoKeyPiece(t, se.Message, leakKey)
			}
		})
	}
}

// TestExcerptMasksTheSecretsOfOpenClients covers the decode paths of the
// provider packages, which excerpt a successful body outside the client.
func TestExcerptMasksTheSecretsOfOpenClients(t *testing.T) {
	c, err := providers.NewClient("p", "http://127.0.0.1:1", nil, nil, providers.WithSecrets(leakKey))
	require.NoError(t, err)
	for n := 150; n <= 210; n++ {
		body := "<html><title>" + strings.Repeat("e", n-80) + leakKey + "</title></html>"
		requireNoKeyPiece(t, providers.Excerpt([]byte(body)), leakKey)
		body = strings.Repeat("e", n) + leakKey + " tail"
		requireNoKeyPiece(t, providers.Excerpt([]byte(body)), leakKey)
	}
	require.NoError(t, c.Close())
	// A closed client's secrets are forgotten: Excerpt stays cheap.
	require.Contains(t, providers.Excerpt([]byte(leakKey)), leakKey)
}
