package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Reddit: the OAuth token endpoint (www.reddit.com) and subreddit listings
// (oauth.reddit.com). Posts are the recorded listings in data/upstream/reddit
// plus a generated set of finance posts; see redditGenerated.

// redditPost is one post: its JSON as served and the fields the sandbox
// filters and sorts on.
type redditPost struct {
	raw       json.RawMessage
	name      string // "t3_<id>"
	subreddit string // lower case
	text      string // title and selftext, lower case, for search
	created   float64
}

var (
	redditOnce  sync.Once
	redditPosts []redditPost // newest first
	redditSubs  map[string]bool
)

// redditData loads the recorded posts and generates the finance posts once.
func redditData() ([]redditPost, map[string]bool) {
	redditOnce.Do(func() {
		var posts []redditPost
		for _, name := range []string{"r_askreddit_new_limit100_2016.json", "r_test_new_listing_2020.json", "r_all_search_praw_2016.json"} {
			var listing struct {
				Data struct {
					Children []struct {
						Data json.RawMessage `json:"data"`
					} `json:"children"`
				} `json:"data"`
			}
			if err := json.Unmarshal(fixture("reddit/"+name), &listing); err != nil {
				panic("sandbox: recorded listing " + name + " (a bug in this package): " + err.Error())
			}
			for _, c := range listing.Data.Children {
				var f struct {
					Name      string  `json:"name"`
					Subreddit string  `json:"subreddit"`
					Title     string  `json:"title"`
					Selftext  string  `json:"selftext"`
					Created   float64 `json:"created_utc"`
				}
				if err := json.Unmarshal(c.Data, &f); err != nil {
					panic("sandbox: recorded post (a bug in this package): " + err.Error())
				}
				var buf bytes.Buffer
				_ = json.Compact(&buf, c.Data)
				posts = append(posts, redditPost{raw: buf.Bytes(), name: f.Name, subreddit: strings.ToLower(f.Subreddit),
					text: strings.ToLower(f.Title + "\n" + f.Selftext), created: f.Created})
			}
		}
		posts = append(posts, redditGenerated()...)
		// Newest first; ties broken by name so the order is total.
		slices.SortStableFunc(posts, func(a, b redditPost) int {
			if a.created != b.created {
				if a.created > b.created {
					return -1
				}
				return 1
			}
			return strings.Compare(a.name, b.name)
		})
		posts = slices.CompactFunc(posts, func(a, b redditPost) bool { return a.name == b.name })
		subs := map[string]bool{"all": true}
		for _, p := range posts {
			subs[p.subreddit] = true
		}
		redditPosts, redditSubs = posts, subs
	})
	return redditPosts, redditSubs
}

// redditAnchor is the creation time of the newest generated post: the end
// of the latest embedded price series.
var redditAnchor = time.Date(2021, 3, 31, 21, 0, 0, 0, time.UTC)

// The generated finance subreddits and the symbols their posts mention.
var redditFinance = []struct {
	sub     string
	id      string
	symbols []string
}{
	{"stocks", "t5_2qjfk", []string{"AAPL", "SPY"}},
	{"wallstreetbets", "t5_2th52", []string{"AAPL", "SPY"}},
	{"investing", "t5_2qhhq", []string{"AAPL", "SPY", "BTC"}},
	{"CryptoCurrency", "t5_2wlj3", []string{"BTC"}},
	{"Bitcoin", "t5_2s3qj", []string{"BTC"}},
	{"Forex", "t5_2qhvt", []string{"EUR/USD"}},
}

// redditTemplates are the generated posts' title and body; {S} is the
// symbol.
var redditTemplates = []struct{ title, body string }{
	{"{S} looks ready to break out, loading up", "Volume is picking up and {S} just closed above its 50-day average. Bullish into next week."},
	{"Why I'm long {S}", "Strong momentum and higher lows every week. I'm buying more {S} on any dip."},
	{"{S} to the moon", "Beat expectations again and {S} is going higher. My calls printed today."},
	{"Just bought more {S}", "Added to my {S} position today. Long term this is a great buy."},
	{"{S} bounced hard off support", "Textbook bounce: buyers stepped in and {S} rallied into the close. Bullish."},
	{"{S} is overvalued, taking profits", "Sold my {S} today. Valuation is stretched and momentum is fading. Bearish."},
	{"{S} breaking down, watch out", "{S} lost support and closed at the low of the day. I expect a further drop."},
	{"Puts on {S}", "Loaded puts on {S}. This rally is a bull trap and a crash is coming."},
	{"{S} looks weak", "Lower highs and lower lows. Selling pressure on {S} keeps building. Avoid."},
	{"Is {S} about to dump?", "Volume dried up on the way up; {S} could fall hard from here. Bearish short term."},
	{"{S} daily discussion", "What are your plans for {S} today? Holding, buying or selling?"},
	{"How do you value {S}?", "Trying to understand what drives {S}. Any good resources?"},
	{"{S} chart check", "Sideways for a week now. Waiting for a clear move in {S} before doing anything."},
}

// redditGeneratedPerSub is how many posts each finance subreddit gets.
const redditGeneratedPerSub = 60

// redditGenerated builds the generated finance posts: for each finance
// subreddit, redditGeneratedPerSub posts three hours apart ending at
// redditAnchor, each from a template chosen by a fixed hash of its index.
// They are labelled by author ("sandbox_trader_N") and link flair
// ("Sandbox") so nobody mistakes them for recorded posts.
func redditGenerated() []redditPost {
	var out []redditPost
	n := 0
	for si, f := range redditFinance {
		for k := 0; k < redditGeneratedPerSub; k++ {
			n++
			h := mix(uint64(si)<<32 | uint64(k))
			sym := f.symbols[h%uint64(len(f.symbols))]
			t := redditTemplates[(h>>8)%uint64(len(redditTemplates))]
			title := strings.ReplaceAll(t.title, "{S}", sym)
			body := strings.ReplaceAll(t.body, "{S}", sym)
			id := "sbx" + strconv.FormatInt(int64(n), 36)
			created := redditAnchor.Add(-time.Duration(k)*3*time.Hour - time.Duration(si)*17*time.Minute).Unix()
			score := 1 + int((h>>16)%900)
			slug := strings.Trim(strings.Map(func(r rune) rune {
				if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
					return r
				}
				return '_'
			}, strings.ToLower(title)), "_")
			permalink := "/r/" + f.sub + "/comments/" + id + "/" + slug + "/"
			p := genPost{
				Subreddit: f.sub, Selftext: body, AuthorFullname: "t2_sbx" + strconv.Itoa(1+int(h%40)),
				Title: title, SubredditNamePrefixed: "r/" + f.sub, Name: "t3_" + id,
				UpvoteRatio: 0.5 + float64((h>>24)%50)/100, SubredditType: "public", Ups: score,
				LinkFlairText: "Sandbox", Score: score, Thumbnail: "self", IsSelf: true, Created: created,
				LinkFlairType: "text", Domain: "self." + f.sub,
				SelftextHTML: html.EscapeString(`<!-- SC_OFF --><div class="md"><p>` + html.EscapeString(body) + "</p>\n</div><!-- SC_ON -->"),
				SubredditID:  f.id, ID: id, Author: "sandbox_trader_" + strconv.Itoa(1+int(h%40)),
				NumComments: int((h >> 32) % 150), Permalink: permalink, URL: "https://www.reddit.com" + permalink,
				SubredditSubscribers: 1000000, CreatedUTC: created,
			}
			raw, err := json.Marshal(p)
			if err != nil {
				panic("sandbox: generated post (a bug in this package): " + err.Error())
			}
			out = append(out, redditPost{raw: raw, name: p.Name, subreddit: strings.ToLower(f.sub),
				text: strings.ToLower(title + "\n" + body), created: float64(created)})
		}
	}
	return out
}

// genPost is a generated post with the keys of a 2020 listing child, in
// their order.
type genPost struct {
	ApprovedAtUTC         *int64  `json:"approved_at_utc"`
	Subreddit             string  `json:"subreddit"`
	Selftext              string  `json:"selftext"`
	AuthorFullname        string  `json:"author_fullname"`
	Saved                 bool    `json:"saved"`
	Gilded                int     `json:"gilded"`
	Clicked               bool    `json:"clicked"`
	Title                 string  `json:"title"`
	SubredditNamePrefixed string  `json:"subreddit_name_prefixed"`
	Hidden                bool    `json:"hidden"`
	Downs                 int     `json:"downs"`
	HideScore             bool    `json:"hide_score"`
	Name                  string  `json:"name"`
	Quarantine            bool    `json:"quarantine"`
	UpvoteRatio           float64 `json:"upvote_ratio"`
	SubredditType         string  `json:"subreddit_type"`
	Ups                   int     `json:"ups"`
	TotalAwardsReceived   int     `json:"total_awards_received"`
	LinkFlairText         string  `json:"link_flair_text"`
	Score                 int     `json:"score"`
	Thumbnail             string  `json:"thumbnail"`
	Edited                bool    `json:"edited"`
	IsSelf                bool    `json:"is_self"`
	Created               int64   `json:"created"`
	LinkFlairType         string  `json:"link_flair_type"`
	Domain                string  `json:"domain"`
	SelftextHTML          string  `json:"selftext_html"`
	Likes                 *bool   `json:"likes"`
	Archived              bool    `json:"archived"`
	Over18                bool    `json:"over_18"`
	Spoiler               bool    `json:"spoiler"`
	Locked                bool    `json:"locked"`
	Distinguished         *string `json:"distinguished"`
	SubredditID           string  `json:"subreddit_id"`
	ID                    string  `json:"id"`
	Author                string  `json:"author"`
	NumComments           int     `json:"num_comments"`
	Permalink             string  `json:"permalink"`
	Stickied              bool    `json:"stickied"`
	URL                   string  `json:"url"`
	SubredditSubscribers  int     `json:"subreddit_subscribers"`
	CreatedUTC            int64   `json:"created_utc"`
	NumCrossposts         int     `json:"num_crossposts"`
	IsVideo               bool    `json:"is_video"`
}

func redditJSON(status int, body []byte) reply {
	return bodyReply(status, ctReddit, body).
		withHeader("X-Ratelimit-Remaining", "599.0").
		withHeader("X-Ratelimit-Used", "1").
		withHeader("X-Ratelimit-Reset", "600")
}

var redditUnauthorized = []byte(`{"message": "Unauthorized", "error": 401}`)

// redditWWWVenue serves Reddit's token endpoint (www.reddit.com) under
// PrefixRedditWWW. Tokens are derived from the client id, so it keeps no
// state.
type redditWWWVenue struct{}

func (redditWWWVenue) tooManyRequests() reply { return redditTooMany() }

func (redditWWWVenue) internalError() reply { return redditInternal() }

// redditVenue serves the Reddit listings (oauth.reddit.com) under
// PrefixReddit, to the bearers of tokens redditWWWVenue issued.
type redditVenue struct{}

func (redditVenue) tooManyRequests() reply { return redditTooMany() }

func (redditVenue) internalError() reply { return redditInternal() }

func redditTooMany() reply {
	return bodyReply(http.StatusTooManyRequests, ctReddit, fixture("reddit/error_429_too_many_requests.json"))
}

func redditInternal() reply {
	return bodyReply(http.StatusInternalServerError, ctReddit, []byte(`{"message": "Internal Server Error", "error": 500}`))
}

// redditTokenSalt keys the sandbox's access tokens.
const redditTokenSalt = 0x5eed_2ed1_7000_0001

// redditToken serves POST /api/v1/access_token: HTTP basic auth with the
// client id (and secret) and grant_type client_credentials, password or
// installed_client. The token is derived from the client id, so any
// sandbox accepts it.
func (redditWWWVenue) route(r *http.Request, rest string) reply {
	if rest != "/api/v1/access_token" || r.Method != http.MethodPost {
		return bodyReply(http.StatusNotFound, ctReddit, fixture("reddit/error_404_not_found.json"))
	}
	id, _, ok := r.BasicAuth()
	if valid, _ := credential(id); !ok || !valid {
		return bodyReply(http.StatusUnauthorized, ctReddit, redditUnauthorized)
	}
	if err := r.ParseForm(); err != nil {
		return bodyReply(http.StatusBadRequest, ctReddit, []byte(`{"message": "Bad Request", "error": 400}`))
	}
	switch r.PostForm.Get("grant_type") {
	case "client_credentials", "password", "https://oauth.reddit.com/grants/installed_client":
	default:
		return bodyReply(http.StatusOK, ctReddit, []byte(`{"error": "unsupported_grant_type"}`))
	}
	b := []byte(`{"access_token": `)
	b = appendStr(b, redditTokenFor(id))
	b = append(b, `, "token_type": "bearer", "expires_in": 86400, "scope": "*"}`...)
	return bodyReply(http.StatusOK, ctReddit, b)
}

func redditTokenFor(clientID string) string {
	f := fnv.New64a()
	f.Write([]byte(clientID))
	return fmt.Sprintf("sandbox.%s.%016x", base64.RawURLEncoding.EncodeToString([]byte(clientID)), mix(f.Sum64()^redditTokenSalt))
}

// redditTokenValid reports whether tok was issued by redditToken.
func redditTokenValid(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != "sandbox" {
		return false
	}
	id, err := base64.RawURLEncoding.DecodeString(parts[1])
	return err == nil && redditTokenFor(string(id)) == tok
}

// reddit serves GET /r/{sub}/new and /r/{sub}/search (with or without
// .json): Listings of t3 children, newest first, limit (default 25, at
// most 100) and after for paging. Search matches every word of q in the
// title or body (case-insensitive; "A OR B" matches either side), within
// the subreddit when restrict_sr is set, across all posts otherwise; its
// sort is always by date.
func (redditVenue) route(r *http.Request, rest string) reply {
	if !redditTokenValid(bearer(r)) {
		return redditJSON(http.StatusUnauthorized, redditUnauthorized)
	}
	p := strings.Split(strings.Trim(rest, "/"), "/")
	if len(p) != 3 || p[0] != "r" || r.Method != http.MethodGet {
		return redditJSON(http.StatusNotFound, fixture("reddit/error_404_not_found.json"))
	}
	sub := strings.ToLower(p[1])
	action := strings.TrimSuffix(p[2], ".json")
	posts, subs := redditData()
	in := map[string]bool{} // the subreddits of a multireddit "a+b"
	for _, s := range strings.Split(sub, "+") {
		if !subs[s] {
			return redditJSON(http.StatusNotFound, fixture("reddit/error_404_not_found.json"))
		}
		in[s] = true
	}
	if action != "new" && action != "search" {
		return redditJSON(http.StatusNotFound, fixture("reddit/error_404_not_found.json"))
	}
	q := r.URL.Query()
	limit := 25
	if v, err := strconv.Atoi(q.Get("limit")); err == nil && v > 0 {
		limit = min(v, 100)
	}
	match := func(rp *redditPost) bool { return in["all"] || in[rp.subreddit] }
	if action == "search" {
		match = redditSearch(in, q)
	}
	page, more := redditPage(posts, match, q.Get("after"), limit)
	return redditJSON(http.StatusOK, redditListing(page, more, action == "search"))
}

// redditSearch matches the posts of a search within the subreddits in:
// every word of one alternative of q's "q" in the title or body, and with
// restrict_sr (unless searching r/all) only posts of those subreddits.
func redditSearch(in map[string]bool, q url.Values) func(*redditPost) bool {
	restrict := !in["all"] && (q.Get("restrict_sr") == "1" || q.Get("restrict_sr") == "true" || q.Get("restrict_sr") == "on")
	alts := redditQuery(q.Get("q"))
	return func(rp *redditPost) bool {
		if restrict && !in[rp.subreddit] {
			return false
		}
		for _, words := range alts {
			all := true
			for _, w := range words {
				all = all && strings.Contains(rp.text, w)
			}
			if all {
				return true
			}
		}
		return false
	}
}

// redditPage returns up to limit posts that match, after the post named
// after (from the start when empty), and whether more follow.
func redditPage(posts []redditPost, match func(*redditPost) bool, after string, limit int) (page []*redditPost, more bool) {
	started := after == ""
	for i := range posts {
		rp := &posts[i]
		if !started {
			started = rp.name == after
			continue
		}
		if !match(rp) {
			continue
		}
		if len(page) == limit {
			return page, true
		}
		page = append(page, rp)
	}
	return page, false
}

// redditListing renders page as a Listing, with the facets of a search
// answer and the after cursor when more posts follow.
func redditListing(page []*redditPost, more, search bool) []byte {
	b := make([]byte, 0, 1024+len(page)*2500)
	b = append(b, `{"kind": "Listing", "data": {`...)
	if search {
		b = append(b, `"facets": {}, `...)
	}
	b = append(b, `"modhash": "", "dist": `...)
	b = strconv.AppendInt(b, int64(len(page)), 10)
	b = append(b, `, "children": [`...)
	for i, rp := range page {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"kind": "t3", "data": `...)
		b = append(b, rp.raw...)
		b = append(b, '}')
	}
	b = append(b, `], "after": `...)
	if more && len(page) > 0 {
		b = appendStr(b, page[len(page)-1].name)
	} else {
		b = append(b, "null"...)
	}
	return append(b, `, "before": null}}`...)
}

// redditQuery splits a search query into alternatives ("OR") of words
// that must all match; quotes and AND are ignored. An empty query matches
// nothing.
func redditQuery(q string) [][]string {
	var alts [][]string
	for _, alt := range strings.Split(q, " OR ") {
		var words []string
		for _, w := range strings.Fields(strings.ToLower(strings.ReplaceAll(alt, `"`, " "))) {
			if w != "and" {
				words = append(words, w)
			}
		}
		if len(words) > 0 {
			alts = append(alts, words)
		}
	}
	return alts
}
