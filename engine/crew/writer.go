package crew

import (
	"context"
	"fmt"
	"strings"
)

// Writer turns a task's prompt into the task's output text. It must be safe
// for concurrent use.
type Writer interface {
	Write(ctx context.Context, prompt string) (string, error)
}

// WriterFunc adapts a function to Writer.
type WriterFunc func(ctx context.Context, prompt string) (string, error)

// Write calls f.
func (f WriterFunc) Write(ctx context.Context, prompt string) (string, error) { return f(ctx, prompt) }

var (
	_ Writer = LocalWriter{}
	_ Writer = (*LLMWriter)(nil)
	_ Writer = WriterFunc(nil)
)

// LocalWriter is the default Writer: deterministic, offline and fast. It
// restates the facts of the prompt under the agent's heading and notes how
// much earlier context and memory it was given. The same prompt always
// gives the same text.
type LocalWriter struct{}

// Write implements Writer.
func (LocalWriter) Write(ctx context.Context, prompt string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	p := parsePrompt(prompt)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", p.agent, p.task)
	for _, f := range p.facts {
		b.WriteString("- ")
		b.WriteString(f)
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "Based on %d facts, %d earlier findings and %d remembered notes.", len(p.facts), p.context, p.memory)
	return b.String(), nil
}

type parsedPrompt struct {
	agent, task     string
	facts           []string
	context, memory int
}

// parsePrompt reads the sections buildPrompt writes.
func parsePrompt(prompt string) parsedPrompt {
	var p parsedPrompt
	section := ""
	for line := range strings.Lines(prompt) {
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "Agent: "):
			p.agent = strings.TrimPrefix(line, "Agent: ")
		case strings.HasPrefix(line, "Task: "):
			p.task = strings.TrimPrefix(line, "Task: ")
		case line == "Facts:", line == "Context:", line == "Memory:":
			section = line
		case strings.HasPrefix(line, "- "):
			switch section {
			case "Facts:":
				p.facts = append(p.facts, strings.TrimPrefix(line, "- "))
			case "Context:":
				p.context++
			case "Memory:":
				p.memory++
			}
		}
	}
	return p
}

// Completer is a chat endpoint: given a system and a user message it
// returns the assistant's answer. FromLLM adapts a providers/llm client.
type Completer interface {
	Complete(ctx context.Context, system, user string) (string, error)
}

// SystemPrompt is the system message LLMWriter sends.
const SystemPrompt = "You are a member of a financial analytics crew. Answer the task in a few concise sentences, " +
	"using only the facts, context and memory given. Do not invent numbers."

// LLMWriter is a Writer over an OpenAI-compatible chat endpoint.
type LLMWriter struct {
	c Completer
}

// NewLLMWriter returns a Writer that asks c. The caller keeps ownership of
// c (and closes it).
func NewLLMWriter(c Completer) *LLMWriter { return &LLMWriter{c: c} }

// Write implements Writer.
func (w *LLMWriter) Write(ctx context.Context, prompt string) (string, error) {
	out, err := w.c.Complete(ctx, SystemPrompt, prompt)
	if err != nil {
		return "", fmt.Errorf("llm writer: %w", err)
	}
	return strings.TrimSpace(out), nil
}
