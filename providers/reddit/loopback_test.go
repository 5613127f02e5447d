package reddit_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/reddit"
)

// fixtureServer is Reddit on one loopback server: the token endpoint under
// /reddit-www and the API under /reddit, as the sandbox lays them out.
// Page 1 of r/askreddit is the recorded listing; page 2 answers page2.
type fixtureServer struct {
	t      *testing.T
	page2  func(w http.ResponseWriter)
	tokens atomic.Int32
}

func (s *fixtureServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/reddit-www/api/v1/access_token":
		if id, secret, ok := r.BasicAuth(); !ok || id != clientID || secret != clientSecret {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"message": "Unauthorized", "error": 401}`)
			return
		}
		s.tokens.Add(1)
		io.WriteString(w, `{"access_token": "loopback-token", "token_type": "bearer", "expires_in": 86400, "scope": "*"}`)
	case r.Header.Get("Authorization") != "bearer loopback-token":
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"message": "Unauthorized", "error": 401}`)
	case r.URL.Path == "/reddit/r/askreddit/new" && r.URL.Query().Get("after") == "":
		w.Header().Set("X-Ratelimit-Remaining", "598.0")
		w.Header().Set("X-Ratelimit-Reset", "412")
		w.Write(fixture(s.t, askreddit))
	case r.URL.Path == "/reddit/r/askreddit/new":
		s.page2(w)
	case strings.HasPrefix(r.URL.Path, "/reddit/r/") && strings.HasSuffix(r.URL.Path, "/search"):
		w.Write(fixture(s.t, search))
	default:
		w.WriteHeader(http.StatusNotFound)
		w.Write(fixture(s.t, "error_404_not_found.json"))
	}
}

func loopbackConfig(base string) reddit.Config {
	return reddit.Config{BaseURL: base + "/reddit", AuthURL: base + "/reddit-www", ClientID: clientID, ClientSecret: clientSecret}
}

// page2 failures: an error answer that is not retried, one that is, and a
// connection the server cuts mid-body.
var page2Failures = []struct {
	name    string
	serve   func(w http.ResponseWriter)
	wantErr error
}{
	{"403", func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message": "Forbidden", "error": 403}`)
	}, providers.ErrUnauthorized},
	{"HTML 503", func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "<html><head><title>Service Unavailable</title></head></html>")
	}, providers.ErrUpstream},
	{"body cut short", func(w http.ResponseWriter) {
		w.Header().Set("Content-Length", "100000")
		io.WriteString(w, `{"kind": "Listing", "data": {"children": [`)
		panic(http.ErrAbortHandler) // the server drops the connection
	}, providers.ErrUpstream},
}

// TestFailedScanLeavesNothingOpen runs a scan whose second page fails and
// proves, before Close, that every response body was closed and no
// connection is left mid-request, and after Close that no connection
// remains at all.
func TestFailedScanLeavesNothingOpen(t *testing.T) {
	for _, tt := range page2Failures {
		t.Run(tt.name, func(t *testing.T) {
			h := &fixtureServer{t: t, page2: tt.serve}
			srv := providertest.NewServer(t, h)
			tr := http.DefaultTransport.(*http.Transport).Clone()
			bt := &providertest.BodyTracker{Next: tr}
			c, err := reddit.New(loopbackConfig(srv.URL), append(providertest.Options(), providers.WithTransport(bt))...)
			require.NoError(t, err)
			defer c.Close()

			posts, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "askreddit", Limit: 300})
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorContains(t, err, "page 2")
			require.Nil(t, posts)
			bt.RequireAllClosed(t)

			// Only idle keep-alive connections may remain: closing them
			// leaves the server with none.
			tr.CloseIdleConnections()
			srv.RequireNoOpenConns(t)
		})
	}
}

// TestCloseAfterFailedScan runs the same failing scans on the client's own
// transport: Close leaves no goroutine and no connection.
func TestCloseAfterFailedScan(t *testing.T) {
	for _, tt := range page2Failures {
		t.Run(tt.name, func(t *testing.T) {
			h := &fixtureServer{t: t, page2: tt.serve}
			providertest.CheckClose(t, h, func(base string) (io.Closer, error) {
				return reddit.New(loopbackConfig(base), providertest.Options()...)
			}, func(cl io.Closer) {
				c := cl.(*reddit.Client)
				_, err := c.Posts(context.Background(), providers.PostQuery{Subreddit: "askreddit", Limit: 300})
				require.ErrorIs(t, err, tt.wantErr)
				posts, err := c.Posts(context.Background(), providers.PostQuery{Subreddit: "stocks", Search: "AAPL"})
				require.NoError(t, err)
				require.Len(t, posts, 6)
			})
			require.Equal(t, int32(1), h.tokens.Load(), "one token for the client's life")
		})
	}
}

func TestCloseDuringTokenRequest(t *testing.T) {
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // then the server notices when the client hangs up
		select {           // a token endpoint that never answers
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	providertest.CheckClose(t, h, func(base string) (io.Closer, error) {
		return reddit.New(loopbackConfig(base), providertest.Options()...)
	}, func(cl io.Closer) {
		errc := make(chan error, 1)
		go func() {
			_, err := cl.(*reddit.Client).Posts(context.Background(), providers.PostQuery{Subreddit: "test"})
			errc <- err
		}()
		time.Sleep(50 * time.Millisecond)
		require.NoError(t, cl.Close())
		require.ErrorIs(t, <-errc, providers.ErrClosed)
	})
}

func TestUnclosedClientIsReported(t *testing.T) {
	h := &fixtureServer{t: t, page2: func(w http.ResponseWriter) { w.Write(fixture(t, test2020)) }}
	srv := providertest.NewServer(t, h)
	// Two core clients: the API's and the token endpoint's.
	providertest.CheckUnclosedTrackerN(t, "reddit", 2, func(l *slog.Logger) (io.Closer, error) {
		c, err := reddit.New(loopbackConfig(srv.URL), append(providertest.Options(), providers.WithLogger(l))...)
		if err != nil {
			return nil, err
		}
		posts, err := c.Posts(context.Background(), providers.PostQuery{Subreddit: "askreddit", Limit: 102})
		if err == nil && len(posts) != 102 {
			t.Errorf("got %d posts, want 102", len(posts))
		}
		return c, err
	})
	srv.RequireNoOpenConns(t) // the tracker closed the dropped client's idle connections
}
