package crew

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// series returns n daily bars following a gentle sine around a trend.
func series(n int, start, drift float64) []providers.Bar {
	bars := make([]providers.Bar, n)
	t0 := time.Date(2023, 1, 2, 0, 0, 0, 0, time.UTC)
	for i := range bars {
		c := start + drift*float64(i) + 3*math.Sin(float64(i)/5)
		bars[i] = providers.Bar{Time: t0.AddDate(0, 0, i), Open: c - 0.5, High: c + 1, Low: c - 1, Close: c, Volume: 1000}
	}
	return bars
}

func testInput() Input {
	return Input{
		Symbols:  []string{"AAPL", "BTC-USD"},
		Interval: providers.Day,
		Bars:     map[string][]providers.Bar{"AAPL": series(120, 100, 0.3), "BTC-USD": series(120, 300, -0.5)},
		Sentiment: map[string]Sentiment{
			"AAPL": {Score: 0.45, Posts: 20, Bullish: 12, Bearish: 3},
		},
	}
}

func TestRunDefaultCrew(t *testing.T) {
	c := newClock()
	cr, err := New(WithClock(c.now))
	require.NoError(t, err)
	require.Nil(t, cr.Memory(), "memory is off by default")

	rep, err := cr.Run(t.Context(), testInput())
	require.NoError(t, err)
	require.Equal(t, "local", rep.Writer)
	require.Equal(t, c.t, rep.Created)
	require.Len(t, rep.Sections, 3)

	tasks := []string{"market-analysis", "sentiment-analysis", "risk-assessment"}
	agents := []string{MarketAnalyst, SentimentAnalyst, RiskManager}
	for i, s := range rep.Sections {
		require.Equal(t, tasks[i], s.Task)
		require.Equal(t, agents[i], s.Agent)
		require.NotEmpty(t, s.Facts)
		require.True(t, strings.HasPrefix(s.Output, s.Role+": "+s.Task+"\n"), s.Output)
	}
	require.Equal(t, []string{
		"AAPL sentiment: score +0.45 (bullish) from 20 posts, 12 bullish, 3 bearish",
		"BTC-USD sentiment: unavailable",
	}, rep.Sections[1].Facts)
	require.Contains(t, rep.Sections[0].Facts[1], "AAPL indicators: SMA20 ")
	require.Contains(t, rep.Sections[2].Facts[0], "stance ")
	require.Contains(t, rep.Sections[2].Output, "2 earlier findings and 0 remembered notes")

	again, err := cr.Run(t.Context(), testInput())
	require.NoError(t, err)
	require.Equal(t, rep, again, "the local writer is deterministic")

	md := rep.Markdown()
	require.Contains(t, md, "# Crew report")
	require.Contains(t, md, "## risk-assessment (Risk manager)")
}

func TestToolsOnNoData(t *testing.T) {
	in := Input{Symbols: []string{"X"}, Interval: providers.Day, Bars: map[string][]providers.Bar{"X": series(3, 10, 1)}}
	tests := []struct {
		tool    Tool
		wantErr error
		want    string
	}{
		{tool: PriceTool(), want: "last close 13.17 on 2023-01-04, +31.68% over 3 bars, range 9.00–14.17"},
		{tool: IndicatorTool(), want: "SMA20 n/a, SMA50 n/a, RSI14 n/a, MACD hist n/a, Bollinger %B n/a, ATR14 n/a"},
		{tool: SentimentTool(), wantErr: ErrNoData},
		{tool: RiskTool()},
	}
	for _, tt := range tests {
		t.Run(tt.tool.Name(), func(t *testing.T) {
			got, err := tt.tool.Run(t.Context(), &in, "X")
			require.ErrorIs(t, err, tt.wantErr)
			if tt.want != "" {
				require.Equal(t, tt.want, got)
			}
			_, err = tt.tool.Run(t.Context(), &in, "MISSING")
			require.ErrorIs(t, err, ErrNoData)
		})
	}
}

func TestNewRejectsBadSetups(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{name: "nil writer", opts: []Option{WithWriter(nil, "x")}, want: "nil writer"},
		{name: "no tasks", opts: []Option{WithTasks()}, want: "no tasks"},
		{name: "unknown agent", opts: []Option{WithTasks(Task{Name: "t", Agent: "ghost"})}, want: `unknown agent "ghost"`},
		{name: "duplicate agent", opts: []Option{WithAgents(Agent{Name: "a"}, Agent{Name: "a"})}, want: `two agents named "a"`},
		{name: "unnamed agent", opts: []Option{WithAgents(Agent{})}, want: "without a name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts...)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestRunErrors(t *testing.T) {
	boom := errors.New("boom")
	failing := NewTool("failing", func(context.Context, *Input, string) (string, error) { return "", boom })
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		opts []Option
		want error
	}{
		{name: "writer", ctx: context.Background(),
			opts: []Option{WithWriter(WriterFunc(func(context.Context, string) (string, error) { return "", boom }), "f")}, want: boom},
		{name: "tool", ctx: context.Background(),
			opts: []Option{WithAgents(Agent{Name: "a", Tools: []Tool{failing}}), WithTasks(Task{Name: "t", Agent: "a"})}, want: boom},
		{name: "canceled", ctx: canceled, want: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr, err := New(tt.opts...)
			require.NoError(t, err)
			_, err = cr.Run(tt.ctx, testInput())
			require.ErrorIs(t, err, tt.want)
		})
	}
}

type fakeCompleter struct {
	system, user string
	answer       string
	err          error
}

func (f *fakeCompleter) Complete(_ context.Context, system, user string) (string, error) {
	f.system, f.user = system, user
	return f.answer, f.err
}

func TestLLMWriter(t *testing.T) {
	fc := &fakeCompleter{answer: "  Bullish on AAPL.\n"}
	cr, err := New(WithWriter(NewLLMWriter(fc), "llm"))
	require.NoError(t, err)
	rep, err := cr.Run(t.Context(), testInput())
	require.NoError(t, err)
	require.Equal(t, "llm", rep.Writer)
	require.Equal(t, "Bullish on AAPL.", rep.Sections[2].Output)
	require.Equal(t, SystemPrompt, fc.system)
	require.Contains(t, fc.user, "Task: risk-assessment\n")
	require.Contains(t, fc.user, "Context:\n- market-analysis: Bullish on AAPL.\n")

	fc.err = errors.New("quota")
	_, err = cr.Run(t.Context(), testInput())
	require.ErrorIs(t, err, fc.err)
	require.ErrorContains(t, err, "llm writer")
}

func TestMemoryBounds(t *testing.T) {
	c := newClock()
	m := NewMemory(3, time.Hour, c.now)
	require.Equal(t, 3, m.Cap())
	for i := range 5 {
		m.Add(Entry{Task: "t", Text: fmt.Sprint(i)})
		c.add(time.Minute)
	}
	var texts []string
	for _, e := range m.Recent(0) {
		texts = append(texts, e.Text)
	}
	require.Equal(t, []string{"2", "3", "4"}, texts)
	require.Len(t, m.Recent(2), 2)
	require.Equal(t, "4", m.Recent(1)[0].Text)

	m.Add(Entry{Task: strings.Repeat("t", 1000), Symbol: "S", Text: strings.Repeat("é", 1000)})
	last := m.Recent(1)[0]
	require.LessOrEqual(t, len(last.Text), MaxEntryBytes)
	require.LessOrEqual(t, len(last.Task), maxLabelBytes)
	require.True(t, strings.HasPrefix(last.Text, "éé"))
	require.NotContains(t, last.Text, "\uFFFD")

	c.add(60 * time.Minute) // "3" and "4" are now older than an hour
	require.Equal(t, 1, m.Len())
	c.add(2 * time.Minute)
	require.Equal(t, 0, m.Len())
	require.Empty(t, m.Recent(5))

	m.Add(Entry{Text: "x"})
	m.Clear()
	require.Equal(t, 0, m.Len())
	require.Equal(t, 0, m.Bytes())

	d := NewMemory(0, 0, nil)
	require.Equal(t, DefaultMemoryEntries, d.Cap())

	// Bytes counts unexpired entries only.
	b := NewMemory(2, time.Minute, c.now)
	b.Add(Entry{Task: "t", Symbol: "S", Text: "abc"})
	require.Equal(t, 5, b.Bytes())
	c.add(2 * time.Minute)
	require.Zero(t, b.Bytes())
}

// promptRecorder is a Writer that remembers the longest prompt it saw.
type promptRecorder struct {
	mu  sync.Mutex
	max int
}

func (p *promptRecorder) Write(ctx context.Context, prompt string) (string, error) {
	p.mu.Lock()
	p.max = max(p.max, len(prompt))
	p.mu.Unlock()
	// A long answer, as an LLM may give: memory must cut it.
	out, err := LocalWriter{}.Write(ctx, prompt)
	return out + strings.Repeat(" more", 400), err
}

func (p *promptRecorder) reset() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.max
	p.max = 0
	return m
}

// TestMemoryStaysBoundedOver200Jobs runs the crew 200 times with memory on
// and proves the memory and the prompts it feeds stop growing once the
// memory is full.
func TestMemoryStaysBoundedOver200Jobs(t *testing.T) {
	const entries = 16
	c := newClock()
	rec := &promptRecorder{}
	cr, err := New(WithMemory(entries, 6*time.Hour), WithClock(c.now), WithWriter(rec, "recorder"))
	require.NoError(t, err)
	mem := cr.Memory()
	require.NotNil(t, mem)

	bound := entries * (MaxEntryBytes + 2*maxLabelBytes)
	var promptAfterFull int
	for job := range 200 {
		rep, err := cr.Run(t.Context(), testInput())
		require.NoError(t, err)
		require.LessOrEqual(t, rep.Recalled, DefaultRecall)
		require.LessOrEqual(t, mem.Len(), entries, "job %d", job)
		require.LessOrEqual(t, mem.Bytes(), bound, "job %d", job)
		c.add(time.Minute)
		longest := rec.reset()
		switch {
		case job == 10:
			promptAfterFull = longest
		case job > 10:
			require.LessOrEqual(t, longest, promptAfterFull, "job %d: prompts grow", job)
		}
	}
	require.Equal(t, entries, mem.Len())
	t.Logf("memory after 200 jobs: %d entries (cap %d), %d bytes (bound %d), longest prompt %d bytes",
		mem.Len(), entries, mem.Bytes(), bound, promptAfterFull)

	// Age bounds it too: after six idle hours nothing is left.
	c.add(6*time.Hour + time.Second)
	require.Equal(t, 0, mem.Len())
}

func TestConcurrentRuns(t *testing.T) {
	cr, err := New(WithMemory(8, time.Hour))
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			for range 10 {
				if _, err := cr.Run(context.Background(), testInput()); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	require.Equal(t, 8, cr.Memory().Len())
}
