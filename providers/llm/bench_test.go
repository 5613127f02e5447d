package llm_test

import (
	"testing"

	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/llm"
)

// BenchmarkParseCompletion decodes the representative completion.
func BenchmarkParseCompletion(b *testing.B) {
	body := testdata(b, "chat_completion.json")
	providertest.BenchParse(b, body, 1, "completion", func(p []byte) error { _, err := llm.ParseCompletion(p); return err })
}
