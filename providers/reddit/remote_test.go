package reddit_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/reddit"
)

// TestRemote reads one page of r/stocks from the real API. It runs only
// when REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET are set (REDDIT_USER_AGENT
// overrides the default agent).
func TestRemote(t *testing.T) {
	env := providertest.EnvOrSkip(t, "REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET")
	c, err := reddit.New(reddit.Config{ClientID: env[0], ClientSecret: env[1], UserAgent: os.Getenv("REDDIT_USER_AGENT")})
	require.NoError(t, err)
	defer c.Close()
	posts, err := c.Posts(t.Context(), providers.PostQuery{Subreddit: "stocks", Limit: 25})
	require.NoError(t, err)
	require.NotEmpty(t, posts)
	t.Logf("r/stocks sentiment towards SPY: %+v", reddit.Sentiment(posts, "SPY").Value)
}
