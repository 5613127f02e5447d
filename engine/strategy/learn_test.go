package strategy

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUpdateWeights(t *testing.T) {
	tests := []struct {
		name     string
		weights  map[string]float64
		outcomes []Outcome
		want     map[string]float64
	}{
		{
			// trend:    r = 0.5·0.05/0.05 = 0.5          → 1·e^(0.2·0.5) = e^0.1
			// momentum: r = clamp(1·(-0.10)/0.05) = -1   → 2·e^(-0.2)
			// sentiment (new, starts at 1): r = clamp(1·0.5/0.05) = 1 → e^0.2
			// mean-reversion: no outcome, unchanged.
			name:    "rewards follow the price move",
			weights: map[string]float64{"trend": 1, "momentum": 2, "mean-reversion": 0.7},
			outcomes: []Outcome{
				{Strategy: "trend", Signal: 0.5, Move: 0.05},
				{Strategy: "momentum", Signal: 1, Move: -0.10},
				{Strategy: "sentiment", Signal: 1, Move: 0.5},
			},
			want: map[string]float64{"trend": math.Exp(0.1), "momentum": 2 * math.Exp(-0.2), "mean-reversion": 0.7, "sentiment": math.Exp(0.2)},
		},
		{
			// A short vote on a falling price is right: r = (-1)(-0.05)/0.05 = 1.
			name:     "short vote rewarded when price falls",
			weights:  map[string]float64{"trend": 1},
			outcomes: []Outcome{{Strategy: "trend", Signal: -1, Move: -0.05}},
			want:     map[string]float64{"trend": math.Exp(0.2)},
		},
		{
			// 2.9·e^0.2 ≈ 3.54 is clamped to 3; 0.11·e^-0.4 ≈ 0.074 to 0.1.
			name:    "weights stay within bounds",
			weights: map[string]float64{"a": 2.9, "b": 0.11},
			outcomes: []Outcome{
				{Strategy: "a", Signal: 1, Move: 1},
				{Strategy: "b", Signal: 1, Move: -1}, {Strategy: "b", Signal: 1, Move: -1},
			},
			want: map[string]float64{"a": 3, "b": 0.1},
		},
		{
			name:     "muted strategy stays muted",
			weights:  map[string]float64{"a": 0},
			outcomes: []Outcome{{Strategy: "a", Signal: 1, Move: 1}},
			want:     map[string]float64{"a": 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := make(map[string]float64, len(tt.weights))
			for k, v := range tt.weights {
				in[k] = v
			}
			got, err := UpdateWeights(in, tt.outcomes, LearnParams{})
			require.NoError(t, err)
			require.Equal(t, tt.weights, in, "input weights were modified")
			require.Len(t, got, len(tt.want))
			for k, w := range tt.want {
				require.InDeltaf(t, w, got[k], 1e-12, "weight of %s", k)
			}
			// The batch result does not depend on outcome order.
			rev := make([]Outcome, len(tt.outcomes))
			for i, o := range tt.outcomes {
				rev[len(rev)-1-i] = o
			}
			again, err := UpdateWeights(in, rev, LearnParams{})
			require.NoError(t, err)
			require.Equal(t, got, again)
		})
	}
}

func TestUpdateWeightsErrors(t *testing.T) {
	tests := []struct {
		name     string
		weights  map[string]float64
		outcomes []Outcome
		params   LearnParams
	}{
		{name: "NaN move", outcomes: []Outcome{{Strategy: "a", Signal: 1, Move: math.NaN()}}},
		{name: "no strategy name", outcomes: []Outcome{{Signal: 1, Move: 0.1}}},
		{name: "negative weight", weights: map[string]float64{"a": -1}},
		{name: "min above max", params: LearnParams{Min: 2, Max: 1}},
		{name: "negative rate", params: LearnParams{Rate: -0.1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UpdateWeights(tt.weights, tt.outcomes, tt.params)
			require.ErrorIs(t, err, ErrParam)
		})
	}
}

// Weights learned from outcomes change the ensemble's vote.
func TestLearnedWeightsShiftTheEnsemble(t *testing.T) {
	ens := Ensemble{Strategies: []Strategy{constant{name: "bull", signal: 1}, constant{name: "bear", signal: -1}}}
	tally, err := ens.Vote(Input{})
	require.NoError(t, err)
	require.Zero(t, tally.Score)

	w, err := UpdateWeights(nil, []Outcome{{Strategy: "bull", Signal: 1, Move: 0.05}, {Strategy: "bear", Signal: -1, Move: 0.05}}, LearnParams{})
	require.NoError(t, err)
	ens.Weights = w
	tally, err = ens.Vote(Input{})
	require.NoError(t, err)
	// (e^0.2 - e^-0.2) / (e^0.2 + e^-0.2) = tanh(0.2)
	require.InDelta(t, math.Tanh(0.2), tally.Score, 1e-12)
}
