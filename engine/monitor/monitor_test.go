package monitor

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2024, 6, 3, 14, 30, 0, 0, time.UTC)

// scripted answers each symbol's quotes in turn, repeating the last.
type scripted struct {
	mu     sync.Mutex
	quotes map[string][]providers.Quote
	errs   map[string]error
	calls  chan string // receives each symbol asked for, if not nil
}

func (s *scripted) Quote(ctx context.Context, sym string) (providers.Quote, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls != nil {
		select {
		case s.calls <- sym:
		case <-ctx.Done():
			return providers.Quote{}, ctx.Err()
		}
	}
	if err := s.errs[sym]; err != nil {
		return providers.Quote{}, err
	}
	qs := s.quotes[sym]
	if len(qs) == 0 {
		return providers.Quote{}, providers.ErrNotFound
	}
	q := qs[0]
	if len(qs) > 1 {
		s.quotes[sym] = qs[1:]
	}
	q.Symbol = sym
	return q, nil
}

type memSink struct {
	mu     sync.Mutex
	alerts []Alert
	err    error
}

func (m *memSink) RecordAlert(_ context.Context, a Alert) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.alerts = append(m.alerts, a)
	return nil
}

func p(price float64) providers.Quote { return providers.Quote{Price: price, Provider: "test"} }

func TestPollAlertsPastThreshold(t *testing.T) {
	tests := []struct {
		name   string
		quotes []providers.Quote
		want   []Alert // alerts over all polls
	}{
		{name: "small moves", quotes: []providers.Quote{p(100), p(101), p(99), p(101.9)}},
		{name: "up once then re-anchored", quotes: []providers.Quote{p(100), p(103), p(104), p(106.1)}, want: []Alert{
			{Symbol: "AAPL", Price: 103, Reference: 100, Direction: Up},
			{Symbol: "AAPL", Price: 106.1, Reference: 103, Direction: Up},
		}},
		{name: "down", quotes: []providers.Quote{p(100), p(97)}, want: []Alert{
			{Symbol: "AAPL", Price: 97, Reference: 100, Direction: Down},
		}},
		{name: "previous close is the first reference", quotes: []providers.Quote{{Price: 110, PrevClose: 100, Provider: "test"}}, want: []Alert{
			{Symbol: "AAPL", Price: 110, Reference: 100, Direction: Up},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &scripted{quotes: map[string][]providers.Quote{"AAPL": tt.quotes}}
			sink := &memSink{}
			m, err := New(src, sink, Config{Symbols: []string{"AAPL"}, Threshold: 0.02}, WithClock(func() time.Time { return t0 }))
			require.NoError(t, err)
			var got []Alert
			for range tt.quotes {
				alerts, err := m.Poll(t.Context())
				require.NoError(t, err)
				got = append(got, alerts...)
			}
			for i := range tt.want {
				tt.want[i].Change = tt.want[i].Price/tt.want[i].Reference - 1
				tt.want[i].Provider, tt.want[i].Time = "test", t0
			}
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.want, sink.alerts)
			st := m.Stats()
			require.Equal(t, uint64(len(tt.quotes)), st.Polls)
			require.Equal(t, uint64(len(tt.want)), st.Alerts)
			require.Equal(t, t0, st.LastPoll)
		})
	}
}

func TestPollErrors(t *testing.T) {
	boom := errors.New("boom")
	src := &scripted{
		quotes: map[string][]providers.Quote{"AAPL": {p(100), p(110), p(110)}, "ZERO": {p(0)}},
		errs:   map[string]error{"BAD": providers.ErrRateLimited},
	}
	sink := &memSink{}
	m, err := New(src, sink, Config{Symbols: []string{"BAD", "AAPL", "ZERO"}})
	require.NoError(t, err)

	_, err = m.Poll(t.Context())
	require.ErrorIs(t, err, providers.ErrRateLimited)
	require.ErrorContains(t, err, "ZERO: price 0")

	sink.err = boom
	alerts, err := m.Poll(t.Context())
	require.ErrorIs(t, err, boom)
	require.Empty(t, alerts)

	sink.err = nil // the alert that could not be recorded is raised again
	alerts, err = m.Poll(t.Context())
	require.ErrorIs(t, err, providers.ErrRateLimited)
	require.Len(t, alerts, 1)
	require.Equal(t, uint64(7), m.Stats().Errors)
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		src  QuoteSource
		sink AlertSink
		cfg  Config
	}{
		{name: "nil source", sink: &memSink{}},
		{name: "nil sink", src: &scripted{}},
		{name: "negative interval", src: &scripted{}, sink: &memSink{}, cfg: Config{Interval: -time.Second}},
		{name: "negative threshold", src: &scripted{}, sink: &memSink{}, cfg: Config{Threshold: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.src, tt.sink, tt.cfg)
			require.Error(t, err)
		})
	}
}

func TestStartStop(t *testing.T) {
	src := &scripted{
		quotes: map[string][]providers.Quote{"AAPL": {p(100), p(120)}, "SPY": {p(400)}},
		calls:  make(chan string),
	}
	sink := &memSink{}
	m, err := New(src, sink, Config{Symbols: []string{"AAPL", "SPY"}, Interval: time.Millisecond, Timeout: time.Minute})
	require.NoError(t, err)
	require.NoError(t, m.Start(t.Context()))
	require.ErrorIs(t, m.Start(t.Context()), ErrStarted)
	// Two full polls happen, in order, one after the other.
	for _, want := range []string{"AAPL", "SPY", "AAPL", "SPY"} {
		require.Equal(t, want, <-src.calls)
	}
	m.Stop()
	m.Stop()
	require.GreaterOrEqual(t, m.Stats().Polls, uint64(1))
	require.Error(t, m.Start(t.Context()), "no restart after Stop")
	sink.mu.Lock()
	defer sink.mu.Unlock()
	require.Len(t, sink.alerts, 1)
}

func TestStopWithoutStart(t *testing.T) {
	m, err := New(&scripted{}, &memSink{}, Config{})
	require.NoError(t, err)
	m.Stop()
}

func TestStopsWhenContextEnds(t *testing.T) {
	src := &scripted{quotes: map[string][]providers.Quote{"AAPL": {p(100)}}, calls: make(chan string)}
	m, err := New(src, &memSink{}, Config{Symbols: []string{"AAPL"}, Interval: time.Hour})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	require.NoError(t, m.Start(ctx))
	<-src.calls
	cancel()
	m.Stop() // returns once the loop has seen the cancellation
}
