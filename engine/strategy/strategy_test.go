package strategy

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// trending returns n daily bars whose close grows by rate per bar.
func trending(n int, rate float64) []providers.Bar {
	bs := make([]providers.Bar, n)
	prev := 100.0
	for i := range bs {
		c := prev * (1 + rate)
		bs[i] = providers.Bar{Time: start.AddDate(0, 0, i), Open: prev,
			High: math.Max(prev, c) * 1.005, Low: math.Min(prev, c) * 0.995, Close: c, Volume: 1000}
		prev = c
	}
	return bs
}

// randomWalk returns n daily bars of a seeded random walk.
func randomWalk(n int, seed uint64) []providers.Bar {
	r := rand.New(rand.NewPCG(seed, 2))
	bs := make([]providers.Bar, n)
	prev := 100.0
	for i := range bs {
		c := prev * (1 + 0.03*(r.Float64()-0.5))
		bs[i] = providers.Bar{Time: start.AddDate(0, 0, i), Open: prev,
			High: math.Max(prev, c) * 1.004, Low: math.Min(prev, c) * 0.996, Close: c, Volume: 1000}
		prev = c
	}
	return bs
}

func TestStrategiesFollowTheirRule(t *testing.T) {
	tests := []struct {
		name     string
		strategy Strategy
		rate     float64 // per-bar growth of the series
		wantSign float64
	}{
		{name: "trend rising", strategy: Trend{}, rate: 0.01, wantSign: 1},
		{name: "trend falling", strategy: Trend{}, rate: -0.01, wantSign: -1},
		{name: "momentum rising", strategy: Momentum{}, rate: 0.01, wantSign: 1},
		{name: "momentum falling", strategy: Momentum{}, rate: -0.01, wantSign: -1},
		{name: "sma-cross rising", strategy: SMACross{Fast: 5, Slow: 20}, rate: 0.01, wantSign: 1},
		{name: "sma-cross falling", strategy: SMACross{Fast: 5, Slow: 20}, rate: -0.01, wantSign: -1},
		// Stretched moves are bets on a reversal.
		{name: "mean-reversion rising", strategy: MeanReversion{}, rate: 0.01, wantSign: -1},
		{name: "mean-reversion falling", strategy: MeanReversion{}, rate: -0.01, wantSign: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := trending(120, tt.rate)
			v, err := tt.strategy.Vote(Input{Bars: bs})
			require.NoError(t, err)
			require.False(t, v.Abstain, v.Reasons)
			require.Equal(t, tt.wantSign, math.Copysign(1, v.Signal), v.Reasons)
			require.NotEmpty(t, v.Reasons)

			sig := make([]float64, len(bs))
			require.NoError(t, tt.strategy.Signals(sig, bs))
			require.InDelta(t, v.Signal, sig[len(bs)-1], 1e-9, "Vote and Signals disagree at the last bar")
		})
	}
}

func TestStrategiesAbstainWithoutData(t *testing.T) {
	short := trending(10, 0.01)
	for _, s := range []Strategy{Trend{}, MeanReversion{}, Momentum{}, SMACross{}, SentimentStrategy{}} {
		t.Run(s.Name(), func(t *testing.T) {
			v, err := s.Vote(Input{Bars: short})
			require.NoError(t, err)
			require.True(t, v.Abstain)
			require.Zero(t, v.Signal)
			require.NotEmpty(t, v.Reasons)
		})
	}
}

// A zero close has no rate of change from it: Vote abstains where Signals
// is NaN, instead of voting a full +1 on an infinite rise.
func TestMomentumFromAZeroClose(t *testing.T) {
	bs := trending(25, 0.01)
	bs[len(bs)-1-20].Close = 0
	v, err := Momentum{}.Vote(Input{Bars: bs})
	require.NoError(t, err)
	require.True(t, v.Abstain, v.Reasons)
	sig := make([]float64, len(bs))
	require.NoError(t, Momentum{}.Signals(sig, bs))
	require.True(t, math.IsNaN(sig[len(bs)-1]))
}

func TestSentiment(t *testing.T) {
	v, err := SentimentStrategy{}.Vote(Input{Sentiment: Sentiment{Score: 1.7, Samples: 12, Source: "reddit"}})
	require.NoError(t, err)
	require.Equal(t, 1.0, v.Signal)
	require.Equal(t, []string{"reddit sentiment +1.70 over 12 samples"}, v.Reasons)

	v, err = SentimentStrategy{MinSamples: 20}.Vote(Input{Sentiment: Sentiment{Score: 0.5, Samples: 12}})
	require.NoError(t, err)
	require.True(t, v.Abstain)

	_, err = SentimentStrategy{}.Vote(Input{Sentiment: Sentiment{Score: math.NaN(), Samples: 3}})
	require.ErrorIs(t, err, ErrParam)
}

// Changing bar k must not change any signal before k.
func TestSignalsHaveNoLookAhead(t *testing.T) {
	const n, k = 150, 100
	type signaler interface {
		Signals(dst []float64, bs []providers.Bar) error
	}
	tests := map[string]signaler{"ensemble": DefaultEnsemble()}
	for _, s := range append(DefaultStrategies(), SMACross{Fast: 5, Slow: 20}) {
		tests[s.Name()] = s
	}
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			bs := randomWalk(n, 11)
			before := make([]float64, n)
			require.NoError(t, s.Signals(before, bs))
			bs[k].Close *= 1.3
			bs[k].High *= 1.3
			after := make([]float64, n)
			require.NoError(t, s.Signals(after, bs))
			for i := range k {
				require.Equal(t, math.Float64bits(before[i]), math.Float64bits(after[i]), "signal %d changed", i)
			}
		})
	}
}

// constant is a test strategy with a fixed vote.
type constant struct {
	name    string
	signal  float64
	abstain bool
}

func (c constant) Name() string { return c.name }
func (c constant) Vote(Input) (Vote, error) {
	if c.abstain {
		return abstain(c.name, "told to"), nil
	}
	return Vote{Strategy: c.name, Signal: c.signal, Reasons: []string{"fixed"}}, nil
}
func (c constant) Signals(dst []float64, bs []providers.Bar) error {
	for i := range bs {
		dst[i] = c.signal
		if c.abstain {
			dst[i] = math.NaN()
		}
	}
	return nil
}

func TestEnsembleVote(t *testing.T) {
	tests := []struct {
		name          string
		ens           Ensemble
		wantScore     float64
		wantAgreement float64
		wantVoters    int
		wantSignal    float64 // of Signals: the score, NaN when all abstain
	}{
		{
			// (2·0.5 + 1·(-0.5)) / (2+1) = 0.5/3 = 1/6; a and its weight 2 agree: 2/3.
			name: "weighted mean",
			ens: Ensemble{Strategies: []Strategy{constant{name: "a", signal: 0.5}, constant{name: "b", signal: -0.5},
				constant{name: "c", abstain: true}}, Weights: map[string]float64{"a": 2}},
			wantScore: 1.0 / 6, wantAgreement: 2.0 / 3, wantVoters: 2, wantSignal: 1.0 / 6,
		},
		{
			// b is muted: score is a's signal.
			name: "zero weight mutes",
			ens: Ensemble{Strategies: []Strategy{constant{name: "a", signal: 0.3}, constant{name: "b", signal: -1}},
				Weights: map[string]float64{"b": 0}},
			wantScore: 0.3, wantAgreement: 1, wantVoters: 1, wantSignal: 0.3,
		},
		{
			name:      "all abstain",
			ens:       Ensemble{Strategies: []Strategy{constant{name: "a", abstain: true}}},
			wantScore: 0, wantAgreement: 0, wantVoters: 0, wantSignal: math.NaN(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ens.Vote(Input{})
			require.NoError(t, err)
			require.InDelta(t, tt.wantScore, got.Score, 1e-12)
			require.InDelta(t, tt.wantAgreement, got.Agreement, 1e-12)
			require.Equal(t, tt.wantVoters, got.Voters)
			require.Len(t, got.Votes, len(tt.ens.Strategies))

			bs := trending(3, 0)
			sig := make([]float64, 3)
			require.NoError(t, tt.ens.Signals(sig, bs))
			requireSignal(t, tt.wantSignal, sig[2])
		})
	}
}

// requireSignal asserts got is within 1e-12 of want, or NaN when want is.
func requireSignal(t *testing.T, want, got float64) {
	t.Helper()
	if math.IsNaN(want) {
		require.True(t, math.IsNaN(got), "want NaN, got %v", got)
		return
	}
	require.InDelta(t, want, got, 1e-12)
}

func TestEnsembleErrors(t *testing.T) {
	tests := []struct {
		name string
		ens  Ensemble
	}{
		{name: "empty", ens: Ensemble{}},
		{name: "duplicate name", ens: Ensemble{Strategies: []Strategy{Trend{}, Trend{Fast: 5}}}},
		{name: "negative weight", ens: Ensemble{Strategies: []Strategy{Trend{}}, Weights: map[string]float64{"trend": -1}}},
		{name: "NaN weight", ens: Ensemble{Strategies: []Strategy{Trend{}}, Weights: map[string]float64{"x": math.NaN()}}},
		{name: "bad strategy parameter", ens: Ensemble{Strategies: []Strategy{Trend{Fast: 60, Slow: 50}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.ens.Vote(Input{Bars: trending(100, 0.01)})
			require.ErrorIs(t, err, ErrParam)
		})
	}
}
