package reddit

import "time"

// SetNow replaces the clock the token cache and rate budget read.
func SetNow(c *Client, now func() time.Time) { c.now = now }

// ParseToken exposes parseToken to the tests: it returns the access token,
// its lifetime and scope.
func ParseToken(body []byte) (access string, lifetime time.Duration, scope string, err error) {
	t, err := parseToken(body)
	return t.access, t.lifetime, t.scope, err
}
