package crew

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/llm"
	"github.com/leakgate/leakgate/providers/sandbox"
)

// TestLLMWriterOverSandbox runs the crew with the LLM writer against the
// sandbox's OpenAI-compatible endpoint.
func TestLLMWriterOverSandbox(t *testing.T) {
	h := sandbox.New()
	tests := []struct {
		name    string
		key     string
		wantErr error
	}{
		{name: "answers", key: sandbox.Key},
		{name: "revoked key", key: sandbox.RevokedKey, wantErr: providers.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := llm.New(llm.Config{BaseURL: "http://sandbox.invalid/llm", APIKey: tt.key},
				providers.WithTransport(h.Transport()), providers.WithRateLimit(1000, 10))
			require.NoError(t, err)
			defer c.Close()
			cr, err := New(WithWriter(NewLLMWriter(FromLLM(c)), "llm"))
			require.NoError(t, err)
			rep, err := cr.Run(t.Context(), testInput())
			require.ErrorIs(t, err, tt.wantErr)
			if tt.wantErr != nil {
				return
			}
			require.Len(t, rep.Sections, 3)
			for _, s := range rep.Sections {
				require.NotEmpty(t, s.Output)
			}
		})
	}
}
