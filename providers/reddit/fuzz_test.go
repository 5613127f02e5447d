package reddit_test

import (
	"errors"
	"testing"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/reddit"
)

func typedErr(t *testing.T, err error) {
	t.Helper()
	var se *providers.StatusError
	if !errors.Is(err, providers.ErrDecode) && !errors.As(err, &se) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
}

// FuzzParseListing feeds ParseListing every recorded listing and error
// body: it must return posts or a typed error, never panic.
func FuzzParseListing(f *testing.F) {
	for _, name := range []string{askreddit, search, test2020,
		"error_403_forbidden.json", "error_404_not_found.json", "error_429_too_many_requests.json"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"kind":"Listing","data":{"after":"t3_x","children":[{"kind":"t3","data":{"id":"x1","created_utc":1456821458.25,"score":3.0}}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := reddit.ParseListing(body)
		if err != nil {
			typedErr(t, err)
			return
		}
		for _, p := range l.Posts {
			if p.ID == "" || p.Created.IsZero() {
				t.Fatalf("post without id or time: %+v", p)
			}
		}
		reddit.Sentiment(l.Posts, "AAPL")
	})
}

// FuzzParseToken feeds the token decoder token answers and OAuth errors.
func FuzzParseToken(f *testing.F) {
	for _, s := range []string{
		`{"access_token": "-Ql3dPqi0pc2uO0xTx8ytLLyRmPw", "token_type": "bearer", "expires_in": 86400, "scope": "*"}`,
		`{"access_token": "a", "token_type": "bearer", "expires_in": 3600.0, "scope": "read"}`,
		`{"error": "invalid_grant"}`,
		`{"message": "Unauthorized", "error": 401}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		access, life, _, err := reddit.ParseToken(body)
		if err != nil {
			typedErr(t, err)
			return
		}
		if access == "" || life <= 0 {
			t.Fatalf("token %q with lifetime %s", access, life)
		}
	})
}

// FuzzSentiment checks the score stays in range for any text.
func FuzzSentiment(f *testing.F) {
	f.Add("AAPL to the moon 🚀", "$aapl overvalued", 10, "AAPL")
	f.Add("EUR/USD crash", "", -3, "EUR_USD")
	f.Fuzz(func(t *testing.T, title, body string, score int, symbol string) {
		s := reddit.Sentiment([]providers.Post{{ID: "x", Title: title, Body: body, Score: score}}, symbol)
		if s.Value < -1 || s.Value > 1 || s.Mentions > 1 || len(s.Top) != s.Mentions {
			t.Fatalf("score out of range: %+v", s)
		}
	})
}
