package exporttest

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/sandbox"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEnvOverLoopbackSandbox(t *testing.T) {
	srv, err := sandbox.Start()
	require.NoError(t, err)
	defer srv.Close()
	before := providers.OpenClients()
	var requests int
	env, err := New(Config{BaseURL: srv.BaseURL, Observer: func(providers.RequestInfo) { requests++ }})
	require.NoError(t, err)
	q, err := env.MarketData.Quote(t.Context(), "BTC-USD")
	require.NoError(t, err)
	require.Positive(t, q.Price)
	posts, err := env.Posts.Posts(t.Context(), providers.PostQuery{Subreddit: "stocks", Limit: 5})
	require.NoError(t, err)
	require.NotEmpty(t, posts)
	require.NoError(t, env.Close())
	require.Equal(t, before, providers.OpenClients(), "Close releases every client")
	require.Positive(t, requests)

	_, err = New(Config{})
	require.Error(t, err)
}
