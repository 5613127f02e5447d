// Package reddit reads subreddit posts for the sentiment scanner, through
// Reddit's OAuth API with an app-only token.
//
// Endpoints covered:
//
//	POST {AuthURL}/api/v1/access_token    grant_type=client_credentials, HTTP basic auth
//	GET  {BaseURL}/r/{sub}/new            ?limit=&after=&raw_json=1
//	GET  {BaseURL}/r/{sub}/search         ?q=&restrict_sr=1&sort=new&limit=&after=&raw_json=1
//
// The token is cached until shortly before it expires and refreshed by one
// request at a time; an API answer of 401 refreshes it once and retries.
// Reddit's x-ratelimit-remaining and x-ratelimit-reset headers are obeyed:
// when the budget is spent, the client waits for the reset (up to
// Config.MaxRateLimitWait) or fails with an error matching
// providers.ErrRateLimited that carries the wait as RetryAfter.
//
// Sentiment scores posts for a symbol with a small word list; see its
// documentation for how little it claims.
package reddit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fastjson"
	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers"
)

// name is the provider name in errors, logs and the unclosed tracker.
const name = "reddit"

// Defaults of Config.
const (
	DefaultBaseURL = "https://oauth.reddit.com"
	DefaultAuthURL = "https://www.reddit.com"
	// DefaultUserAgent follows Reddit's required form
	// "platform:app-id:version (by /u/name)". Set Config.UserAgent to one
	// naming your app and account: Reddit throttles generic agents.
	DefaultUserAgent = "go:github.com/leakgate/leakgate:v1 (by /u/leakgate)"
	// DefaultMaxPages bounds the pages one Posts call reads (100 posts a
	// page; Reddit serves about 1000 posts of a listing at most).
	DefaultMaxPages = 10
	// DefaultMaxRateLimitWait is the longest the client sleeps for an
	// exhausted x-ratelimit budget to reset.
	DefaultMaxRateLimitWait = 30 * time.Second
)

// DefaultRate and DefaultBurst are the client's default rate limit:
// Reddit allows 100 queries per minute per OAuth client, averaged over ten
// minutes.
const (
	DefaultRate  rate.Limit = 100.0 / 60
	DefaultBurst int        = 10
)

// pageSize is the most posts Reddit returns per listing request.
const pageSize = 100

// maxErrorBody is the largest body the classifiers inspect for an error
// object; listings are larger and error bodies far smaller.
const maxErrorBody = 4096

// Config configures a Client.
type Config struct {
	// BaseURL is the API root; empty means DefaultBaseURL.
	BaseURL string
	// AuthURL is the root of the token endpoint; empty means
	// DefaultAuthURL.
	AuthURL string
	// ClientID and ClientSecret are the app's credentials from
	// https://www.reddit.com/prefs/apps. Both are required.
	ClientID     string
	ClientSecret string
	// UserAgent identifies the app to Reddit; empty means
	// DefaultUserAgent. It wins over providers.WithUserAgent.
	UserAgent string
	// MaxPages bounds the pages one Posts call reads; zero means
	// DefaultMaxPages.
	MaxPages int
	// MaxRateLimitWait is the longest Posts sleeps for an exhausted rate
	// budget before failing with ErrRateLimited; zero means
	// DefaultMaxRateLimitWait, negative means never wait.
	MaxRateLimitWait time.Duration
}

// Client reads posts from Reddit. It is safe for concurrent use; call
// Close when done.
type Client struct {
	api          *providers.Client
	auth         *providers.Client // the token endpoint
	clientID     string
	clientSecret string
	maxPages     int
	maxWait      time.Duration
	now          func() time.Time
	tokens       tokenCache

	ctx    context.Context // canceled by Close: ends rate-limit waits
	cancel context.CancelFunc
	once   sync.Once

	rlMu      sync.Mutex
	remaining float64 // x-ratelimit-remaining of the last answer
	resetAt   time.Time
	rlKnown   bool
}

var _ providers.PostSource = (*Client)(nil)

// New returns a Client. The defaults (rate limit, User-Agent) come first,
// so opts override them; Config.UserAgent, when set, is applied last.
// Nothing is sent until the first Posts call.
func New(cfg Config, opts ...providers.Option) (*Client, error) {
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("reddit: Config.ClientID and Config.ClientSecret are required (create an app at https://www.reddit.com/prefs/apps)")
	}
	base, auth := cfg.BaseURL, cfg.AuthURL
	if base == "" {
		base = DefaultBaseURL
	}
	if auth == "" {
		auth = DefaultAuthURL
	}
	if u, err := url.Parse(auth); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("reddit: auth URL %q: want http(s)://host[/path]", auth)
	}
	if cfg.MaxPages < 0 {
		return nil, fmt.Errorf("reddit: Config.MaxPages %d is negative", cfg.MaxPages)
	}
	all := append([]providers.Option{
		providers.WithRateLimit(DefaultRate, DefaultBurst),
		providers.WithUserAgent(DefaultUserAgent),
	}, opts...)
	if cfg.UserAgent != "" {
		all = append(all, providers.WithUserAgent(cfg.UserAgent))
	}
	all = append(all, providers.WithSecrets(cfg.ClientID, cfg.ClientSecret))

	c := &Client{
		clientID:     cfg.ClientID,
		clientSecret: cfg.ClientSecret,
		maxPages:     cfg.MaxPages,
		maxWait:      cfg.MaxRateLimitWait,
		now:          time.Now,
	}
	if c.maxPages == 0 {
		c.maxPages = DefaultMaxPages
	}
	if c.maxWait == 0 {
		c.maxWait = DefaultMaxRateLimitWait
	}
	c.tokens = tokenCache{fetch: c.fetchToken, now: func() time.Time { return c.now() }}
	api, err := providers.NewClient(name, base, c.classify, nil, all...)
	if err != nil {
		return nil, err
	}
	authClient, err := providers.NewClient(name, auth, classifyToken, c.basicAuth, all...)
	if err != nil {
		api.Close()
		return nil, err
	}
	c.api, c.auth = api, authClient
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Name returns "reddit".
func (c *Client) Name() string { return name }

// Close stops requests in flight (token requests included), waits for
// them, and releases the connections of the API and of the token endpoint.
// It is idempotent and safe to call concurrently.
func (c *Client) Close() error {
	c.once.Do(func() {
		c.cancel()
		c.auth.Close()
		c.api.Close()
	})
	return nil
}

// subredditRE matches a subreddit name, or several joined with "+".
var subredditRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_]{1,20}(\+[A-Za-z0-9][A-Za-z0-9_]{1,20})*$`)

// Posts returns up to q.Limit posts of r/q.Subreddit, newest first: the
// /new listing, or the subreddit's search for q.Search sorted by date.
// A zero Limit means one page (100 posts); pages are read until Limit,
// the end of the listing, a page of nothing new or Config.MaxPages. Posts
// repeated across pages (the listing moves while it is read) are returned
// once.
//
// If any page fails the error is returned and no posts: every response
// body read so far has been closed.
func (c *Client) Posts(ctx context.Context, q providers.PostQuery) ([]providers.Post, error) {
	if !subredditRE.MatchString(q.Subreddit) {
		return nil, fmt.Errorf("reddit: subreddit %q: want 2-21 letters, digits or underscores (several joined by +)", q.Subreddit)
	}
	if q.Limit < 0 {
		return nil, fmt.Errorf("reddit: limit %d is negative", q.Limit)
	}
	limit := q.Limit
	if limit == 0 {
		limit = pageSize
	}
	limit = min(limit, c.maxPages*pageSize)
	out := make([]providers.Post, 0, min(limit, pageSize))
	seen := make(map[string]bool, limit)
	after := ""
	for page := 1; page <= c.maxPages && len(out) < limit; page++ {
		l, err := c.page(ctx, q, min(pageSize, limit-len(out)), after, page)
		if err != nil {
			return nil, err
		}
		added := 0
		for _, p := range l.Posts {
			if !seen[p.ID] && len(out) < limit {
				seen[p.ID] = true
				out = append(out, p)
				added++
			}
		}
		if l.After == "" || added == 0 {
			break // the end, or a page of repeats: the cursor is not moving
		}
		after = l.After
	}
	return out, nil
}

// page reads one listing page, refreshing the token once on a 401.
func (c *Client) page(ctx context.Context, q providers.PostQuery, n int, after string, page int) (Listing, error) {
	req := providers.Request{
		Path:  "/r/" + q.Subreddit + "/new",
		Query: url.Values{"limit": {strconv.Itoa(n)}, "raw_json": {"1"}},
		Op:    fmt.Sprintf("r/%s new page %d", q.Subreddit, page),
	}
	if q.Search != "" {
		req.Path = "/r/" + q.Subreddit + "/search"
		req.Query.Set("q", q.Search)
		req.Query.Set("restrict_sr", "1")
		req.Query.Set("sort", "new")
		req.Op = fmt.Sprintf("r/%s search page %d", q.Subreddit, page)
	}
	if after != "" {
		req.Query.Set("after", after)
	}
	stale := ""
	for attempt := 0; ; attempt++ {
		access, err := c.tokens.get(ctx, stale)
		if err != nil {
			return Listing{}, err
		}
		if err := c.waitBudget(ctx, req.Op); err != nil {
			return Listing{}, err
		}
		req.Header = http.Header{"Authorization": {"bearer " + access}}
		resp, err := c.api.Do(ctx, req)
		var se *providers.StatusError
		if err != nil && attempt == 0 && errors.As(err, &se) && se.Status == http.StatusUnauthorized {
			stale = access // the token was revoked or expired early
			continue
		}
		if err != nil {
			return Listing{}, withOp(req.Op, err)
		}
		l, err := ParseListing(resp.Body)
		if err != nil {
			return Listing{}, wrapOp(req.Op, err)
		}
		return l, nil
	}
}

// waitBudget waits while Reddit's rate budget is spent: until the reset,
// if that is within maxWait, otherwise it fails with ErrRateLimited.
func (c *Client) waitBudget(ctx context.Context, op string) error {
	c.rlMu.Lock()
	spent := c.rlKnown && c.remaining < 1
	wait := c.resetAt.Sub(c.now())
	c.rlMu.Unlock()
	if !spent || wait <= 0 {
		return nil
	}
	if wait > c.maxWait {
		return &providers.StatusError{Provider: name, Kind: providers.ErrRateLimited, RetryAfter: wait,
			Message: fmt.Sprintf("%s: x-ratelimit-remaining is 0 until the budget resets", op)}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		c.rlMu.Lock()
		c.rlKnown = false // the next answer tells the new budget
		c.rlMu.Unlock()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ctx.Done():
		return errClosed(op)
	}
}

// noteBudget records the x-ratelimit headers of an answer.
func (c *Client) noteBudget(h http.Header) {
	rem, reset := h.Get("X-Ratelimit-Remaining"), h.Get("X-Ratelimit-Reset")
	if rem == "" {
		return
	}
	r, err := strconv.ParseFloat(rem, 64)
	if err != nil {
		return
	}
	secs, _ := strconv.ParseFloat(reset, 64)
	c.rlMu.Lock()
	defer c.rlMu.Unlock()
	c.remaining, c.rlKnown = r, true
	c.resetAt = c.now().Add(time.Duration(secs * float64(time.Second)))
}

// classify maps Reddit's error answers. {"message": "Too Many Requests",
// "error": 429} may come with HTTP 200, so the body decides, not only the
// status. It also records the rate-limit headers of every answer.
func (c *Client) classify(resp *providers.Response) error {
	c.noteBudget(resp.Header)
	if resp.Status < 400 && isHTML(resp.Body) {
		return htmlErr(resp)
	}
	var se *providers.StatusError
	if len(resp.Body) <= maxErrorBody {
		p := parsers.Get()
		root, err := p.ParseBytes(resp.Body)
		if err == nil && root.Type() == fastjson.TypeObject {
			se = errorBody(root, resp.Status)
		}
		parsers.Put(p)
	}
	if se == nil && resp.Status == http.StatusTooManyRequests {
		se = &providers.StatusError{Provider: name, Status: resp.Status, Kind: providers.ErrRateLimited,
			Message: providers.Excerpt(resp.Body)}
	}
	if se == nil {
		return nil
	}
	se.RetryAfter = providers.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if se.Kind == providers.ErrRateLimited && se.RetryAfter == 0 {
		// Reddit names the wait in x-ratelimit-reset rather than
		// Retry-After.
		if secs, err := strconv.ParseFloat(resp.Header.Get("X-Ratelimit-Reset"), 64); err == nil && secs > 0 {
			se.RetryAfter = time.Duration(secs * float64(time.Second))
		}
	}
	return se
}

func htmlErr(resp *providers.Response) error {
	return &providers.StatusError{Provider: name, Status: resp.Status, Kind: providers.ErrUpstream,
		Message: providers.Excerpt(resp.Body)}
}

func isHTML(body []byte) bool {
	b := bytes.TrimSpace(body)
	return len(b) > 0 && b[0] == '<'
}

func errClosed(op string) error { return fmt.Errorf("%s: %s: %w", name, op, providers.ErrClosed) }

func wrapOp(op string, err error) error { return fmt.Errorf("%s: %s: %w", name, op, err) }

// withOp names the operation in an error answer. The core wraps transport
// errors with it already, but returns error answers as they are.
func withOp(op string, err error) error {
	if _, bare := err.(*providers.StatusError); bare {
		return wrapOp(op, err)
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		n--
	}
	return s[:n] + "…"
}
