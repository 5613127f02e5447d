package sandbox

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// upstream reads a recorded response from the module's testdata/upstream.
func upstream(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "upstream", name))
	require.NoError(t, err)
	return b
}

// call serves one request with h and returns the recorded response and its
// body.
func call(t testing.TB, h http.Handler, method, target string, body []byte, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	return res, b
}

var (
	dateKey  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	stampKey = regexp.MustCompile(`^\d{9,}$`)
)

// shape maps every JSON path of body to its value's type. Array elements
// share the path "[]", date keys become "<date>" and Unix-timestamp keys
// "<ts>", so two answers of the same API have the same shape whatever
// their data.
func shape(t testing.TB, body []byte) map[string]string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v), "body is not JSON: %.200s", body)
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			out[path] = "object"
			for k, e := range x {
				switch {
				case dateKey.MatchString(k):
					k = "<date>"
				case stampKey.MatchString(k):
					k = "<ts>"
				}
				walk(path+"."+k, e)
			}
		case []any:
			out[path] = "array"
			for _, e := range x {
				walk(path+"[]", e)
			}
		case string:
			out[path] = "string"
		case json.Number:
			out[path] = "number"
		case bool:
			out[path] = "bool"
		case nil:
			if _, ok := out[path]; !ok {
				out[path] = "null"
			}
		}
	}
	walk("", v)
	return out
}

// requireShape fails unless got has the shape of the recorded want: the
// same paths with the same types (null matches any type). Paths under one
// of the prefixes in skip may be missing from either side.
func requireShape(t testing.TB, want, got []byte, skip ...string) {
	t.Helper()
	ws, gs := shape(t, want), shape(t, got)
	skipped := func(p string) bool {
		for _, s := range skip {
			if strings.HasPrefix(p, s) {
				return true
			}
		}
		return false
	}
	var problems []string
	for p, wt := range ws {
		gt, ok := gs[p]
		switch {
		case !ok && !skipped(p):
			problems = append(problems, fmt.Sprintf("missing %s (%s)", p, wt))
		case ok && gt != wt && gt != "null" && wt != "null" && !skipped(p):
			problems = append(problems, fmt.Sprintf("%s is %s, recorded %s", p, gt, wt))
		}
	}
	for p, gt := range gs {
		if _, ok := ws[p]; !ok && !skipped(p) {
			problems = append(problems, fmt.Sprintf("extra %s (%s)", p, gt))
		}
	}
	sort.Strings(problems)
	require.Empty(t, problems, "answer differs in shape from the recording")
}

// jwtFor signs a Coinbase CDP JWT for uri with key, valid from nbf for two
// minutes.
func jwtFor(t testing.TB, key *ecdsa.PrivateKey, sub, uri string, nbf time.Time) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	head := enc(map[string]string{"alg": "ES256", "kid": sub, "nonce": "0123456789abcdef", "typ": "JWT"})
	claims := enc(jwtClaims{Sub: sub, Iss: "cdp", Nbf: nbf.Unix(), Exp: nbf.Add(2 * time.Minute).Unix(), URI: uri})
	digest := sha256.Sum256([]byte(head + "." + claims))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	require.NoError(t, err)
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return head + "." + claims + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// cbAuth returns the Authorization header value for a request to path.
func cbAuth(t testing.TB, key *ecdsa.PrivateKey, method, path string) string {
	return "Bearer " + jwtFor(t, key, CoinbaseKeyName, method+" api.coinbase.com"+path, time.Now())
}

// dates returns the "2006-01-02" dates of the History bars of symbol in
// [from, to].
func historyDates(t testing.TB, symbol, from, to string) []string {
	t.Helper()
	bars, err := History(symbol)
	require.NoError(t, err)
	var out []string
	for _, b := range bars {
		d := b.Time.Format(time.DateOnly)
		if d >= from && d <= to {
			out = append(out, d)
		}
	}
	return out
}
