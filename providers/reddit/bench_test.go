package reddit_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/reddit"
)

// BenchmarkParseListing decodes the recorded 100-post r/AskReddit page
// (186 KB, the largest a listing request returns).
func BenchmarkParseListing(b *testing.B) {
	body := fixture(b, askreddit)
	l, err := reddit.ParseListing(body)
	require.NoError(b, err)
	providertest.BenchParse(b, body, len(l.Posts), "post", func(p []byte) error { _, err := reddit.ParseListing(p); return err })
}

// BenchmarkSentiment scores the same page for one symbol.
func BenchmarkSentiment(b *testing.B) {
	l, err := reddit.ParseListing(fixture(b, askreddit))
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		reddit.Sentiment(l.Posts, "AAPL")
	}
}
