package crew

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/leakgate/leakgate/providers/leakinject"
)

// Agent is a member of the crew: a role with a goal and the tools it may
// use.
type Agent struct {
	Name  string
	Role  string
	Goal  string
	Tools []Tool
}

// Task is one step of a run, done by the agent named Agent. Tasks run in
// order; each sees the outputs of the tasks before it.
type Task struct {
	Name        string
	Agent       string
	Description string
}

// Names of the default agents.
const (
	MarketAnalyst    = "market-analyst"
	SentimentAnalyst = "sentiment-analyst"
	RiskManager      = "risk-manager"
)

// DefaultAgents returns the market analyst (price and indicator tools), the
// sentiment analyst (sentiment tool) and the risk manager (risk and price
// tools).
func DefaultAgents() []Agent {
	return []Agent{
		{Name: MarketAnalyst, Role: "Market analyst", Goal: "Read trend and momentum from prices and indicators.",
			Tools: []Tool{PriceTool(), IndicatorTool()}},
		{Name: SentimentAnalyst, Role: "Sentiment analyst", Goal: "Read the crowd's mood from social-media posts.",
			Tools: []Tool{SentimentTool()}},
		{Name: RiskManager, Role: "Risk manager", Goal: "Weigh risk against the market and sentiment views.",
			Tools: []Tool{RiskTool(), PriceTool()}},
	}
}

// DefaultTasks returns the three tasks of the default agents, in order.
func DefaultTasks() []Task {
	return []Task{
		{Name: "market-analysis", Agent: MarketAnalyst,
			Description: "Assess trend and momentum of each symbol."},
		{Name: "sentiment-analysis", Agent: SentimentAnalyst,
			Description: "Summarise the social-media sentiment of each symbol."},
		{Name: "risk-assessment", Agent: RiskManager,
			Description: "Give a stance per symbol, weighing volatility and drawdown against the earlier findings."},
	}
}

// Option configures a Crew.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	writer     Writer
	writerName string
	agents     []Agent
	tasks      []Task
	memory     bool
	memEntries int
	memAge     time.Duration
	recall     int
	now        func() time.Time
}

// WithWriter sets the Writer and the name reports give it. The default is
// LocalWriter, named "local".
func WithWriter(w Writer, name string) Option {
	return optionFunc(func(o *options) { o.writer, o.writerName = w, name })
}

// WithAgents replaces the default agents.
func WithAgents(agents ...Agent) Option {
	return optionFunc(func(o *options) { o.agents = agents })
}

// WithTasks replaces the default tasks.
func WithTasks(tasks ...Task) Option {
	return optionFunc(func(o *options) { o.tasks = tasks })
}

// WithMemory turns memory on, bounded to maxEntries entries younger than
// maxAge (non-positive values take the defaults of NewMemory). Memory is off
// without this option.
func WithMemory(maxEntries int, maxAge time.Duration) Option {
	return optionFunc(func(o *options) { o.memory, o.memEntries, o.memAge = true, maxEntries, maxAge })
}

// WithClock sets the time source of reports and memory.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) { o.now = now })
}

// DefaultRecall is how many memory entries a task's prompt shows.
const DefaultRecall = 8

// maxContextBytes bounds each earlier task output quoted in a prompt.
const maxContextBytes = 2000

// Crew runs tasks with agents and a writer.
type Crew struct {
	agents     map[string]Agent
	tasks      []Task
	writer     Writer
	writerName string
	memory     *Memory
	recall     int
	now        func() time.Time

	// finished is where the crew-output-retained fault keeps every run.
	finished struct {
		sync.Mutex
		runs []finishedRun
	}
}

// finishedRun is a run's input, report and rendered report, as an
// agent framework's run output holds them.
type finishedRun struct {
	in  Input
	rep Report
	raw string
}

// New returns a Crew; with no options, the default agents and tasks, the
// LocalWriter and no memory.
func New(opts ...Option) (*Crew, error) {
	o := options{writer: LocalWriter{}, writerName: "local", agents: DefaultAgents(), tasks: DefaultTasks(),
		recall: DefaultRecall, now: time.Now}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.writer == nil {
		return nil, errors.New("crew: nil writer")
	}
	c := &Crew{agents: map[string]Agent{}, tasks: o.tasks, writer: o.writer, writerName: o.writerName,
		recall: o.recall, now: o.now}
	for _, a := range o.agents {
		if a.Name == "" {
			return nil, errors.New("crew: agent without a name")
		}
		if _, dup := c.agents[a.Name]; dup {
			return nil, fmt.Errorf("crew: two agents named %q", a.Name)
		}
		c.agents[a.Name] = a
	}
	if len(c.tasks) == 0 {
		return nil, errors.New("crew: no tasks")
	}
	for _, t := range c.tasks {
		if _, ok := c.agents[t.Agent]; !ok {
			return nil, fmt.Errorf("crew: task %q names unknown agent %q", t.Name, t.Agent)
		}
	}
	if o.memory {
		c.memory = NewMemory(o.memEntries, o.memAge, o.now)
	}
	return c, nil
}

// Memory returns the crew's memory, or nil when memory is off.
func (c *Crew) Memory() *Memory { return c.memory }

// Report is the outcome of a run.
type Report struct {
	Created  time.Time `json:"created"`
	Symbols  []string  `json:"symbols"`
	Writer   string    `json:"writer"`
	Sections []Section `json:"sections"`
	// Recalled is how many memory entries the run was shown.
	Recalled int `json:"recalled"`
}

// Section is the output of one task.
type Section struct {
	Task   string   `json:"task"`
	Agent  string   `json:"agent"`
	Role   string   `json:"role"`
	Facts  []string `json:"facts"`
	Output string   `json:"output"`
}

// Markdown renders the report as a Markdown document.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Crew report\n\nSymbols: %s  \nCreated: %s  \nWriter: %s\n",
		strings.Join(r.Symbols, ", "), r.Created.UTC().Format(time.RFC3339), r.Writer)
	for _, s := range r.Sections {
		fmt.Fprintf(&b, "\n## %s (%s)\n\n%s\n", s.Task, s.Role, s.Output)
	}
	return b.String()
}

// Run does every task in order and returns the report. It stops at the
// first error of a writer or a tool (a tool's ErrNoData only marks the fact
// unavailable) or when ctx ends. With memory on, the run is shown the
// latest entries and adds one entry per task.
func (c *Crew) Run(ctx context.Context, in Input) (Report, error) {
	rep := Report{Created: c.now().UTC(), Symbols: in.Symbols, Writer: c.writerName}
	var recalled []Entry
	if c.memory != nil {
		recalled = c.memory.Recent(c.recall)
		rep.Recalled = len(recalled)
	}
	for _, task := range c.tasks {
		if err := ctx.Err(); err != nil {
			return Report{}, fmt.Errorf("crew: %w", err)
		}
		agent := c.agents[task.Agent]
		var facts []string
		for _, sym := range in.Symbols {
			for _, tool := range agent.Tools {
				text, err := tool.Run(ctx, &in, sym)
				switch {
				case errors.Is(err, ErrNoData):
					text = "unavailable"
				case err != nil:
					return Report{}, fmt.Errorf("crew: task %s: tool %s on %s: %w", task.Name, tool.Name(), sym, err)
				}
				facts = append(facts, sym+" "+tool.Name()+": "+text)
			}
		}
		prompt := buildPrompt(agent, task, facts, rep.Sections, recalled)
		out, err := c.writer.Write(ctx, prompt)
		if err != nil {
			return Report{}, fmt.Errorf("crew: task %s: %w", task.Name, err)
		}
		rep.Sections = append(rep.Sections, Section{Task: task.Name, Agent: agent.Name, Role: agent.Role, Facts: facts, Output: out})
	}
	if c.memory != nil {
		for _, s := range rep.Sections {
			c.memory.Add(Entry{Task: s.Task, Symbol: strings.Join(in.Symbols, ","), Text: s.Output})
		}
	}
	if leakinject.On(leakinject.CrewOutputRetained) {
		// The leak: the crew keeps every finished run, its report with the
		// tools' outputs, rendered, and the input bars, in a list nothing
		// trims.
		c.finished.Lock()
		c.finished.runs = append(c.finished.runs, finishedRun{in: in, rep: rep, raw: rep.Markdown()})
		c.finished.Unlock()
	}
	return rep, nil
}

// buildPrompt writes the prompt of one task: agent, goal, task, facts, the
// outputs of earlier tasks and recalled memory, one section each.
func buildPrompt(agent Agent, task Task, facts []string, earlier []Section, recalled []Entry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Agent: %s\nGoal: %s\nTask: %s\nInstructions: %s\nFacts:\n", agent.Role, agent.Goal, task.Name, task.Description)
	for _, f := range facts {
		fmt.Fprintf(&b, "- %s\n", f)
	}
	if len(earlier) > 0 {
		b.WriteString("Context:\n")
		for _, s := range earlier {
			fmt.Fprintf(&b, "- %s: %s\n", s.Task, oneLine(truncate(s.Output, maxContextBytes)))
		}
	}
	if len(recalled) > 0 {
		b.WriteString("Memory:\n")
		for _, e := range recalled {
			fmt.Fprintf(&b, "- %s %s %s: %s\n", e.Time.UTC().Format(time.RFC3339), e.Task, e.Symbol, oneLine(e.Text))
		}
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
