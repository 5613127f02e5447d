package llm_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers/llm"
)

// BenchmarkParseCompletion decodes the representative completion.
func BenchmarkParseCompletion(b *testing.B) {
	body := testdata(b, "chat_completion.json")
	_, err := llm.ParseCompletion(body)
	require.NoError(b, err)
	allocs := testing.AllocsPerRun(20, func() { llm.ParseCompletion(body) })
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := llm.ParseCompletion(body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(allocs, "allocs/completion")
}
