package reddit

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/valyala/fastjson"

	"github.com/leakgate/leakgate/providers"
)

// Listing is one page of a subreddit listing or search.
type Listing struct {
	// Posts are the page's t3 children in the order Reddit sent them
	// (newest first for /new and sort=new). Children of other kinds are
	// skipped.
	Posts []providers.Post
	// After is the cursor of the next page ("t3_…"), empty on the last.
	After string
}

var parsers fastjson.ParserPool

// ParseListing decodes a Listing answer of /r/{sub}/new or
// /r/{sub}/search. Keys Reddit added over the years (dist,
// author_fullname, …) are optional; of a post only id and created_utc are
// required. An error body ({"message","error"}) yields a
// *providers.StatusError (Status 0: the parser does not know the HTTP
// status); any other shape is a *providers.DecodeError naming the field.
func ParseListing(body []byte) (Listing, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	root, err := p.ParseBytes(body)
	if err != nil {
		return Listing{}, decodeErr("", "%s", shortErr(err))
	}
	if root.Type() != fastjson.TypeObject {
		return Listing{}, decodeErr("", "%s, want a Listing object", root.Type())
	}
	if se := errorBody(root, 0); se != nil {
		return Listing{}, se
	}
	if kind := string(root.GetStringBytes("kind")); kind != "Listing" {
		return Listing{}, decodeErr("kind", "%q, want \"Listing\"", truncate(kind, 40))
	}
	data := root.Get("data")
	if data == nil || data.Type() != fastjson.TypeObject {
		return Listing{}, decodeErr("data", "missing or not an object")
	}
	var l Listing
	if l.After, err = optString(data, "data.after", "after"); err != nil {
		return Listing{}, err
	}
	children := data.Get("children")
	if children == nil || children.Type() == fastjson.TypeNull {
		return l, nil
	}
	kids, err := children.Array()
	if err != nil {
		return Listing{}, decodeErr("data.children", "not an array")
	}
	l.Posts = make([]providers.Post, 0, len(kids))
	for i, k := range kids {
		if k.Type() != fastjson.TypeObject {
			return Listing{}, decodeErr("data.children", "element %d is not an object", i)
		}
		if string(k.GetStringBytes("kind")) != "t3" {
			continue
		}
		post, err := parsePost(k.Get("data"))
		if err != nil {
			return Listing{}, fmt.Errorf("child %d: %w", i, err)
		}
		l.Posts = append(l.Posts, post)
	}
	return l, nil
}

func parsePost(d *fastjson.Value) (providers.Post, error) {
	if d == nil || d.Type() != fastjson.TypeObject {
		return providers.Post{}, decodeErr("data.children.data", "missing or not an object")
	}
	var p providers.Post
	var err error
	str := func(key string, dst *string) {
		if err == nil {
			*dst, err = optString(d, "data.children.data."+key, key)
		}
	}
	str("id", &p.ID)
	str("subreddit", &p.Subreddit)
	str("title", &p.Title)
	str("selftext", &p.Body)
	str("author", &p.Author)
	str("url", &p.URL)
	if err != nil {
		return providers.Post{}, err
	}
	if p.ID == "" {
		return providers.Post{}, decodeErr("data.children.data.id", "missing")
	}
	score, err := optInt(d, "data.children.data.score", "score")
	if err != nil {
		return providers.Post{}, err
	}
	comments, err := optInt(d, "data.children.data.num_comments", "num_comments")
	if err != nil {
		return providers.Post{}, err
	}
	p.Score, p.NumComments = score, comments
	cv := d.Get("created_utc")
	if cv == nil || cv.Type() == fastjson.TypeNull {
		return providers.Post{}, decodeErr("data.children.data.created_utc", "missing")
	}
	created, err := cv.Float64()
	// Unix seconds between 2005 (Reddit's founding) and 2200.
	if err != nil || math.IsNaN(created) || created < 1e9 || created > 7.3e9 {
		return providers.Post{}, decodeErr("data.children.data.created_utc", "want Unix seconds")
	}
	sec, frac := math.Modf(created)
	p.Created = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return p, nil
}

func optString(v *fastjson.Value, field, key string) (string, error) {
	s := v.Get(key)
	if s == nil || s.Type() == fastjson.TypeNull {
		return "", nil
	}
	b, err := s.StringBytes()
	if err != nil {
		return "", decodeErr(field, "not a string")
	}
	return string(b), nil
}

// optInt reads an integer that Reddit may print as 12 or 12.0.
func optInt(v *fastjson.Value, field, key string) (int, error) {
	n := v.Get(key)
	if n == nil || n.Type() == fastjson.TypeNull {
		return 0, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.Abs(f) > 1<<53 || f != math.Trunc(f) {
		return 0, decodeErr(field, "want an integer")
	}
	return int(f), nil
}

// errorBody returns the error a {"message": …, "error": …} body carries,
// or nil. error is Reddit's status code (a number) on the API, or an OAuth
// error name (a string) on the token endpoint.
func errorBody(root *fastjson.Value, status int) *providers.StatusError {
	if root.Get("kind") != nil {
		return nil
	}
	e := root.Get("error")
	if e == nil || e.Type() == fastjson.TypeNull {
		return nil
	}
	msg := string(root.GetStringBytes("message"))
	var kind error
	switch e.Type() {
	case fastjson.TypeNumber:
		code, _ := e.Int()
		switch {
		case code >= 400:
			kind = providers.KindForStatus(code)
		case status >= 400:
			kind = providers.KindForStatus(status)
		default:
			kind = providers.ErrUpstream
		}
		if msg == "" {
			msg = "error " + strconv.Itoa(code)
		}
	case fastjson.TypeString:
		// OAuth errors of the token endpoint: invalid_grant,
		// unsupported_grant_type, invalid_client… all mean the
		// credentials were refused.
		kind = providers.ErrUnauthorized
		oauthErr := string(e.GetStringBytes())
		if msg == "" {
			msg = oauthErr
		} else {
			msg = oauthErr + ": " + msg
		}
	default:
		return nil
	}
	if reason := string(root.GetStringBytes("reason")); reason != "" {
		msg += " (" + reason + ")"
	}
	return &providers.StatusError{Provider: name, Status: status, Kind: kind, Message: truncate(msg, 200)}
}

func decodeErr(field, format string, args ...any) error {
	return providers.Decodef(name, field, format, args...)
}

func shortErr(err error) string { return truncate(err.Error(), 160) }
