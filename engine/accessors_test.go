package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/llm"
)

func TestPostSource(t *testing.T) {
	e := newEngine(t, testConfig(t))
	require.Nil(t, e.PostSource(), "sentiment is off by default")

	cfg := testConfig(t)
	cfg.Sentiment.Enabled = true
	e = newEngine(t, cfg)
	require.NotNil(t, e.PostSource())
	posts, err := e.PostSource().Posts(t.Context(), providers.PostQuery{Subreddit: "stocks", Search: "AAPL", Limit: 5})
	require.NoError(t, err)
	require.NotEmpty(t, posts)
}

// TestLLM builds the LLM client on first use, against the sandbox's /llm
// endpoint, and closes it with the engine.
func TestLLM(t *testing.T) {
	base := providers.OpenClients()
	e, err := New(t.Context(), testConfig(t), WithLogger(DiscardLogger()))
	require.NoError(t, err)
	opened := providers.OpenClients()

	c, err := e.LLM()
	require.NoError(t, err)
	require.Equal(t, opened+1, providers.OpenClients(), "built on the first call")
	again, err := e.LLM()
	require.NoError(t, err)
	require.Same(t, c, again)
	comp, err := c.Complete(t.Context(), []llm.Message{{Role: llm.User, Content: "Summarize AAPL."}})
	require.NoError(t, err)
	require.NotEmpty(t, comp.Content)

	require.NoError(t, e.Close(context.Background()))
	require.Equal(t, base, providers.OpenClients(), "Close closes the LLM client")
	_, err = e.LLM()
	require.ErrorIs(t, err, ErrClosed)
}

func TestLLMNotConfigured(t *testing.T) {
	off := false
	tests := []struct {
		name    string
		setup   func(*config.Config)
		wantErr string
	}{
		{name: "live without a key", setup: func(c *config.Config) {
			c.Data.Source = config.SourceLive
			c.Data.SandboxURL = ""
		}, wantErr: "FFE_LLM_API_KEY"},
		{name: "disabled", setup: func(c *config.Config) {
			p := c.Providers[config.LLM]
			p.Enabled = &off
			c.Providers[config.LLM] = p
		}, wantErr: "no LLM is configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			tt.setup(cfg)
			e := newEngine(t, cfg) // live mode opens no connection until asked

			_, err := e.LLM()
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}
