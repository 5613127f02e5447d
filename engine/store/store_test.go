package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

func openTest(t *testing.T) *Store {
	t.Helper()
	c := &clock{now: t0}
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "data", FileName), WithClock(c.Now))
	require.NoError(t, err)
	t.Cleanup(func() {
		require.Zero(t, s.Stats().InUse, "a connection is still in use: rows left open")
		require.NoError(t, s.Close())
	})
	return s
}

func TestOpenMigratesOnceAndUsesWAL(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), FileName)
	for range 2 {
		s, err := Open(ctx, path)
		require.NoError(t, err)
		v, err := s.SchemaVersion(ctx)
		require.NoError(t, err)
		ms, err := Migrations()
		require.NoError(t, err)
		require.Equal(t, len(ms), v)
		var mode string
		require.NoError(t, s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
		require.Equal(t, "wal", mode)
		var fk int
		require.NoError(t, s.db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
		require.Equal(t, 1, fk)
		var n int
		require.NoError(t, s.db.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n))
		require.Equal(t, len(ms), n)
		require.NoError(t, s.Close())
		require.NoError(t, s.Close(), "Close is idempotent")
	}
}

func TestOpenRejectsNewerSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), FileName)
	s, err := Open(ctx, path)
	require.NoError(t, err)
	_, err = s.db.ExecContext(ctx, "INSERT INTO schema_migrations VALUES (999, 'future', 0)")
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = Open(ctx, path)
	require.ErrorContains(t, err, "upgrade ffe")
}

func TestOpenBadPath(t *testing.T) {
	_, err := Open(t.Context(), filepath.Join(t.TempDir(), "a?b", FileName))
	require.ErrorContains(t, err, "contains ? or #")
}

func decision(sym, action string) *Decision {
	return &Decision{Symbol: sym, Class: providers.Equity, Action: action, Confidence: 0.7, Score: 0.7, Quantity: 10,
		Price: 100, ATR: 2, StopLoss: 96, TakeProfit: 106, Reasons: []string{"because"},
		Votes:   []Vote{{Strategy: "trend", Signal: 0.8, Weight: 1}, {Strategy: "sentiment", Abstain: true, Weight: 1}},
		BarTime: t0.Add(-24 * time.Hour)}
}

func TestDecisions(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	var ids []string
	for _, d := range []*Decision{decision("AAPL", "BUY"), decision("MSFT", "HOLD"), decision("AAPL", "SELL")} {
		require.NoError(t, s.InsertDecision(ctx, d))
		require.True(t, ValidID(d.ID), d.ID)
		ids = append(ids, d.ID)
	}
	got, err := s.Decision(ctx, ids[0])
	require.NoError(t, err)
	want := decision("AAPL", "BUY")
	want.ID, want.CreatedAt = ids[0], got.CreatedAt
	require.Equal(t, *want, got)

	_, err = s.Decision(ctx, "nosuchidxxxx")
	require.ErrorIs(t, err, ErrNotFound)

	tests := []struct {
		name string
		give DecisionFilter
		want []string
	}{
		{name: "all newest first", want: []string{ids[2], ids[1], ids[0]}},
		{name: "symbol", give: DecisionFilter{Symbol: "AAPL"}, want: []string{ids[2], ids[0]}},
		{name: "action", give: DecisionFilter{Action: "HOLD"}, want: []string{ids[1]}},
		{name: "since", give: DecisionFilter{Since: got.CreatedAt.Add(time.Millisecond)}, want: []string{ids[2], ids[1]}},
		{name: "limit", give: DecisionFilter{Limit: 1}, want: []string{ids[2]}},
		{name: "none", give: DecisionFilter{Symbol: "TSLA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := s.Decisions(ctx, tt.give)
			require.NoError(t, err)
			var gotIDs []string
			for _, d := range ds {
				gotIDs = append(gotIDs, d.ID)
			}
			require.Equal(t, tt.want, gotIDs)
		})
	}
}

func TestClaimDecisionOnce(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	d := decision("AAPL", "BUY")
	require.NoError(t, s.InsertDecision(ctx, d))

	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = s.ClaimDecision(ctx, d.ID) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		require.ErrorIs(t, err, ErrAlreadyExecuted)
	}
	require.Equal(t, 1, ok)

	require.NoError(t, s.ReleaseDecision(ctx, d.ID))
	require.NoError(t, s.ClaimDecision(ctx, d.ID))
	require.ErrorIs(t, s.ClaimDecision(ctx, "nosuchidxxxx"), ErrNotFound)
}

func TestPaperTrades(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	require.NoError(t, s.EnsurePaperAccount(ctx, "USD", 10_000))
	require.NoError(t, s.EnsurePaperAccount(ctx, "USD", 99), "an existing balance is kept")
	change := func(side providers.Side, qty, price float64) PositionChange {
		return PositionChange{Platform: "paper", Symbol: "AAPL", Class: providers.Equity, Side: side, Quantity: qty,
			Price: price, Time: t0}
	}
	require.NoError(t, s.ApplyPaperTrade(ctx, PaperTrade{Change: change(providers.Buy, 10, 100), Currency: "USD", Fee: 1}))
	require.NoError(t, s.ApplyPaperTrade(ctx, PaperTrade{Change: change(providers.Buy, 10, 110), Currency: "USD", Fee: 1}))
	bal, err := s.PaperBalances(ctx)
	require.NoError(t, err)
	require.InDelta(t, 10_000-1000-1100-2, bal["USD"], 1e-9)
	p, ok, err := s.Position(ctx, "paper", "AAPL")
	require.NoError(t, err)
	require.True(t, ok)
	require.InDelta(t, 20, p.Quantity, 1e-9)
	require.InDelta(t, 105, p.AvgPrice, 1e-9)

	err = s.ApplyPaperTrade(ctx, PaperTrade{Change: change(providers.Buy, 1000, 100), Currency: "USD"})
	require.ErrorIs(t, err, ErrInsufficient)
	require.ErrorContains(t, err, "holds 7898.00")
	err = s.ApplyPaperTrade(ctx, PaperTrade{Change: change(providers.Sell, 21, 100), Currency: "USD"})
	require.ErrorIs(t, err, ErrInsufficient)
	require.ErrorContains(t, err, "does not short")

	require.NoError(t, s.ApplyPaperTrade(ctx, PaperTrade{Change: change(providers.Sell, 5, 120), Currency: "USD", Fee: 1}))
	p, _, err = s.Position(ctx, "paper", "AAPL")
	require.NoError(t, err)
	require.InDelta(t, 15, p.Quantity, 1e-9)
	require.InDelta(t, 105, p.AvgPrice, 1e-9, "reducing keeps the entry price")
	require.NoError(t, s.ApplyPaperTrade(ctx, PaperTrade{Change: change(providers.Sell, 15, 120), Currency: "USD", Fee: 1}))
	_, ok, err = s.Position(ctx, "paper", "AAPL")
	require.NoError(t, err)
	require.False(t, ok, "a flat position is removed")
	bal, err = s.PaperBalances(ctx)
	require.NoError(t, err)
	require.InDelta(t, 7898+600-1+1800-1, bal["USD"], 1e-9)
	ps, err := s.Positions(ctx, "paper")
	require.NoError(t, err)
	require.Empty(t, ps)
}

func TestRecordExecution(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	d := decision("BTC-USD", "BUY")
	require.NoError(t, s.InsertDecision(ctx, d))
	require.NoError(t, s.ClaimDecision(ctx, d.ID))
	exec := Execution{
		Order: Order{ID: "o-1", DecisionID: d.ID, Platform: "coinbase", Symbol: "BTC-USD", Side: "BUY", Type: "MARKET",
			Status: "FILLED", Quantity: 2, FilledQuantity: 2, AvgPrice: 100, Fees: 0.5},
		Fills: []Fill{{Symbol: "BTC-USD", Side: "BUY", Quantity: 2, Price: 100, Fee: 0.5}},
		Position: &PositionChange{Platform: "coinbase", Symbol: "BTC-USD", Class: providers.Crypto, Side: providers.Buy,
			Quantity: 2, Price: 100, DecisionID: d.ID, Time: t0},
		Weights: map[string]float64{"trend": 1.2},
	}
	require.NoError(t, s.RecordExecution(ctx, exec))
	o, err := s.OrderForDecision(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, "o-1", o.ID)
	fs, err := s.Fills(ctx, "o-1")
	require.NoError(t, err)
	require.Len(t, fs, 1)
	p, ok, err := s.Position(ctx, "coinbase", "BTC-USD")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, d.ID, p.DecisionID)
	w, err := s.Weights(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]float64{"trend": 1.2}, w)

	// A second order for the same decision is refused and changes nothing.
	exec.Order.ID = "o-2"
	exec.Weights = map[string]float64{"trend": 2}
	require.Error(t, s.RecordExecution(ctx, exec))
	w, err = s.Weights(ctx)
	require.NoError(t, err)
	require.Equal(t, 1.2, w["trend"])
	p, _, err = s.Position(ctx, "coinbase", "BTC-USD")
	require.NoError(t, err)
	require.Equal(t, 2.0, p.Quantity)
	os, err := s.Orders(ctx, 0)
	require.NoError(t, err)
	require.Len(t, os, 1)
	require.NoError(t, s.ReleaseDecision(ctx, d.ID))
	require.ErrorIs(t, s.ClaimDecision(ctx, d.ID), ErrAlreadyExecuted, "a decision with an order stays executed")
}

func TestPositionFlip(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	apply := func(side providers.Side, qty, price float64) {
		require.NoError(t, s.tx(ctx, func(tx *sql.Tx) error {
			return applyPosition(ctx, tx, PositionChange{Platform: "oanda", Symbol: "EUR_USD", Class: providers.Forex,
				Side: side, Quantity: qty, Price: price, Time: t0})
		}))
	}
	apply(providers.Buy, 100, 1.1)
	apply(providers.Sell, 150, 1.2)
	p, ok, err := s.Position(ctx, "oanda", "EUR_USD")
	require.NoError(t, err)
	require.True(t, ok)
	require.InDelta(t, -50, p.Quantity, 1e-9)
	require.InDelta(t, 1.2, p.AvgPrice, 1e-9)
}

func TestMemoryPruneAndPnL(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	for i := range 5 {
		_, err := s.InsertMemory(ctx, Memory{Platform: "paper", Symbol: "AAPL", Direction: "LONG", Quantity: 1,
			EntryPrice: 100, ExitPrice: 100 + float64(i), PnL: float64(i) - 2, Return: (float64(i) - 2) / 100,
			Votes: []Vote{{Strategy: "trend", Signal: 0.5}}, OpenedAt: t0, ClosedAt: t0.AddDate(0, 0, i)})
		require.NoError(t, err)
	}
	pnl, err := s.RealizedPnL(ctx, "paper", t0.AddDate(0, 0, 3))
	require.NoError(t, err)
	require.Equal(t, 1.0+2.0, pnl)

	ms, err := s.Memories(ctx, MemoryFilter{Limit: 2})
	require.NoError(t, err)
	require.Len(t, ms, 2)
	require.Equal(t, t0.AddDate(0, 0, 4), ms[0].ClosedAt)
	require.Equal(t, []Vote{{Strategy: "trend", Signal: 0.5}}, ms[0].Votes)

	dry, err := s.PruneMemory(ctx, t0.AddDate(0, 0, 1), 3, true)
	require.NoError(t, err)
	require.Equal(t, 1, dry.ByAge)
	require.Equal(t, 1, dry.ByCount)
	require.Equal(t, 3, dry.Remaining)

	res, err := s.PruneMemory(ctx, t0.AddDate(0, 0, 1), 3, false)
	require.NoError(t, err)
	require.Equal(t, dry, res)
	require.Len(t, res.Removed, 2)
	left, err := s.Memories(ctx, MemoryFilter{})
	require.NoError(t, err)
	require.Len(t, left, 3)

	res, err = s.PruneMemory(ctx, time.Time{}, 0, false)
	require.NoError(t, err)
	require.Empty(t, res.Removed)
	require.Equal(t, 3, res.Remaining)
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		require.True(t, ValidID(id), id)
		require.False(t, seen[id])
		seen[id] = true
	}
	require.False(t, ValidID("ABCDEFGHIJKL"))
	require.False(t, ValidID("short"))
}

func TestCanceledContext(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Decisions(ctx, DecisionFilter{})
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
}

func TestPoolPingAndWarm(t *testing.T) {
	s := openTest(t)
	var mode string
	require.NoError(t, s.db.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode))
	require.Equal(t, "wal", mode)
	require.NoError(t, s.PingContext(t.Context()))
	require.NoError(t, s.WarmPool(t.Context()))
	st := s.Stats()
	require.Equal(t, st.MaxOpenConnections, st.OpenConnections, "WarmPool opens the whole pool")
	require.Equal(t, st.MaxOpenConnections, st.Idle, "and leaves it idle")
	require.Zero(t, st.InUse)
	require.NoError(t, s.Close())
	require.Error(t, s.PingContext(t.Context()), "a closed store does not answer")
	require.Error(t, s.WarmPool(t.Context()), "a closed store opens no connection")
}
