package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/leakgate/leakgate/providers"
)

// Role is the author of a chat message.
type Role string

// The roles of chat messages.
const (
	System    Role = "system"
	User      Role = "user"
	Assistant Role = "assistant"
)

// Message is one message of a chat.
type Message struct {
	Role    Role   `json:"role"`
	Content string `json:"content"`
}

// Usage is the token accounting of one completion.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
}

// Completion is the model's answer to a chat.
type Completion struct {
	ID      string
	Model   string
	Created time.Time
	// Role is the answer's author, normally Assistant.
	Role Role
	// Content is the answer's text; empty when the model refused or was
	// filtered (see FinishReason and Refusal).
	Content string
	// FinishReason is why the model stopped: "stop" (a natural end),
	// "length" (MaxTokens was reached: Content is cut short),
	// "content_filter" (Content was withheld) or "tool_calls".
	FinishReason string
	// Refusal is the model's explanation when it declined to answer.
	Refusal string
	Usage   Usage
}

// Sentinels for the two error answers a caller handles differently from
// their HTTP status. Both come wrapped in an *APIError.
var (
	// ErrQuotaExceeded means the account's quota or credit is spent
	// (insufficient_quota). It also matches providers.ErrRateLimited, but
	// waiting does not help, so it is never retried.
	ErrQuotaExceeded = errors.New("quota exceeded")
	// ErrContextLength means the messages and MaxTokens together exceed
	// the model's context window (context_length_exceeded): shorten the
	// chat or lower MaxTokens. It also matches providers.ErrUpstream.
	ErrContextLength = errors.New("prompt exceeds the model's context length")
)

// APIError is an error answer of the API, {"error":{"message", "type",
// "param", "code"}}. errors.Is matches the sentinel of its StatusError
// (ErrUnauthorized for invalid_api_key, ErrRateLimited for
// rate_limit_exceeded and insufficient_quota, ErrNotFound for
// model_not_found, otherwise by HTTP status) and, where it applies,
// ErrQuotaExceeded or ErrContextLength; errors.As finds the
// *providers.StatusError.
type APIError struct {
	Err   *providers.StatusError
	Type  string
	Param string
	Code  string
	// reason is ErrQuotaExceeded, ErrContextLength or nil.
	reason error
}

// Error implements error.
func (e *APIError) Error() string {
	if e.reason == nil {
		return e.Err.Error()
	}
	msg := fmt.Sprintf("%s: %v (HTTP %d)", e.Err.Provider, e.reason, e.Err.Status)
	if e.Err.Message != "" {
		msg += ": " + e.Err.Message
	}
	return msg
}

// Unwrap returns the StatusError and the sentinel that applies, if any.
func (e *APIError) Unwrap() []error {
	if e.reason != nil {
		return []error{e.Err, e.reason}
	}
	return []error{e.Err}
}

// wireError is the error object of an error answer.
type wireError struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Param   json.RawMessage `json:"param"`
	Code    json.RawMessage `json:"code"`
}

type wireCompletion struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role    string  `json:"role"`
			Content *string `json:"content"`
			Refusal *string `json:"refusal"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// parseWireError reads the "error" member of an answer: the documented
// object, or a bare string as some compatible servers send. It returns nil
// for null or an absent member.
func parseWireError(raw json.RawMessage) *wireError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var w wireError
	if json.Unmarshal(raw, &w) == nil {
		return &w
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return &wireError{Message: s}
	}
	return nil
}

// ParseCompletion decodes the body of POST /v1/chat/completions, a
// "chat.completion" object; its first choice is the Completion. An error
// body yields an *APIError (its StatusError's Status is 0: the parser does
// not know the HTTP status); any other shape is a *providers.DecodeError
// naming the field.
func ParseCompletion(body []byte) (Completion, error) {
	var w wireCompletion
	if err := json.Unmarshal(body, &w); err != nil {
		return Completion{}, decodeError(err)
	}
	if we := parseWireError(w.Error); we != nil {
		return Completion{}, newAPIError(we, 0, nil, nil)
	}
	if w.Object != "" && w.Object != "chat.completion" {
		return Completion{}, providers.Decodef(name, "object", "%q, want \"chat.completion\"", truncate(w.Object, 40))
	}
	if len(w.Choices) == 0 {
		return Completion{}, providers.Decodef(name, "choices", "empty")
	}
	ch := w.Choices[0]
	c := Completion{
		ID:           w.ID,
		Model:        w.Model,
		Role:         Role(ch.Message.Role),
		FinishReason: ch.FinishReason,
		Usage:        Usage(w.Usage),
	}
	if w.Created > 0 {
		c.Created = time.Unix(w.Created, 0).UTC()
	}
	if ch.Message.Content != nil {
		c.Content = *ch.Message.Content
	}
	if ch.Message.Refusal != nil {
		c.Refusal = *ch.Message.Refusal
	}
	return c, nil
}

// decodeError turns an encoding/json error into a *providers.DecodeError
// naming the field where it can.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return providers.Decodef(name, te.Field, "%s, want %s", te.Value, te.Type)
	}
	return providers.Decodef(name, "", "%s", truncate(err.Error(), 160))
}

// newAPIError maps an error object to its sentinels. redact, if set, is
// applied to the message.
func newAPIError(e *wireError, status int, header http.Header, redact func(string) string) *APIError {
	code := jsonString(e.Code)
	kind := providers.ErrUpstream
	if status >= 400 {
		kind = providers.KindForStatus(status)
	}
	var reason error
	switch {
	case code == "invalid_api_key":
		kind = providers.ErrUnauthorized
	case code == "insufficient_quota" || e.Type == "insufficient_quota":
		kind, reason = providers.ErrRateLimited, ErrQuotaExceeded
	case code == "rate_limit_exceeded":
		kind = providers.ErrRateLimited
	case code == "model_not_found":
		kind = providers.ErrNotFound
	case code == "context_length_exceeded" || strings.Contains(e.Message, "maximum context length"):
		reason = ErrContextLength
	}
	msg := e.Message
	if msg == "" {
		msg = code
	}
	if redact != nil {
		msg = redact(msg)
	}
	se := &providers.StatusError{Provider: name, Status: status, Kind: kind, Message: truncate(msg, 200)}
	if header != nil && kind == providers.ErrRateLimited && reason == nil {
		se.RetryAfter = retryAfter(header)
	}
	return &APIError{Err: se, Type: e.Type, Param: jsonString(e.Param), Code: code, reason: reason}
}

// retryAfter reads the wait a rate-limit answer asks for: Retry-After, or
// else OpenAI's x-ratelimit-reset-requests / -tokens ("1s", "6m0s") of the
// budget that is spent.
func retryAfter(h http.Header) time.Duration {
	if d := providers.ParseRetryAfter(h.Get("Retry-After"), time.Now()); d > 0 {
		return d
	}
	var wait time.Duration
	for _, kind := range [...]string{"requests", "tokens"} {
		d, err := time.ParseDuration(h.Get("X-Ratelimit-Reset-" + kind))
		if err != nil || d <= 0 {
			continue
		}
		if h.Get("X-Ratelimit-Remaining-"+kind) == "0" {
			return d
		}
		wait = max(wait, d)
	}
	return wait
}

// jsonString returns a JSON string's value, a number's text, or "" for
// null and anything else.
func jsonString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		n--
	}
	return s[:n] + "…"
}
