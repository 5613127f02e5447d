package llm_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/llm"
)

// TestRemote asks the real API for a one-word answer. It runs only when
// OPENAI_API_KEY is set (LLM_BASE_URL and LLM_MODEL pick another
// OpenAI-compatible server and model) and costs a few tokens.
func TestRemote(t *testing.T) {
	key := providertest.EnvOrSkip(t, "OPENAI_API_KEY")[0]
	c, err := llm.New(llm.Config{APIKey: key, BaseURL: os.Getenv("LLM_BASE_URL"), Model: os.Getenv("LLM_MODEL"),
		MaxTokens: 5, Timeout: 30 * time.Second})
	require.NoError(t, err)
	defer c.Close()
	got, err := c.Complete(t.Context(), []llm.Message{{Role: llm.User, Content: "Answer with one word: the opposite of bullish?"}})
	require.NoError(t, err)
	require.NotEmpty(t, got.Content)
	require.Positive(t, got.Usage.TotalTokens)
}
