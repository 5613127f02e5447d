package sandbox

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// An OpenAI-compatible chat completions endpoint whose answer is computed
// from the request: a short analysis of the sandbox symbols named in the
// last user message, from the bars visible at the clock's date.

// llmVenue serves an OpenAI-compatible chat completions API under
// PrefixLLM.
type llmVenue struct{ *core }

func (*llmVenue) tooManyRequests() reply {
	return bodyReply(http.StatusTooManyRequests, ctJSON, []byte(`{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}`))
}

func (*llmVenue) internalError() reply {
	return bodyReply(http.StatusInternalServerError, ctJSON, []byte(`{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`))
}

type llmError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func llmErr(status int, msg, typ string, param, code *string) reply {
	return jsonValue(status, ctJSON, struct {
		Error llmError `json:"error"`
	}{llmError{msg, typ, param, code}})
}

func strPtr(s string) *string { return &s }

const llmNoKey = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys."

type llmMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text returns a message's content: a string, or the text parts of an
// array of parts.
func (m llmMessage) text() string {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	_ = json.Unmarshal(m.Content, &parts)
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

type llmRequest struct {
	Model          string       `json:"model"`
	Messages       []llmMessage `json:"messages"`
	Stream         bool         `json:"stream"`
	ResponseFormat *struct {
		Type string `json:"type"`
	} `json:"response_format"`
}

func (lv *llmVenue) route(r *http.Request, rest string) reply {
	tok := bearer(r)
	if ok, revoked := credential(tok); !ok {
		if revoked {
			return llmErr(http.StatusUnauthorized, "Incorrect API key provided: "+redactKey(tok)+". You can find your API key at https://platform.openai.com/account/api-keys.",
				"invalid_request_error", nil, strPtr("invalid_api_key"))
		}
		return llmErr(http.StatusUnauthorized, llmNoKey, "invalid_request_error", nil, nil)
	}
	if rest != "/v1/chat/completions" {
		return llmErr(http.StatusNotFound, "Invalid URL ("+r.Method+" "+rest+")", "invalid_request_error", nil, nil)
	}
	if r.Method != http.MethodPost {
		return llmErr(http.StatusMethodNotAllowed, "Invalid method for URL ("+r.Method+" "+rest+")", "invalid_request_error", nil, nil)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	var req llmRequest
	if err != nil || json.Unmarshal(body, &req) != nil {
		return llmErr(http.StatusBadRequest, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
			"invalid_request_error", nil, nil)
	}
	if req.Model == "" {
		return llmErr(http.StatusBadRequest, "you must provide a model parameter", "invalid_request_error", nil, nil)
	}
	if len(req.Messages) == 0 {
		return llmErr(http.StatusBadRequest, "Missing required parameter: 'messages'.", "invalid_request_error",
			strPtr("messages"), strPtr("missing_required_parameter"))
	}
	var last string
	promptChars := 0
	for _, m := range req.Messages {
		t := m.text()
		promptChars += len(t) + 4
		if m.Role == "user" {
			last = t
		}
	}
	asJSON := req.ResponseFormat != nil && (req.ResponseFormat.Type == "json_object" || req.ResponseFormat.Type == "json_schema")
	content := lv.analysis(last, asJSON)
	f := fnv.New64a()
	f.Write(body)
	id := fmt.Sprintf("chatcmpl-sbx%016x", mix(f.Sum64()))
	created := lv.date().Unix()
	prompt, completion := tokens(promptChars), tokens(len(content))
	if req.Stream {
		return llmStream(id, created, req.Model, content)
	}
	return llmCompletion(id, created, req.Model, content, prompt, completion)
}

// llmCompletion answers stream=false: one chat.completion with content
// and the token usage.
func llmCompletion(id string, created int64, model, content string, prompt, completion int) reply {
	type message struct {
		Role    string  `json:"role"`
		Content string  `json:"content"`
		Refusal *string `json:"refusal"`
	}
	type choice struct {
		Index        int      `json:"index"`
		Message      message  `json:"message"`
		Logprobs     *float64 `json:"logprobs"`
		FinishReason string   `json:"finish_reason"`
	}
	type usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	}
	return jsonValue(http.StatusOK, ctJSON, struct {
		ID                string   `json:"id"`
		Object            string   `json:"object"`
		Created           int64    `json:"created"`
		Model             string   `json:"model"`
		Choices           []choice `json:"choices"`
		Usage             usage    `json:"usage"`
		SystemFingerprint string   `json:"system_fingerprint"`
	}{
		ID: id, Object: "chat.completion", Created: created, Model: model,
		Choices:           []choice{{Message: message{Role: "assistant", Content: content}, FinishReason: "stop"}},
		Usage:             usage{prompt, completion, prompt + completion},
		SystemFingerprint: "fp_sandbox",
	})
}

// tokens estimates a token count from a character count (four per token).
func tokens(chars int) int { return max(1, (chars+3)/4) }

// redactKey shows a key as OpenAI does in errors: the first and last few
// characters.
func redactKey(k string) string {
	if len(k) <= 8 {
		return "****"
	}
	return k[:4] + strings.Repeat("*", len(k)-8) + k[len(k)-4:]
}

// llmStream answers stream=true as server-sent events: a role chunk, a
// content chunk, a finish chunk and [DONE].
func llmStream(id string, created int64, model, content string) reply {
	chunk := func(delta map[string]string, finish *string) []byte {
		b, _ := json.Marshal(map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"system_fingerprint": "fp_sandbox",
			"choices":            []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
		})
		return b
	}
	var b []byte
	for _, c := range [][]byte{
		chunk(map[string]string{"role": "assistant", "content": ""}, nil),
		chunk(map[string]string{"content": content}, nil),
		chunk(map[string]string{}, strPtr("stop")),
	} {
		b = append(b, "data: "...)
		b = append(b, c...)
		b = append(b, "\n\n"...)
	}
	b = append(b, "data: [DONE]\n\n"...)
	return bodyReply(http.StatusOK, "text/event-stream; charset=utf-8", b)
}

// llmSymbols finds the sandbox symbols a text names, in order of first
// mention.
var llmSymbols = []struct {
	symbol string
	re     *regexp.Regexp
}{
	{"AAPL", regexp.MustCompile(`(?i)\$?\bAAPL\b|\bapple\b`)},
	{"SPY", regexp.MustCompile(`(?i)\$?\bSPY\b|S&P\s*500`)},
	{"BTC-USD", regexp.MustCompile(`(?i)\bBTC(?:[-/_]?USD)?\b|\bbitcoin\b|\bXBT\b`)},
	{"EUR_USD", regexp.MustCompile(`(?i)\bEUR[-/_]?USD\b|\beuro\b`)},
}

type llmAnalysis struct {
	Symbol    string  `json:"symbol"`
	Date      string  `json:"date"`
	Close     float64 `json:"close"`
	Change20d float64 `json:"change_20d_pct"`
	SMA20     float64 `json:"sma_20"`
	Trend     string  `json:"trend"`
	Signal    string  `json:"signal"`
}

// analysis is the completion's content for a user message.
func (lv *llmVenue) analysis(msg string, asJSON bool) string {
	type hit struct {
		pos int
		sym string
	}
	var hits []hit
	for _, s := range llmSymbols {
		if loc := s.re.FindStringIndex(msg); loc != nil {
			hits = append(hits, hit{loc[0], s.symbol})
		}
	}
	for i := 1; i < len(hits); i++ { // few items: insertion sort by position
		for j := i; j > 0 && hits[j].pos < hits[j-1].pos; j-- {
			hits[j], hits[j-1] = hits[j-1], hits[j]
		}
	}
	var out []llmAnalysis
	for _, ht := range hits {
		s, n, _ := lv.view(ht.sym)
		cur := s.bars[n-1]
		from := max(0, n-21)
		sum := 0.0
		for i := max(0, n-20); i < n; i++ {
			sum += s.bars[i].Close
		}
		sma := sum / float64(min(n, 20))
		change := (cur.Close - s.bars[from].Close) / s.bars[from].Close * 100
		a := llmAnalysis{Symbol: ht.sym, Date: s.dates[n-1], Close: cur.Close, Change20d: roundTo(change, 2), SMA20: roundTo(sma, 4)}
		switch {
		case cur.Close > sma && change > 0:
			a.Trend, a.Signal = "up", "BUY"
		case cur.Close < sma && change < 0:
			a.Trend, a.Signal = "down", "SELL"
		default:
			a.Trend, a.Signal = "sideways", "HOLD"
		}
		out = append(out, a)
	}
	summary := summarize(out)
	if asJSON {
		b, _ := json.Marshal(struct {
			Analysis []llmAnalysis `json:"analysis"`
			Summary  string        `json:"summary"`
		}{out, summary})
		return string(b)
	}
	var b strings.Builder
	for _, a := range out {
		fmt.Fprintf(&b, "%s: last close %s on %s; 20-day change %+.2f%%; trend %s (20-day average %s). Signal: %s.\n",
			a.Symbol, appendDec(nil, a.Close, 2), a.Date, a.Change20d, a.Trend, appendDec(nil, a.SMA20, 2), a.Signal)
	}
	b.WriteString(summary)
	return b.String()
}

func summarize(out []llmAnalysis) string {
	if len(out) == 0 {
		return "No known symbol found. The sandbox covers AAPL, SPY, BTC-USD and EUR_USD."
	}
	var buy, sell, hold []string
	for _, a := range out {
		switch a.Signal {
		case "BUY":
			buy = append(buy, a.Symbol)
		case "SELL":
			sell = append(sell, a.Symbol)
		default:
			hold = append(hold, a.Symbol)
		}
	}
	var parts []string
	for _, g := range []struct {
		name string
		syms []string
	}{{"buy", buy}, {"sell", sell}, {"hold", hold}} {
		if len(g.syms) > 0 {
			parts = append(parts, g.name+" "+strings.Join(g.syms, ", "))
		}
	}
	return "Summary: " + strings.Join(parts, "; ") + "."
}
