// Package crew runs the analytics crew of an export: agents (a market
// analyst, a sentiment analyst and a risk manager by default), each with
// tools, work through tasks in sequence, and a Writer turns each task's
// prompt into text. The result is a Report.
//
// # Writers
//
// LocalWriter, the default, is deterministic and needs nothing but the
// prompt. LLMWriter asks an OpenAI-compatible chat endpoint through the
// Completer interface (FromLLM adapts a providers/llm client).
//
// # Memory
//
// A crew may remember what earlier runs concluded and show it to later
// tasks. Memory is off by default. When on, it is bounded by a number of
// entries, an age and a size per entry, so it cannot grow across runs
// however many there are: an unbounded crew memory that kept every run's
// output was the cause of an export leak.
//
// A Crew is safe for concurrent use if its Writer and Tools are.
package crew
