package llm_test

import (
	"errors"
	"testing"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/llm"
)

// FuzzParseCompletion feeds ParseCompletion every representative answer:
// it must return a completion or a typed error, never panic.
func FuzzParseCompletion(f *testing.F) {
	for _, name := range []string{
		"chat_completion.json", "chat_completion_minimal.json", "chat_completion_length.json", "chat_completion_refusal.json",
		"error_401_invalid_api_key.json", "error_429_rate_limit_exceeded.json", "error_429_insufficient_quota.json",
		"error_429_insufficient_quota_2023.json", "error_400_context_length_exceeded.json", "error_404_model_not_found.json",
		"error_500_server_error.json",
	} {
		f.Add(testdata(f, name))
	}
	f.Add([]byte(`{"error":"model not found"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := llm.ParseCompletion(body)
		if err == nil {
			return
		}
		var ae *llm.APIError
		if !errors.Is(err, providers.ErrDecode) && !errors.As(err, &ae) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if ae != nil && ae.Err == nil {
			t.Fatal("APIError without StatusError")
		}
		_ = err.Error()
	})
}
