package crew

import (
	"context"
	"fmt"

	"github.com/leakgate/leakgate/providers/llm"
)

// FromLLM adapts a providers/llm client to Completer, so that
// NewLLMWriter(FromLLM(c)) writes with an OpenAI-compatible endpoint. The
// caller keeps ownership of c. An answer without text (a refusal, a content
// filter) is an error.
func FromLLM(c *llm.Client) Completer { return llmCompleter{c} }

type llmCompleter struct{ c *llm.Client }

func (l llmCompleter) Complete(ctx context.Context, system, user string) (string, error) {
	comp, err := l.c.Complete(ctx, []llm.Message{{Role: llm.System, Content: system}, {Role: llm.User, Content: user}})
	if err != nil {
		return "", err
	}
	if comp.Content == "" {
		return "", fmt.Errorf("%s gave no text (finish reason %q, refusal %q)", comp.Model, comp.FinishReason, comp.Refusal)
	}
	return comp.Content, nil
}
