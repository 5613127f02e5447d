package llm_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/llm"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	completionsURL = llm.DefaultBaseURL + "/v1/chat/completions"
	apiKey         = "sk-proj-7Fq2xLr0TnW9cVb3HsKd8JmPzQe5UyAo"
)

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	return providertest.Testdata(t, name)
}

var chat = []llm.Message{
	{Role: llm.System, Content: "You are a terse market analyst."},
	{Role: llm.User, Content: "Summarise AAPL today."},
}

func newMock(t *testing.T, cfg llm.Config, responder httpmock.Responder, opts ...providers.Option) (*llm.Client, *providertest.Recorder) {
	t.Helper()
	tr := httpmock.NewMockTransport()
	var rec providertest.Recorder
	tr.RegisterResponder(http.MethodPost, completionsURL, rec.Wrap(responder))
	if cfg.APIKey == "" {
		cfg.APIKey = apiKey
	}
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = time.Millisecond
	}
	c, err := llm.New(cfg, providertest.MockOptions(tr, opts...)...) // Config sets the retries, not WithRetry
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, &rec
}

func TestParseCompletionFixtures(t *testing.T) {
	tests := []struct {
		file string
		want llm.Completion
	}{
		{"chat_completion.json", llm.Completion{
			ID: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", Model: "gpt-4o-mini-2024-07-18", Created: time.Unix(1741569952, 0).UTC(),
			Role: llm.Assistant, FinishReason: "stop",
			Content: "AAPL closed up 1.2% on volume 15% above its 20-day average; the trend is mildly bullish.",
			Usage:   llm.Usage{PromptTokens: 19, CompletionTokens: 24, TotalTokens: 43},
		}},
		{"chat_completion_minimal.json", llm.Completion{
			ID: "chatcmpl-123", Created: time.Unix(1677652288, 0).UTC(), Role: llm.Assistant, FinishReason: "stop",
			Content: "\n\nHello there, how may I assist you today?",
			Usage:   llm.Usage{PromptTokens: 9, CompletionTokens: 12, TotalTokens: 21},
		}},
		{"chat_completion_length.json", llm.Completion{
			ID: "chatcmpl-AyPp4kLqLmDlSxGG8UX4wO0Z8oLPB", Model: "gpt-4o-mini-2024-07-18", Created: time.Unix(1738960610, 0).UTC(),
			Role: llm.Assistant, FinishReason: "length", Content: "Over the last quarter, SPY",
			Usage: llm.Usage{PromptTokens: 31, CompletionTokens: 5, TotalTokens: 36},
		}},
		{"chat_completion_refusal.json", llm.Completion{
			ID: "chatcmpl-9nYAG9LPNonX8DAyrkwYfemr3C8HC", Model: "gpt-4o-2024-08-06", Created: time.Unix(1721596428, 0).UTC(),
			Role: llm.Assistant, FinishReason: "stop", Refusal: "I'm sorry, I cannot assist with that request.",
			Usage: llm.Usage{PromptTokens: 81, CompletionTokens: 11, TotalTokens: 92},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := llm.ParseCompletion(testdata(t, tt.file))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseCompletionErrors(t *testing.T) {
	tests := []struct {
		name      string
		body      []byte
		wantErr   []error
		wantField string
		wantCode  string
	}{
		{name: "invalid key", body: testdata(t, "error_401_invalid_api_key.json"), wantErr: []error{providers.ErrUnauthorized}, wantCode: "invalid_api_key"},
		{name: "rate limit", body: testdata(t, "error_429_rate_limit_exceeded.json"), wantErr: []error{providers.ErrRateLimited}, wantCode: "rate_limit_exceeded"},
		{name: "quota", body: testdata(t, "error_429_insufficient_quota.json"), wantErr: []error{providers.ErrRateLimited, llm.ErrQuotaExceeded}, wantCode: "insufficient_quota"},
		{name: "quota 2023", body: testdata(t, "error_429_insufficient_quota_2023.json"), wantErr: []error{providers.ErrRateLimited, llm.ErrQuotaExceeded}},
		{name: "context length", body: testdata(t, "error_400_context_length_exceeded.json"), wantErr: []error{providers.ErrUpstream, llm.ErrContextLength}, wantCode: "context_length_exceeded"},
		{name: "model", body: testdata(t, "error_404_model_not_found.json"), wantErr: []error{providers.ErrNotFound}, wantCode: "model_not_found"},
		{name: "server", body: testdata(t, "error_500_server_error.json"), wantErr: []error{providers.ErrUpstream}},
		{name: "malformed", body: []byte(`{"id":"chatcmpl-1","choices":[{"message":`), wantErr: []error{providers.ErrDecode}},
		{name: "empty", body: []byte(``), wantErr: []error{providers.ErrDecode}},
		{name: "HTML", body: []byte(`<html><title>502 Bad Gateway</title></html>`), wantErr: []error{providers.ErrDecode}},
		{name: "no choices", body: []byte(`{"id":"chatcmpl-1","object":"chat.completion","choices":[]}`), wantErr: []error{providers.ErrDecode}, wantField: "choices"},
		{name: "other object", body: []byte(`{"object":"list","data":[]}`), wantErr: []error{providers.ErrDecode}, wantField: "object"},
		{name: "string tokens", body: []byte(`{"choices":[{"message":{"content":"x"}}],"usage":{"total_tokens":"21"}}`), wantErr: []error{providers.ErrDecode}, wantField: "usage.total_tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := llm.ParseCompletion(tt.body)
			for _, want := range tt.wantErr {
				require.ErrorIs(t, err, want)
			}
			if tt.wantField != "" {
				var de *providers.DecodeError
				require.ErrorAs(t, err, &de)
				require.Equal(t, tt.wantField, de.Field)
			}
			var ae *llm.APIError
			if errors.As(err, &ae) {
				require.Equal(t, tt.wantCode, ae.Code)
			}
		})
	}
}

func TestCompleteRequest(t *testing.T) {
	tests := []struct {
		name     string
		cfg      llm.Config
		wantBody string
	}{
		{
			name: "defaults omit temperature and max_tokens",
			cfg:  llm.Config{},
			wantBody: `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a terse market analyst."},` +
				`{"role":"user","content":"Summarise AAPL today."}]}`,
		},
		{
			name: "all fields",
			cfg:  llm.Config{Model: "gpt-4.1", Temperature: new(0.0), MaxTokens: 256},
			wantBody: `{"model":"gpt-4.1","messages":[{"role":"system","content":"You are a terse market analyst."},` +
				`{"role":"user","content":"Summarise AAPL today."}],"temperature":0,"max_tokens":256}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := newMock(t, tt.cfg, httpmock.NewBytesResponder(200, testdata(t, "chat_completion.json")))
			got, err := c.Complete(t.Context(), chat)
			require.NoError(t, err)
			require.Equal(t, "AAPL closed up 1.2% on volume 15% above its 20-day average; the trend is mildly bullish.", got.Content)
			reqs, bodies := rec.Requests()
			r := reqs[0]
			require.Equal(t, http.MethodPost, r.Method)
			require.Equal(t, "api.openai.com", r.URL.Host)
			require.Equal(t, "/v1/chat/completions", r.URL.Path)
			require.Equal(t, "Bearer "+apiKey, r.Header.Get("Authorization"))
			require.Equal(t, "application/json", r.Header.Get("Content-Type"))
			require.JSONEq(t, tt.wantBody, string(bodies[0]))
		})
	}
}

func TestCompleteResponses(t *testing.T) {
	ok := httpmock.NewBytesResponder(200, testdata(t, "chat_completion.json"))
	file := func(status int, name string) httpmock.Responder {
		return httpmock.NewBytesResponder(status, testdata(t, name))
	}
	tests := []struct {
		name      string
		cfg       llm.Config
		responder httpmock.Responder
		opts      []providers.Option
		wantErr   []error
		wantMsg   string
		wantCalls int
	}{
		{name: "ok", responder: ok, wantCalls: 1},
		{name: "401 invalid key", responder: file(401, "error_401_invalid_api_key.json"),
			wantErr: []error{providers.ErrUnauthorized}, wantMsg: "Incorrect API key provided", wantCalls: 1},
		{name: "429 rate limit then ok", responder: file(429, "error_429_rate_limit_exceeded.json").Then(ok), wantCalls: 2},
		{name: "429 rate limit exhausted", responder: file(429, "error_429_rate_limit_exceeded.json"),
			wantErr: []error{providers.ErrRateLimited}, wantMsg: "Rate limit reached", wantCalls: 3},
		{name: "429 quota not retried", responder: file(429, "error_429_insufficient_quota.json"),
			wantErr: []error{providers.ErrRateLimited, llm.ErrQuotaExceeded}, wantMsg: "llm: quota exceeded (HTTP 429): You exceeded your current quota", wantCalls: 1},
		{name: "400 context length", responder: file(400, "error_400_context_length_exceeded.json"),
			wantErr: []error{providers.ErrUpstream, llm.ErrContextLength},
			wantMsg: "llm: prompt exceeds the model's context length (HTTP 400): This model's maximum context length is 4097 tokens", wantCalls: 1},
		{name: "404 model", responder: file(404, "error_404_model_not_found.json"),
			wantErr: []error{providers.ErrNotFound}, wantMsg: "gpt-5-turbo", wantCalls: 1},
		{name: "404 bare string error", responder: httpmock.NewStringResponder(404, `{"error":"model \"llama9\" not found, try pulling it first"}`),
			wantErr: []error{providers.ErrNotFound}, wantMsg: "try pulling it first", wantCalls: 1},
		{name: "500 then ok", responder: file(500, "error_500_server_error.json").Then(ok), wantCalls: 2},
		{name: "500 exhausted", responder: file(500, "error_500_server_error.json"),
			wantErr: []error{providers.ErrUpstream}, wantMsg: "The server had an error", wantCalls: 3},
		{name: "HTML 502", responder: httpmock.NewStringResponder(502, "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"),
			cfg: llm.Config{MaxAttempts: 1}, wantErr: []error{providers.ErrUpstream}, wantMsg: "HTML page: 502 Bad Gateway", wantCalls: 1},
		{name: "HTML with 200", responder: httpmock.NewStringResponder(200, "<!DOCTYPE html><html><head><title>Captive portal</title></head></html>"),
			wantErr: []error{providers.ErrUpstream}, wantMsg: "HTML page: Captive portal", wantCalls: 1},
		{name: "error object with 200", responder: file(200, "error_500_server_error.json"),
			wantErr: []error{providers.ErrUpstream}, wantMsg: "The server had an error", wantCalls: 1},
		{name: "malformed JSON", responder: httpmock.NewStringResponder(200, `{"id":"chatcmpl-1","choices":[{"message":{"content":"cut`),
			wantErr: []error{providers.ErrDecode}, wantCalls: 1},
		{name: "empty choices", responder: httpmock.NewStringResponder(200, `{"id":"chatcmpl-1","object":"chat.completion","choices":[]}`),
			wantErr: []error{providers.ErrDecode}, wantMsg: "choices", wantCalls: 1},
		{name: "timeout not retried", responder: ok.Delay(time.Second), cfg: llm.Config{Timeout: 150 * time.Millisecond},
			wantErr: []error{providers.ErrTimeout}, wantCalls: 1},
		{name: "timeout retried when asked", responder: ok.Delay(time.Second).Then(ok),
			cfg: llm.Config{Timeout: 150 * time.Millisecond, RetryTimeouts: true}, wantCalls: 2},
		{name: "one attempt", responder: file(500, "error_500_server_error.json"), cfg: llm.Config{MaxAttempts: 1},
			wantErr: []error{providers.ErrUpstream}, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := newMock(t, tt.cfg, tt.responder, tt.opts...)
			got, err := c.Complete(t.Context(), chat)
			for _, want := range tt.wantErr {
				require.ErrorIs(t, err, want)
			}
			if tt.wantErr == nil {
				require.NoError(t, err)
				require.Equal(t, "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", got.ID)
			}
			if tt.wantMsg != "" {
				require.ErrorContains(t, err, tt.wantMsg)
			}
			require.Equal(t, tt.wantCalls, rec.Len())
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	c, rec := newMock(t, llm.Config{}, httpmock.NewBytesResponder(429, testdata(t, "error_429_rate_limit_exceeded.json")).
		HeaderSet(http.Header{"Retry-After": {"1"}}).
		Then(httpmock.NewBytesResponder(200, testdata(t, "chat_completion.json"))))
	_, err := c.Complete(t.Context(), chat)
	require.NoError(t, err)
	require.Equal(t, 2, rec.Len())
	at := rec.Times()
	require.GreaterOrEqual(t, at[1].Sub(at[0]), time.Second)
}

func TestRateLimitResetHeaders(t *testing.T) {
	tests := []struct {
		name      string
		header    http.Header
		wantWait  time.Duration
		wantCalls int
	}{
		{name: "tokens budget spent for six minutes: fail at once",
			header: http.Header{"X-Ratelimit-Remaining-Requests": {"499"}, "X-Ratelimit-Reset-Requests": {"120ms"},
				"X-Ratelimit-Remaining-Tokens": {"0"}, "X-Ratelimit-Reset-Tokens": {"6m0s"}},
			wantWait: 6 * time.Minute, wantCalls: 1},
		{name: "requests budget resets soon: retried",
			header:   http.Header{"X-Ratelimit-Remaining-Requests": {"0"}, "X-Ratelimit-Reset-Requests": {"20ms"}},
			wantWait: 20 * time.Millisecond, wantCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := newMock(t, llm.Config{}, httpmock.NewBytesResponder(429, testdata(t, "error_429_rate_limit_exceeded.json")).HeaderSet(tt.header))
			_, err := c.Complete(t.Context(), chat)
			require.ErrorIs(t, err, providers.ErrRateLimited)
			require.Equal(t, tt.wantWait, providers.RetryAfter(err))
			require.Equal(t, tt.wantCalls, rec.Len())
		})
	}
}

func TestKeyNeverInErrors(t *testing.T) {
	body, err := json.Marshal(map[string]any{"error": map[string]any{
		"message": "Incorrect API key provided: " + apiKey + ".", "type": "invalid_request_error", "param": nil, "code": "invalid_api_key"}})
	require.NoError(t, err)
	c, _ := newMock(t, llm.Config{}, httpmock.NewBytesResponder(401, body))
	_, err = c.Complete(t.Context(), chat)
	require.ErrorIs(t, err, providers.ErrUnauthorized)
	require.NotContains(t, err.Error(), apiKey)
	var ae *llm.APIError
	require.ErrorAs(t, err, &ae)
	require.NotContains(t, ae.Err.Message, apiKey)
	require.Contains(t, err.Error(), providers.Redacted)
}

func TestCloseStopsBackoff(t *testing.T) {
	c, rec := newMock(t, llm.Config{RetryBackoff: time.Hour, MaxAttempts: 2}, httpmock.NewBytesResponder(500, testdata(t, "error_500_server_error.json")))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Complete(t.Context(), chat)
		errc <- err
	}()
	require.Eventually(t, func() bool { return rec.Len() == 1 }, 2*time.Second, time.Millisecond)
	require.NoError(t, c.Close())
	select {
	case err := <-errc:
		// Either the backoff wait saw Close, or it drew a zero wait and the
		// next attempt found the client closed.
		require.ErrorIs(t, err, providers.ErrClosed)
	case <-time.After(2 * time.Second):
		t.Fatal("Complete did not return after Close")
	}
	_, err := c.Complete(t.Context(), chat)
	require.ErrorIs(t, err, providers.ErrClosed)
}

func TestCompleteRejectsBadInput(t *testing.T) {
	c, rec := newMock(t, llm.Config{}, httpmock.NewBytesResponder(200, testdata(t, "chat_completion.json")))
	_, err := c.Complete(t.Context(), nil)
	require.ErrorContains(t, err, "no messages")
	_, err = c.Complete(t.Context(), []llm.Message{{Content: "hi"}})
	require.ErrorContains(t, err, "no role")
	require.Zero(t, rec.Len())
	require.Equal(t, "llm", c.Name())
	require.Equal(t, llm.DefaultModel, c.Model())
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  llm.Config
		want string
	}{
		{"no key", llm.Config{}, "APIKey is required"},
		{"temperature", llm.Config{APIKey: "k", Temperature: new(2.5)}, "outside [0, 2]"},
		{"max tokens", llm.Config{APIKey: "k", MaxTokens: -1}, "negative"},
		{"timeout", llm.Config{APIKey: "k", Timeout: -time.Second}, "must not be negative"},
		{"base URL", llm.Config{APIKey: "k", BaseURL: "api.openai.com"}, "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := llm.New(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}
