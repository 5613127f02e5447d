package reddit

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fastjson"

	"github.com/leakgate/leakgate/providers"
)

// token is an app-only OAuth access token. Its value is a credential: it
// goes into the Authorization header and nowhere else.
type token struct {
	access string
	// lifetime is expires_in.
	lifetime time.Duration
	scope    string
}

// parseToken decodes the answer of POST /api/v1/access_token:
// {"access_token","token_type":"bearer","expires_in","scope"}. An OAuth
// error ({"error":"invalid_grant"}, which Reddit may send with HTTP 200)
// matches providers.ErrUnauthorized.
func parseToken(body []byte) (token, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	root, err := p.ParseBytes(body)
	if err != nil {
		return token{}, decodeErr("", "token answer: %s", shortErr(err))
	}
	if root.Type() != fastjson.TypeObject {
		return token{}, decodeErr("", "token answer is %s, want an object", root.Type())
	}
	if se := errorBody(root, 0); se != nil {
		return token{}, se
	}
	var t token
	if t.access, err = optString(root, "access_token", "access_token"); err != nil {
		return token{}, err
	}
	if t.access == "" {
		return token{}, decodeErr("access_token", "missing")
	}
	typ, err := optString(root, "token_type", "token_type")
	if err != nil {
		return token{}, err
	}
	if !strings.EqualFold(typ, "bearer") {
		return token{}, decodeErr("token_type", "%q, want bearer", truncate(typ, 40))
	}
	secs, err := optInt(root, "expires_in", "expires_in")
	if err != nil {
		return token{}, err
	}
	if secs <= 0 || secs > 366*24*3600 {
		return token{}, decodeErr("expires_in", "%d seconds is not a token lifetime", secs)
	}
	t.lifetime = time.Duration(secs) * time.Second
	if t.scope, err = optString(root, "scope", "scope"); err != nil {
		return token{}, err
	}
	return t, nil
}

// tokenCache holds the current token and refreshes it shortly before it
// expires. One refresh runs at a time: concurrent callers wait for it
// rather than each asking for a token of their own.
type tokenCache struct {
	fetch func(ctx context.Context) (token, error)
	now   func() time.Time

	mu      sync.Mutex
	access  string
	expires time.Time // refresh at this time (a margin before expiry)
	flight  *refresh  // the refresh in progress, if any
}

// refresh is one token request that callers may wait for.
type refresh struct {
	done   chan struct{}
	access string
	err    error
}

// get returns a valid token. stale is a token the API refused with 401:
// if it is still the cached one, it is refreshed even if it has not
// expired.
func (tc *tokenCache) get(ctx context.Context, stale string) (string, error) {
	for {
		tc.mu.Lock()
		if tc.access != "" && tc.access != stale && tc.now().Before(tc.expires) {
			access := tc.access
			tc.mu.Unlock()
			return access, nil
		}
		if f := tc.flight; f != nil {
			tc.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			if f.err == nil {
				return f.access, nil
			}
			// The refresher's own context ended: ours may still be live, so
			// try again rather than fail with its cancellation.
			if (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) && ctx.Err() == nil {
				continue
			}
			return "", f.err
		}
		f := &refresh{done: make(chan struct{})}
		tc.flight = f
		tc.mu.Unlock()

		t, err := tc.fetch(ctx)
		tc.mu.Lock()
		if err == nil {
			tc.access = t.access
			tc.expires = tc.now().Add(t.lifetime - refreshMargin(t.lifetime))
		}
		tc.flight = nil
		tc.mu.Unlock()
		f.access, f.err = t.access, err
		close(f.done)
		return t.access, err
	}
}

// refreshMargin is how long before expiry a token is replaced: a tenth of
// its lifetime, at most a minute.
func refreshMargin(lifetime time.Duration) time.Duration {
	return min(lifetime/10, time.Minute)
}

// fetchToken asks the token endpoint for an app-only token.
func (c *Client) fetchToken(ctx context.Context) (token, error) {
	resp, err := c.auth.Do(ctx, providers.Request{
		Method:      http.MethodPost,
		Path:        "/api/v1/access_token",
		Body:        []byte(url.Values{"grant_type": {"client_credentials"}}.Encode()),
		ContentType: "application/x-www-form-urlencoded",
		Op:          "token",
	})
	if err != nil {
		return token{}, withOp("token", err)
	}
	t, err := parseToken(resp.Body)
	if err != nil {
		return token{}, wrapOp("token", err)
	}
	return t, nil
}

// basicAuth signs a token request with the app's client id and secret.
func (c *Client) basicAuth(req *http.Request, _ []byte) error {
	req.SetBasicAuth(c.clientID, c.clientSecret)
	return nil
}

// classifyToken maps the token endpoint's error answers: {"message",
// "error": 401} and OAuth errors ({"error":"invalid_grant"}) at any status.
func classifyToken(resp *providers.Response) error {
	if resp.Status < 400 && isHTML(resp.Body) {
		return htmlErr(resp)
	}
	if len(resp.Body) > maxErrorBody {
		return nil
	}
	p := parsers.Get()
	defer parsers.Put(p)
	root, err := p.ParseBytes(resp.Body)
	if err != nil || root.Type() != fastjson.TypeObject || root.Get("access_token") != nil {
		return nil
	}
	if se := errorBody(root, resp.Status); se != nil {
		se.RetryAfter = providers.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return se
	}
	return nil
}
