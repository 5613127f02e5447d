package montecarlo

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConstantReturn(t *testing.T) {
	// Every draw is +10%: every path ends at 1.1³ = 1.331, a gain, so VaR
	// and CVaR are -0.331 and nothing is ruined or drawn down.
	res, err := Run(t.Context(), []float64{0.1}, Config{Sims: 100, Days: 3})
	require.NoError(t, err)
	for _, v := range []float64{res.P5, res.P25, res.P50, res.P75, res.P95, res.Mean} {
		require.InDelta(t, 1.331, v, 1e-12)
	}
	require.InDelta(t, -0.331, res.VaR95, 1e-12)
	require.InDelta(t, -0.331, res.CVaR99, 1e-12)
	require.Zero(t, res.ProbRuin)
	require.Zero(t, res.DrawdownP95)
	require.Len(t, res.Finals, 100)
}

func TestDoubleOrHalf(t *testing.T) {
	// One draw of +100% or -50%: finals are 2 or 0.5, half each. The worst
	// 5% all end at 0.5, a loss of 0.5; ending at 0.5 is ruin (≤ 0.5·1).
	res, err := Run(t.Context(), []float64{1, -0.5}, Config{Sims: 10_000, Days: 1, Seed: 3})
	require.NoError(t, err)
	require.Equal(t, 0.5, res.P5)
	require.Equal(t, 2.0, res.P95)
	require.InDelta(t, 0.5, res.VaR95, 1e-12)
	require.InDelta(t, 0.5, res.CVaR95, 1e-12)
	// Binomial(10000, 0.5): standard deviation 0.005; 0.03 is six of them.
	require.InDelta(t, 0.5, res.ProbRuin, 0.03)
	require.InDelta(t, 1.25, res.Mean, 0.05)
}

// With blocks as long as the history and as the path, every path is a
// rotation of the history, so every final equity is the product of all
// growth factors.
func TestBlockBootstrapRotatesTheHistory(t *testing.T) {
	returns := []float64{0.05, -0.02, 0.1, -0.07}
	want := 1.05 * 0.98 * 1.1 * 0.93
	res, err := Run(t.Context(), returns, Config{Sims: 500, Days: 4, Block: 4, Seed: 9})
	require.NoError(t, err)
	require.InDelta(t, want, res.Finals[0], 1e-12)
	require.InDelta(t, want, res.Finals[499], 1e-12)
}

// The mean of i.i.d. paths is (1 + mean return)^Days.
func TestMeanMatchesTheory(t *testing.T) {
	returns := []float64{0.02, -0.01, 0.005, -0.015, 0.01}
	res, err := Run(t.Context(), returns, Config{Sims: 20_000, Days: 50, Seed: 1})
	require.NoError(t, err)
	// mean return 0.002: 1.002^50 = 1.1051; the path sd is about
	// 0.0124·sqrt(50)·1.1 = 0.096, so the mean of 20000 is within 0.0007.
	require.InDelta(t, math.Pow(1.002, 50), res.Mean, 0.004)
	require.Less(t, res.P5, res.P25)
	require.Less(t, res.P25, res.P50)
	require.Less(t, res.P50, res.P75)
	require.Less(t, res.P75, res.P95)
	require.Greater(t, res.CVaR95, res.VaR95)
	require.Greater(t, res.CVaR99, res.CVaR95)
}

func TestSameSeedSameResultWhateverTheWorkers(t *testing.T) {
	returns := []float64{0.03, -0.02, 0.01, -0.04, 0.02, 0.015, -0.01}
	tests := []struct {
		name  string
		block int
	}{{name: "iid", block: 1}, {name: "block", block: 3}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Sims: 3000, Days: 100, Seed: 42, Block: tt.block, Ruin: 0.9}
			cfg.Workers = 1
			one, err := Run(t.Context(), returns, cfg)
			require.NoError(t, err)
			for _, w := range []int{2, 5, 16} {
				cfg.Workers = w
				many, err := Run(t.Context(), returns, cfg)
				require.NoError(t, err)
				require.Equal(t, one, many, "%d workers", w)
			}
			cfg.Seed = 43
			other, err := Run(t.Context(), returns, cfg)
			require.NoError(t, err)
			require.NotEqual(t, one.Finals, other.Finals)
		})
	}
}

func TestCancelStopsPromptly(t *testing.T) {
	// About 10¹⁰ draws: minutes of work, unless cancelled.
	ctx, cancel := context.WithCancel(t.Context())
	stop := time.AfterFunc(20*time.Millisecond, cancel)
	defer stop.Stop()
	_, err := Run(ctx, []float64{0.01, -0.01}, Config{Sims: 100_000, Days: 100_000, Workers: 4})
	require.ErrorIs(t, err, context.Canceled)

	_, err = Run(ctx, []float64{0.01}, Config{})
	require.ErrorIs(t, err, context.Canceled)
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name    string
		returns []float64
		cfg     Config
		wantMsg string
	}{
		{name: "no returns", wantMsg: "no returns"},
		{name: "NaN return", returns: []float64{0.1, math.NaN()}, wantMsg: "return 1 is NaN"},
		{name: "total loss", returns: []float64{-1}, wantMsg: "return 0 is -1"},
		{name: "negative sims", returns: []float64{0.1}, cfg: Config{Sims: -1}, wantMsg: "sims -1"},
		// Memory for every path is allocated up front: a huge count must be
		// refused, not attempted.
		{name: "too many sims", returns: []float64{0.1}, cfg: Config{Sims: 1 << 40}, wantMsg: "sims 1099511627776 is above 10000000"},
		{name: "block too long", returns: []float64{0.1, 0.2}, cfg: Config{Block: 3}, wantMsg: "block length 3"},
		{name: "ruin above 1", returns: []float64{0.1}, cfg: Config{Ruin: 1.5}, wantMsg: "ruin level 1.5"},
		{name: "negative workers", returns: []float64{0.1}, cfg: Config{Workers: -2}, wantMsg: "workers -2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(t.Context(), tt.returns, tt.cfg)
			require.ErrorIs(t, err, ErrParam)
			require.ErrorContains(t, err, tt.wantMsg)
		})
	}
}

func TestReturns(t *testing.T) {
	got, err := Returns([]float64{100, 110, 99})
	require.NoError(t, err)
	require.InDeltaSlice(t, []float64{0.1, -0.1}, got, 1e-12)
	_, err = Returns([]float64{100})
	require.ErrorIs(t, err, ErrParam)
	_, err = Returns([]float64{0, 1})
	require.ErrorIs(t, err, ErrParam)
}

func TestQuantileAndShortfall(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5}
	// (5-1)·0.25 = 1 → 2; (5-1)·0.1 = 0.4 → 1 + 0.4·(2-1) = 1.4.
	require.Equal(t, 2.0, quantile(s, 0.25))
	require.InDelta(t, 1.4, quantile(s, 0.1), 1e-12)
	require.Equal(t, 5.0, quantile(s, 1))
	f := []float64{0.5, 0.8, 1, 1.2}
	// ceil(0.25·4) = 1 path: loss 0.5; ceil(0.5·4) = 2: mean 0.65, loss 0.35.
	require.InDelta(t, 0.5, shortfall(f, 0.25, 1), 1e-12)
	require.InDelta(t, 0.35, shortfall(f, 0.5, 1), 1e-12)
}
