package reddit_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/reddit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	tokenURL = reddit.DefaultAuthURL + "/api/v1/access_token"
	apiURL   = reddit.DefaultBaseURL

	clientID     = "p-jcoLKBynTLew"
	clientSecret = "gko_LXELoV07ZBNUXrvWZfzE3aI"

	askreddit = "r_askreddit_new_limit100_2016.json"
	search    = "r_all_search_praw_2016.json"
	test2020  = "r_test_new_listing_2020.json"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	return providertest.Fixture(t, "reddit", name)
}

func unix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// fake is Reddit behind an httpmock transport: a token endpoint that hands
// out tok-1, tok-2, … and API responders the test registers.
type fake struct {
	tr *httpmock.MockTransport

	mu          sync.Mutex
	tokenReqs   []*http.Request
	tokenBodies []string
	apiReqs     []*http.Request
	apiTimes    []time.Time
	lifetime    int // expires_in of the tokens handed out
}

func newFake(t *testing.T) *fake {
	f := &fake{tr: httpmock.NewMockTransport(), lifetime: 86400}
	f.tr.RegisterResponder(http.MethodPost, tokenURL, func(r *http.Request) (*http.Response, error) {
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		f.mu.Lock()
		f.tokenReqs = append(f.tokenReqs, r)
		f.tokenBodies = append(f.tokenBodies, string(body))
		n, life := len(f.tokenReqs), f.lifetime
		f.mu.Unlock()
		return httpmock.NewStringResponse(200, fmt.Sprintf(
			`{"access_token": "tok-%d", "token_type": "bearer", "expires_in": %d, "scope": "*"}`, n, life)), nil
	})
	return f
}

// api registers responder for GET {BaseURL}{path}, recording requests.
func (f *fake) api(path string, responder httpmock.Responder) {
	f.tr.RegisterResponder(http.MethodGet, apiURL+path, func(r *http.Request) (*http.Response, error) {
		f.mu.Lock()
		f.apiReqs = append(f.apiReqs, r)
		f.apiTimes = append(f.apiTimes, time.Now())
		f.mu.Unlock()
		return responder(r)
	})
}

func (f *fake) tokens() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tokenReqs)
}

func (f *fake) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.apiReqs)
}

func newClient(t *testing.T, cfg reddit.Config, extra ...providers.Option) (*reddit.Client, *fake) {
	t.Helper()
	f := newFake(t)
	cfg.ClientID, cfg.ClientSecret = clientID, clientSecret
	c, err := reddit.New(cfg, providertest.MockOptions(f.tr, extra...)...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, f
}

// postWant is a post as read by hand from a fixture.
type postWant struct {
	id, sub, title, author, url string
	score, comments             int
	created                     int64
}

func (w postWant) check(t *testing.T, got providers.Post) {
	t.Helper()
	require.Equal(t, w.id, got.ID)
	require.Equal(t, w.sub, got.Subreddit)
	require.Equal(t, w.title, got.Title)
	require.Equal(t, w.author, got.Author)
	require.Equal(t, w.url, got.URL)
	require.Equal(t, w.score, got.Score)
	require.Equal(t, w.comments, got.NumComments)
	require.Equal(t, unix(w.created), got.Created)
}

func TestParseListingFixtures(t *testing.T) {
	tests := []struct {
		file      string
		wantN     int
		wantAfter string
		wantFirst postWant
		wantLast  postWant
		wantBody0 string // prefix of the first post's selftext
	}{
		{
			file: askreddit, wantN: 100, wantAfter: "t3_48f6io",
			wantFirst: postWant{"48fbm9", "AskReddit", "[Serious] Parents of Reddit, what's the biggest lie about yourself you've told your kids?",
				"RedHeadQc", "https://www.reddit.com/r/AskReddit/comments/48fbm9/serious_parents_of_reddit_whats_the_biggest_lie/", 1, 1, 1456821458},
			wantLast: postWant{"48f6io", "AskReddit", "What are your two favorite foods and how would they taste mixed together?",
				"purpleclouds", "https://www.reddit.com/r/AskReddit/comments/48f6io/what_are_your_two_favorite_foods_and_how_would/", 3, 8, 1456818242},
		},
		{
			file: search, wantN: 6, wantAfter: "",
			wantFirst: postWant{"3gpbiu", "redditdev", "[PRAW][OAuth2Util] Problem using get_banned() : raise Forbidden(_raw=response)",
				"dClauzel", "https://www.reddit.com/r/redditdev/comments/3gpbiu/prawoauth2util_problem_using_get_banned_raise/", 0, 21, 1439370514},
			wantLast: postWant{"4at068", "p18s", "たびたび話題になるサイドバーの閲覧中ユーザ数について（また）調べた",
				"nmtake", "https://www.reddit.com/r/p18s/comments/4at068/たびたび話題になるサイドバーの閲覧中ユーザ数についてまた調べた/", 15, 0, 1458221634},
			wantBody0: "# solved\n\nProblem solved with this: /r/redditdev/comments/3gpbiu/",
		},
		{
			file: test2020, wantN: 2, wantAfter: "t3_hyhquk",
			wantFirst: postWant{"agi5zf", "test", "test", "kmiller0112", "https://www.reddit.com/r/test/comments/agi5zf/test/", 253, 1634, 1547618271},
			wantLast:  postWant{"hyhquk", "test", "Veggies", "MuckleMcDuckle", "https://i.imgur.com/LrN2mPw.jpg", 4, 0, 1595808310},
			wantBody0: "test",
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			l, err := reddit.ParseListing(fixture(t, tt.file))
			require.NoError(t, err)
			require.Len(t, l.Posts, tt.wantN)
			require.Equal(t, tt.wantAfter, l.After)
			tt.wantFirst.check(t, l.Posts[0])
			tt.wantLast.check(t, l.Posts[tt.wantN-1])
			require.True(t, strings.HasPrefix(l.Posts[0].Body, tt.wantBody0))
		})
	}
}

func TestParseListingShapes(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantErr   error
		wantN     int
		wantField string
		wantMsg   string
	}{
		{name: "403 body", body: string(fixture(t, "error_403_forbidden.json")), wantErr: providers.ErrUnauthorized, wantMsg: "Forbidden"},
		{name: "404 body", body: string(fixture(t, "error_404_not_found.json")), wantErr: providers.ErrNotFound, wantMsg: "Not Found"},
		{name: "429 body", body: string(fixture(t, "error_429_too_many_requests.json")), wantErr: providers.ErrRateLimited, wantMsg: "Too Many Requests"},
		{name: "private subreddit", body: `{"reason": "private", "message": "Forbidden", "error": 403}`, wantErr: providers.ErrUnauthorized, wantMsg: "Forbidden (private)"},
		{name: "empty listing", body: `{"kind": "Listing", "data": {"after": null, "dist": 0, "children": [], "before": null}}`},
		{name: "minimal post", body: `{"kind":"Listing","data":{"children":[{"kind":"t3","data":{"id":"x1","created_utc":1456821458}}]}}`, wantN: 1},
		{name: "other kinds skipped", body: `{"kind":"Listing","data":{"children":[{"kind":"t5","data":{"id":"s1"}},{"kind":"t3","data":{"id":"x1","created_utc":1456821458.5}}]}}`, wantN: 1},
		{name: "malformed JSON", body: `{"kind": "Listing", "data": {"children": [`, wantErr: providers.ErrDecode},
		{name: "HTML", body: `<!doctype html><html><head><title>Blocked</title></head></html>`, wantErr: providers.ErrDecode},
		{name: "not a listing", body: `{"kind": "t5", "data": {}}`, wantErr: providers.ErrDecode, wantField: "kind"},
		{name: "no id", body: `{"kind":"Listing","data":{"children":[{"kind":"t3","data":{"created_utc":1456821458}}]}}`, wantErr: providers.ErrDecode, wantField: "data.children.data.id"},
		{name: "no created_utc", body: `{"kind":"Listing","data":{"children":[{"kind":"t3","data":{"id":"x1"}}]}}`, wantErr: providers.ErrDecode, wantField: "data.children.data.created_utc"},
		{name: "string score", body: `{"kind":"Listing","data":{"children":[{"kind":"t3","data":{"id":"x1","created_utc":1456821458,"score":"12"}}]}}`, wantErr: providers.ErrDecode, wantField: "data.children.data.score"},
		{name: "children not array", body: `{"kind":"Listing","data":{"children":{}}}`, wantErr: providers.ErrDecode, wantField: "data.children"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := reddit.ParseListing([]byte(tt.body))
			require.ErrorIs(t, err, tt.wantErr)
			require.Len(t, l.Posts, tt.wantN)
			if tt.wantField != "" {
				var de *providers.DecodeError
				require.ErrorAs(t, err, &de)
				require.Equal(t, "reddit", de.Provider)
				require.Equal(t, tt.wantField, de.Field)
			}
			if tt.wantMsg != "" {
				require.ErrorContains(t, err, tt.wantMsg)
			}
		})
	}
}

func TestParseToken(t *testing.T) {
	tests := []struct {
		name         string
		body         string
		wantErr      error
		wantAccess   string
		wantLifetime time.Duration
	}{
		{name: "ok", body: `{"access_token": "-Ql3dPqi0pc2uO0xTx8ytLLyRmPw", "token_type": "bearer", "expires_in": 86400, "scope": "*"}`,
			wantAccess: "-Ql3dPqi0pc2uO0xTx8ytLLyRmPw", wantLifetime: 24 * time.Hour},
		{name: "hour", body: `{"access_token": "a", "token_type": "bearer", "expires_in": 3600, "scope": "*"}`, wantAccess: "a", wantLifetime: time.Hour},
		{name: "invalid grant with 200", body: `{"error": "invalid_grant"}`, wantErr: providers.ErrUnauthorized},
		{name: "unauthorized", body: `{"message": "Unauthorized", "error": 401}`, wantErr: providers.ErrUnauthorized},
		{name: "no token", body: `{"token_type": "bearer", "expires_in": 3600}`, wantErr: providers.ErrDecode},
		{name: "mac token", body: `{"access_token": "a", "token_type": "mac", "expires_in": 3600}`, wantErr: providers.ErrDecode},
		{name: "no expiry", body: `{"access_token": "a", "token_type": "bearer"}`, wantErr: providers.ErrDecode},
		{name: "malformed", body: `{"access_token": "a",`, wantErr: providers.ErrDecode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			access, life, _, err := reddit.ParseToken([]byte(tt.body))
			require.ErrorIs(t, err, tt.wantErr)
			require.Equal(t, tt.wantAccess, access)
			require.Equal(t, tt.wantLifetime, life)
			if err != nil {
				require.NotContains(t, err.Error(), "Ql3dPqi0")
			}
		})
	}
}

func TestPostsRequests(t *testing.T) {
	c, f := newClient(t, reddit.Config{UserAgent: "linux:com.example.scanner:v2.1 (by /u/example)"})
	f.api("/r/wallstreetbets/new", httpmock.NewBytesResponder(200, fixture(t, test2020)))
	f.api("/r/wallstreetbets/search", httpmock.NewBytesResponder(200, fixture(t, search)))

	posts, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "wallstreetbets", Limit: 2})
	require.NoError(t, err)
	require.Len(t, posts, 2)
	posts, err = c.Posts(t.Context(), providers.PostQuery{Subreddit: "wallstreetbets", Search: "TSLA calls", Limit: 6})
	require.NoError(t, err)
	require.Len(t, posts, 6)

	require.Equal(t, 1, f.tokens(), "the token is cached across calls")
	tr := f.tokenReqs[0]
	user, pass, ok := tr.BasicAuth()
	require.True(t, ok)
	require.Equal(t, [2]string{clientID, clientSecret}, [2]string{user, pass})
	require.Equal(t, "application/x-www-form-urlencoded", tr.Header.Get("Content-Type"))
	require.Equal(t, "grant_type=client_credentials", f.tokenBodies[0])
	require.Equal(t, "linux:com.example.scanner:v2.1 (by /u/example)", tr.Header.Get("User-Agent"))

	newReq, searchReq := f.apiReqs[0], f.apiReqs[1]
	require.Equal(t, "oauth.reddit.com", newReq.URL.Host)
	require.Equal(t, "/r/wallstreetbets/new", newReq.URL.Path)
	require.Equal(t, url.Values{"limit": {"2"}, "raw_json": {"1"}}, newReq.URL.Query())
	require.Equal(t, "bearer tok-1", newReq.Header.Get("Authorization"))
	require.Equal(t, "linux:com.example.scanner:v2.1 (by /u/example)", newReq.Header.Get("User-Agent"))
	require.Equal(t, "/r/wallstreetbets/search", searchReq.URL.Path)
	require.Equal(t, url.Values{"q": {"TSLA calls"}, "restrict_sr": {"1"}, "sort": {"new"}, "limit": {"6"}, "raw_json": {"1"}},
		searchReq.URL.Query())
}

func TestPostsDefaultUserAgent(t *testing.T) {
	c, f := newClient(t, reddit.Config{})
	f.api("/r/test/new", httpmock.NewBytesResponder(200, fixture(t, test2020)))
	_, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "test", Limit: 2})
	require.NoError(t, err)
	require.Equal(t, reddit.DefaultUserAgent, f.apiReqs[0].Header.Get("User-Agent"))
	require.Regexp(t, `^[a-z]+:[^:]+:[^:]+ \(by /u/\w+\)$`, reddit.DefaultUserAgent)
}

func TestPostsPaginates(t *testing.T) {
	c, f := newClient(t, reddit.Config{})
	// Page 1: 100 posts, after t3_48f6io; page 2: 2 posts, after
	// t3_hyhquk; page 3: 6 posts and after null, the end.
	pages := map[string][]byte{"": fixture(t, askreddit), "t3_48f6io": fixture(t, test2020), "t3_hyhquk": fixture(t, search)}
	f.api("/r/askreddit/new", func(r *http.Request) (*http.Response, error) {
		return httpmock.NewBytesResponse(200, pages[r.URL.Query().Get("after")]), nil
	})
	posts, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "askreddit", Limit: 500})
	require.NoError(t, err)
	require.Len(t, posts, 108)
	require.Equal(t, "48fbm9", posts[0].ID)
	require.Equal(t, "agi5zf", posts[100].ID)
	require.Equal(t, "4at068", posts[107].ID)
	require.Equal(t, 3, f.calls())
	var gotLimits, gotAfters []string
	for _, r := range f.apiReqs {
		gotLimits = append(gotLimits, r.URL.Query().Get("limit"))
		gotAfters = append(gotAfters, r.URL.Query().Get("after"))
	}
	require.Equal(t, []string{"100", "100", "100"}, gotLimits)
	require.Equal(t, []string{"", "t3_48f6io", "t3_hyhquk"}, gotAfters)
}

func TestPostsStopsAtLimitAndMaxPages(t *testing.T) {
	t.Run("limit", func(t *testing.T) {
		c, f := newClient(t, reddit.Config{})
		f.api("/r/askreddit/new", httpmock.NewBytesResponder(200, fixture(t, askreddit)))
		posts, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "askreddit", Limit: 150})
		require.NoError(t, err)
		// Page 2 asks for the 50 missing; the fixture answers the same 100
		// posts again: repeats are dropped, and a page of nothing new ends
		// the scan.
		require.Len(t, posts, 100)
		require.Equal(t, "50", f.apiReqs[1].URL.Query().Get("limit"))
		require.Equal(t, 2, f.calls())
	})
	t.Run("max pages", func(t *testing.T) {
		c, f := newClient(t, reddit.Config{MaxPages: 2})
		f.api("/r/askreddit/new", httpmock.NewBytesResponder(200, fixture(t, askreddit)))
		_, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "askreddit", Limit: 1000})
		require.NoError(t, err)
		require.Equal(t, 2, f.calls())
	})
	t.Run("zero limit is one page", func(t *testing.T) {
		c, f := newClient(t, reddit.Config{})
		f.api("/r/askreddit/new", httpmock.NewBytesResponder(200, fixture(t, askreddit)))
		posts, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "askreddit"})
		require.NoError(t, err)
		require.Len(t, posts, 100)
		require.Equal(t, 1, f.calls())
	})
}

func TestPostsResponses(t *testing.T) {
	html502 := "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
	ok := fixture(t, test2020)
	tests := []struct {
		name      string
		responder httpmock.Responder
		opts      []providers.Option
		wantErr   error
		wantMsg   string
		wantCalls int
		wantN     int
	}{
		{name: "ok", responder: httpmock.NewBytesResponder(200, ok), wantCalls: 1, wantN: 2},
		{name: "403 forbidden", responder: httpmock.NewBytesResponder(403, fixture(t, "error_403_forbidden.json")),
			wantErr: providers.ErrUnauthorized, wantMsg: "Forbidden", wantCalls: 1},
		{name: "404 not found", responder: httpmock.NewBytesResponder(404, fixture(t, "error_404_not_found.json")),
			wantErr: providers.ErrNotFound, wantMsg: "Not Found", wantCalls: 1},
		{name: "429 body with 200, then ok", responder: httpmock.NewBytesResponder(200, fixture(t, "error_429_too_many_requests.json")).
			Then(httpmock.NewBytesResponder(200, ok)), wantCalls: 2, wantN: 2},
		{name: "429 exhausted", responder: httpmock.NewBytesResponder(429, fixture(t, "error_429_too_many_requests.json")),
			wantErr: providers.ErrRateLimited, wantMsg: "Too Many Requests", wantCalls: 3},
		{name: "503 then ok", responder: httpmock.NewStringResponder(503, "").Then(httpmock.NewBytesResponder(200, ok)), wantCalls: 2, wantN: 2},
		{name: "HTML 502", responder: httpmock.NewStringResponder(502, html502),
			wantErr: providers.ErrUpstream, wantMsg: "HTML page: 502 Bad Gateway", wantCalls: 3},
		{name: "HTML with 200", responder: httpmock.NewStringResponder(200, "<!doctype html><html><head><title>Blocked</title></head></html>"),
			wantErr: providers.ErrUpstream, wantMsg: "HTML page: Blocked", wantCalls: 1},
		{name: "malformed JSON", responder: httpmock.NewStringResponder(200, `{"kind": "Listing", "data": {"children": [{"kind": "t3", `),
			wantErr: providers.ErrDecode, wantCalls: 1},
		{name: "empty listing", responder: httpmock.NewStringResponder(200, `{"kind": "Listing", "data": {"after": null, "children": []}}`),
			wantCalls: 1},
		{name: "timeout", responder: httpmock.NewBytesResponder(200, ok).Delay(time.Second),
			opts:    []providers.Option{providers.WithTimeout(150 * time.Millisecond), providers.WithRetry(2, time.Millisecond, time.Millisecond)},
			wantErr: providers.ErrTimeout, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newClient(t, reddit.Config{}, tt.opts...)
			f.api("/r/test/new", tt.responder)
			posts, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "test", Limit: 2})
			require.ErrorIs(t, err, tt.wantErr)
			if tt.wantMsg != "" {
				require.ErrorContains(t, err, tt.wantMsg)
			}
			require.Len(t, posts, tt.wantN)
			require.Equal(t, tt.wantCalls, f.calls())
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	c, f := newClient(t, reddit.Config{})
	f.api("/r/test/new", httpmock.NewBytesResponder(429, fixture(t, "error_429_too_many_requests.json")).
		HeaderSet(http.Header{"Retry-After": {"1"}}).
		Then(httpmock.NewBytesResponder(200, fixture(t, test2020))))
	posts, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "test", Limit: 2})
	require.NoError(t, err)
	require.Len(t, posts, 2)
	require.GreaterOrEqual(t, f.apiTimes[1].Sub(f.apiTimes[0]), time.Second)
}

func TestUnauthorizedRefreshesTokenOnce(t *testing.T) {
	unauthorized := httpmock.NewStringResponder(401, `{"message": "Unauthorized", "error": 401}`)
	t.Run("refresh then ok", func(t *testing.T) {
		c, f := newClient(t, reddit.Config{})
		f.api("/r/test/new", unauthorized.Then(httpmock.NewBytesResponder(200, fixture(t, test2020))))
		posts, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "test", Limit: 2})
		require.NoError(t, err)
		require.Len(t, posts, 2)
		require.Equal(t, 2, f.tokens())
		require.Equal(t, "bearer tok-1", f.apiReqs[0].Header.Get("Authorization"))
		require.Equal(t, "bearer tok-2", f.apiReqs[1].Header.Get("Authorization"))
	})
	t.Run("refused twice", func(t *testing.T) {
		c, f := newClient(t, reddit.Config{})
		f.api("/r/test/new", unauthorized)
		_, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "test"})
		require.ErrorIs(t, err, providers.ErrUnauthorized)
		require.Equal(t, 2, f.calls(), "one retry after one refresh")
		require.Equal(t, 2, f.tokens())
	})
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	c, f := newClient(t, reddit.Config{})
	f.lifetime = 3600
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	reddit.SetNow(c, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	f.api("/r/test/new", httpmock.NewBytesResponder(200, fixture(t, test2020)))
	posts := func() {
		_, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "test", Limit: 2})
		require.NoError(t, err)
	}
	posts()
	advance(58 * time.Minute) // inside the lifetime minus the one-minute margin
	posts()
	require.Equal(t, 1, f.tokens())
	advance(90 * time.Second) // 59.5 minutes: within the margin
	posts()
	require.Equal(t, 2, f.tokens())
	require.Equal(t, "bearer tok-2", f.apiReqs[2].Header.Get("Authorization"))
}

func TestConcurrentCallersShareOneTokenRequest(t *testing.T) {
	c, f := newClient(t, reddit.Config{})
	slow := f.tr // the token endpoint answers after 50ms
	slow.RegisterResponder(http.MethodPost, tokenURL, httpmock.NewStringResponder(200,
		`{"access_token": "shared", "token_type": "bearer", "expires_in": 86400, "scope": "*"}`).Delay(50*time.Millisecond))
	f.api("/r/test/new", httpmock.NewBytesResponder(200, fixture(t, test2020)))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "test", Limit: 2})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, slow.GetCallCountInfo()["POST "+tokenURL])
	for _, r := range f.apiReqs {
		require.Equal(t, "bearer shared", r.Header.Get("Authorization"))
	}
}

func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name      string
		responder httpmock.Responder
		wantErr   error
		wantMsg   string
	}{
		{name: "401", responder: httpmock.NewStringResponder(401, `{"message": "Unauthorized", "error": 401}`), wantErr: providers.ErrUnauthorized, wantMsg: "Unauthorized"},
		{name: "invalid grant with 200", responder: httpmock.NewStringResponder(200, `{"error": "invalid_grant"}`), wantErr: providers.ErrUnauthorized, wantMsg: "invalid_grant"},
		{name: "HTML 503", responder: httpmock.NewStringResponder(503, "<html><title>Service Unavailable</title></html>"), wantErr: providers.ErrUpstream, wantMsg: "Service Unavailable"},
		{name: "echoes the secret", responder: httpmock.NewStringResponder(400, "bad client "+clientSecret), wantErr: providers.ErrUpstream, wantMsg: providers.Redacted},
		{name: "malformed", responder: httpmock.NewStringResponder(200, `{"access_token": `), wantErr: providers.ErrDecode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newClient(t, reddit.Config{})
			f.tr.RegisterResponder(http.MethodPost, tokenURL, tt.responder)
			f.api("/r/test/new", httpmock.NewBytesResponder(200, fixture(t, test2020)))
			_, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "test"})
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorContains(t, err, tt.wantMsg)
			require.NotContains(t, err.Error(), clientSecret)
			require.Zero(t, f.calls(), "no API request without a token")
		})
	}
}

func TestRateLimitHeaders(t *testing.T) {
	spent := func(reset string) httpmock.Responder {
		return httpmock.NewBytesResponder(200, fixture(t, test2020)).HeaderSet(http.Header{
			"X-Ratelimit-Used": {"600"}, "X-Ratelimit-Remaining": {"0.0"}, "X-Ratelimit-Reset": {reset}})
	}
	t.Run("long reset fails with RetryAfter", func(t *testing.T) {
		c, f := newClient(t, reddit.Config{})
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		reddit.SetNow(c, func() time.Time { return now })
		f.api("/r/test/new", spent("412"))
		_, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "test", Limit: 2})
		require.NoError(t, err)
		_, err = c.Posts(t.Context(), providers.PostQuery{Subreddit: "test", Limit: 2})
		require.ErrorIs(t, err, providers.ErrRateLimited)
		require.Equal(t, 412*time.Second, providers.RetryAfter(err))
		require.Equal(t, 1, f.calls(), "no request while the budget is spent")
	})
	t.Run("short reset waits", func(t *testing.T) {
		c, f := newClient(t, reddit.Config{MaxRateLimitWait: 5 * time.Second})
		f.api("/r/test/new", spent("1").Then(httpmock.NewBytesResponder(200, fixture(t, test2020))))
		_, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "test", Limit: 2})
		require.NoError(t, err)
		_, err = c.Posts(t.Context(), providers.PostQuery{Subreddit: "test", Limit: 2})
		require.NoError(t, err)
		require.GreaterOrEqual(t, f.apiTimes[1].Sub(f.apiTimes[0]), 900*time.Millisecond)
	})
	t.Run("429 waits for x-ratelimit-reset", func(t *testing.T) {
		c, f := newClient(t, reddit.Config{})
		f.api("/r/test/new", httpmock.NewBytesResponder(429, fixture(t, "error_429_too_many_requests.json")).
			HeaderSet(http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"3600"}}))
		_, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "test"})
		require.ErrorIs(t, err, providers.ErrRateLimited)
		require.Equal(t, time.Hour, providers.RetryAfter(err))
		require.Equal(t, 1, f.calls(), "a reset beyond the longest wait fails at once")
	})
}

func TestPostsRejectsBadQueries(t *testing.T) {
	c, f := newClient(t, reddit.Config{})
	for _, q := range []providers.PostQuery{
		{Subreddit: ""}, {Subreddit: "../api"}, {Subreddit: "a"}, {Subreddit: "wall street"}, {Subreddit: "stocks", Limit: -1},
	} {
		_, err := c.Posts(t.Context(), q)
		require.Error(t, err, q.Subreddit)
	}
	require.Zero(t, f.tokens()+f.calls())
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  reddit.Config
		want string
	}{
		{"no credentials", reddit.Config{}, "ClientID and Config.ClientSecret are required"},
		{"no secret", reddit.Config{ClientID: "id"}, "required"},
		{"bad auth URL", reddit.Config{ClientID: "id", ClientSecret: "secret", AuthURL: "www.reddit.com"}, "auth URL"},
		{"bad base URL", reddit.Config{ClientID: "id", ClientSecret: "secret", BaseURL: "ftp://x"}, "base URL"},
		{"negative pages", reddit.Config{ClientID: "id", ClientSecret: "secret", MaxPages: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := reddit.New(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestClosedClient(t *testing.T) {
	c, f := newClient(t, reddit.Config{})
	require.Equal(t, "reddit", c.Name())
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	_, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "test"})
	require.ErrorIs(t, err, providers.ErrClosed)
	require.Zero(t, f.tokens())
	require.False(t, errors.Is(err, providers.ErrUnauthorized))
}
