package reddit_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/reddit"
)

func post(id, title, body string, score int) providers.Post {
	return providers.Post{ID: id, Title: title, Body: body, Score: score, Created: time.Unix(1700000000, 0).UTC()}
}

func TestSentiment(t *testing.T) {
	w := func(score int) float64 { return 1 + math.Log10(1+float64(score)) }
	tests := []struct {
		name         string
		posts        []providers.Post
		symbol       string
		wantMentions int
		wantBull     float64
		wantBear     float64
		wantTop      []string
	}{
		{
			name: "ticker in capitals and $ticker",
			posts: []providers.Post{
				post("a", "AAPL to the moon 🚀🚀", "", 99),                    // moon, 🚀, 🚀: 3 bullish
				post("b", "why I'm selling $aapl", "overvalued, bubble", 9), // selling, overvalued, bubble: 3 bearish
				post("c", "apple pie recipe", "buy flour", 500),             // no mention
				post("d", "aapl lowercase is not a mention", "bullish", 0),  // no mention
			},
			symbol: "AAPL", wantMentions: 2, wantBull: 3 * w(99), wantBear: 3 * w(9), wantTop: []string{"a", "b"},
		},
		{
			name: "crypto pair by base and name",
			posts: []providers.Post{
				post("a", "Bitcoin breakout", "", 0),       // breakout
				post("b", "BTC crash incoming", "puts", 0), // crash, puts
				post("c", "ETH rally", "", 0),              // other coin
			},
			symbol: "BTC-USD", wantMentions: 2, wantBull: 1, wantBear: 2, wantTop: []string{"a", "b"},
		},
		{
			name: "forex pair spellings",
			posts: []providers.Post{
				post("a", "EUR/USD rally", "", 0),
				post("b", "EURUSD downtrend", "", 0),
				post("c", "EUR strong vs GBP", "", 0),
			},
			symbol: "EUR_USD", wantMentions: 2, wantBull: 1, wantBear: 1, wantTop: []string{"a", "b"},
		},
		{
			name:   "negative scores weigh as zero",
			posts:  []providers.Post{post("a", "TSLA bearish", "", -40)},
			symbol: "TSLA", wantMentions: 1, wantBear: 1, wantTop: []string{"a"},
		},
		{
			name:   "empty symbol counts every post",
			posts:  []providers.Post{post("a", "market crash", "", 0), post("b", "nothing here", "", 3)},
			symbol: "", wantMentions: 2, wantBear: 1, wantTop: []string{"b", "a"},
		},
		{name: "no posts", symbol: "AAPL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := reddit.Sentiment(tt.posts, tt.symbol)
			require.Equal(t, tt.symbol, s.Symbol)
			require.Equal(t, tt.wantMentions, s.Mentions)
			require.InDelta(t, tt.wantBull, s.Bullish, 1e-9)
			require.InDelta(t, tt.wantBear, s.Bearish, 1e-9)
			wantValue := 0.0
			if tt.wantBull+tt.wantBear > 0 {
				wantValue = (tt.wantBull - tt.wantBear) / (tt.wantBull + tt.wantBear)
			}
			require.InDelta(t, wantValue, s.Value, 1e-9)
			var top []string
			for _, p := range s.Top {
				top = append(top, p.ID)
			}
			require.Equal(t, tt.wantTop, top)
		})
	}
}

func TestSentimentTopIsBounded(t *testing.T) {
	var posts []providers.Post
	for i := range 20 {
		posts = append(posts, post(string(rune('a'+i)), "SPY calls", "", i))
	}
	s := reddit.Sentiment(posts, "SPY")
	require.Equal(t, 20, s.Mentions)
	require.Len(t, s.Top, reddit.TopPosts)
	require.Equal(t, 19, s.Top[0].Score)
	require.Equal(t, 1.0, s.Value)
}

func TestSentimentOnRecordedListing(t *testing.T) {
	l, err := reddit.ParseListing(fixture(t, askreddit))
	require.NoError(t, err)
	s := reddit.Sentiment(l.Posts, "AAPL")
	require.Zero(t, s.Mentions, "r/AskReddit of 2016-03-01 does not discuss AAPL")
	require.Zero(t, s.Value)
	all := reddit.Sentiment(l.Posts, "")
	require.Equal(t, 100, all.Mentions)
	require.GreaterOrEqual(t, all.Value, -1.0)
	require.LessOrEqual(t, all.Value, 1.0)
}
