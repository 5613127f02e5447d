package strategy

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/bars"
	"github.com/leakgate/leakgate/providers"
)

// flat returns n bars at 100 with high 101 and low 99: every true range is
// 2, so ATR(14) is 2.
func flat(n int) []providers.Bar {
	bs := make([]providers.Bar, n)
	for i := range bs {
		bs[i] = providers.Bar{Time: start.AddDate(0, 0, i), Open: 100, High: 101, Low: 99, Close: 100, Volume: 1}
	}
	return bs
}

func TestDecideSizingAndStops(t *testing.T) {
	// Only sentiment votes, so the score is the sentiment score.
	ens := Ensemble{Strategies: []Strategy{SentimentStrategy{}}}
	tests := []struct {
		name       string
		score      float64
		position   float64
		risk       float64 // Params.RiskPerTrade; 0 is the default 0.01
		allowShort bool
		want       Action
		wantQty    float64
		wantTgt    float64
		wantStop   float64
		wantTP     float64
		wantInWhy  string
	}{
		{
			// units = 10000·0.01 / (ATR 2 · 2) = 25; stop 100-2·2 = 96; take-profit 100+3·2 = 106.
			name: "buy sized by risk", score: 0.8, want: Buy, wantQty: 25, wantTgt: 25, wantStop: 96, wantTP: 106,
			wantInWhy: "size 25 units = risk 1.00% of 10000.00 (100.00) / (ATR 2 × 2.0)",
		},
		{
			// 10000·0.1/4 = 250 units would be 25000 at 100: capped at 10000/100 = 100.
			name: "buy capped by exposure", score: 0.8, risk: 0.1,
			want: Buy, wantQty: 100, wantTgt: 100, wantStop: 96, wantTP: 106, wantInWhy: "capped at 100 units",
		},
		{name: "weak score holds", score: 0.1, want: Hold, wantInWhy: "below the threshold"},
		{name: "already long holds", score: 0.8, position: 10, want: Hold, wantTgt: 10, wantStop: 96, wantTP: 106,
			wantInWhy: "already long 10"},
		{name: "bearish, long-only, flat", score: -0.8, want: Hold, wantInWhy: "shorting is off"},
		{name: "bearish closes a long", score: -0.8, position: 40, want: Sell, wantQty: 40, wantTgt: 0,
			wantInWhy: "SELL 40: from long 40 to flat"},
		{
			// Short 25: stop above, 100+4 = 104; take-profit below, 100-6 = 94.
			name: "bearish opens a short", score: -0.8, allowShort: true,
			want: Sell, wantQty: 25, wantTgt: -25, wantStop: 104, wantTP: 94,
		},
		{
			name: "bearish reverses a long", score: -0.8, position: 10, allowShort: true,
			want: Sell, wantQty: 35, wantTgt: -25, wantStop: 104, wantTP: 94, wantInWhy: "from long 10 to short 25",
		},
		{name: "bullish covers and reverses a short", score: 0.5, position: -5, want: Buy, wantQty: 30, wantTgt: 25, wantStop: 96, wantTP: 106},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Params{Equity: 10_000, RiskPerTrade: tt.risk, AllowShort: tt.allowShort}
			in := Input{Symbol: "ACME", Bars: flat(30), Position: tt.position,
				Sentiment: Sentiment{Score: tt.score, Samples: 5, Source: "reddit"}}
			d, err := Decide(in, ens, p)
			require.NoError(t, err)
			require.Equal(t, tt.want, d.Action, d.Reasons)
			require.InDelta(t, tt.wantQty, d.Quantity, 1e-9)
			require.InDelta(t, tt.wantTgt, d.Target, 1e-9)
			require.InDelta(t, tt.wantStop, d.StopLoss, 1e-9)
			require.InDelta(t, tt.wantTP, d.TakeProfit, 1e-9)
			require.InDelta(t, 2, d.ATR, 1e-12)
			require.InDelta(t, math.Abs(tt.score), d.Confidence, 1e-12)
			require.Equal(t, 100.0, d.Price)
			require.Contains(t, strings.Join(d.Reasons, "\n"), tt.wantInWhy)
		})
	}
}

func TestDecideDefaultEnsembleOnARisingSeries(t *testing.T) {
	bs := trending(120, 0.01)
	d, err := Decide(Input{Symbol: "ACME", Bars: bs}, DefaultEnsemble(), Params{Equity: 10_000})
	require.NoError(t, err)
	require.Equal(t, Buy, d.Action, d.Reasons)
	require.Greater(t, d.Quantity, 0.0)
	require.Less(t, d.StopLoss, d.Price)
	require.Greater(t, d.TakeProfit, d.Price)
	require.LessOrEqual(t, d.Quantity*d.Price, 10_000.0+1e-9)
	require.Equal(t, bs[len(bs)-1].Time, d.Time)
	why := strings.Join(d.Reasons, "\n")
	for _, name := range []string{"trend (weight 1.00): +", "mean-reversion (weight 1.00): -", "momentum (weight 1.00): +", "sentiment (weight 1.00): abstains"} {
		require.Contains(t, why, name)
	}
	_, ok := d.Action.Side()
	require.True(t, ok)
}

func TestDecideErrors(t *testing.T) {
	nan := flat(30)
	nan[12].Close = math.NaN()
	tests := []struct {
		name    string
		bars    []providers.Bar
		params  Params
		wantErr error
		wantMsg string
	}{
		{name: "no equity", bars: flat(30), params: Params{}, wantErr: ErrParam, wantMsg: "equity"},
		{name: "threshold above 1", bars: flat(30), params: Params{Equity: 1, Threshold: 1.5}, wantErr: ErrParam},
		{name: "risk as percent", bars: flat(30), params: Params{Equity: 1, RiskPerTrade: 2}, wantErr: ErrParam, wantMsg: "0.01 is 1%"},
		{name: "too few bars", bars: flat(10), params: Params{Equity: 1}, wantErr: ErrParam, wantMsg: "too few for ATR(14)"},
		{name: "bad data", bars: nan, params: Params{Equity: 1}, wantErr: bars.ErrBadData, wantMsg: "bar 12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decide(Input{Bars: tt.bars}, DefaultEnsemble(), tt.params)
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorContains(t, err, tt.wantMsg)
		})
	}
}

// A decision at bar k sees only bars 0..k, and the backtests trade on the
// ensemble's Signals over the whole history: the two must agree at every
// bar, or one of them looks ahead (or they disagree on the rule).
func TestDecideMatchesSignalsWithoutLookAhead(t *testing.T) {
	bs := randomWalk(200, 5)
	e := DefaultEnsemble()
	sig := make([]float64, len(bs))
	require.NoError(t, e.Signals(sig, bs))
	for _, k := range []int{60, 99, 150, 199} {
		d, err := Decide(Input{Bars: bs[:k+1]}, e, Params{Equity: 10_000, AllowShort: true})
		require.NoError(t, err)
		require.Equal(t, bs[k].Time, d.Time)
		require.NotZero(t, d.Score, "bar %d", k)
		require.InDelta(t, sig[k], d.Score, 1e-12, "bar %d", k)
	}
}

func TestDecideOnRealData(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "providers", "sandbox", "data", "prices", "SPY_daily_2007-12-31_2017-12-29_yahoo.csv"))
	require.NoError(t, err)
	defer f.Close()
	bs, err := bars.LoadCSV(f)
	require.NoError(t, err)
	in := Input{Symbol: "SPY", Class: providers.Equity, Bars: bs, Sentiment: Sentiment{Score: 0.3, Samples: 40, Source: "reddit"}}
	d, err := Decide(in, DefaultEnsemble(), Params{Equity: 100_000})
	require.NoError(t, err)
	// At the end of 2017 the trend votes long and mean reversion short
	// (RSI 61, close in the upper half of the bands): the score is weak.
	require.Len(t, d.Votes, 4)
	for _, v := range d.Votes {
		require.False(t, v.Abstain, v.Reasons)
	}
	require.Greater(t, d.Votes[0].Signal, 0.0)
	require.Less(t, d.Votes[1].Signal, 0.0)
	require.Less(t, math.Abs(d.Score), 0.2)
	require.Equal(t, Hold, d.Action, d.Reasons)
	require.Zero(t, d.Quantity)
	require.InDelta(t, 266.86, d.Price, 0.01)
	// SPY's daily range in late 2017 was about a dollar or two.
	require.Greater(t, d.ATR, 0.5)
	require.Less(t, d.ATR, 5.0)
	require.Len(t, d.Reasons, 1+4+1) // score, one per strategy, action

	// A strong outside signal tips it: sized within the account.
	in.Sentiment.Score = 1
	e := Ensemble{Strategies: DefaultStrategies(), Weights: map[string]float64{"sentiment": 5}}
	d, err = Decide(in, e, Params{Equity: 100_000})
	require.NoError(t, err)
	require.Equal(t, Buy, d.Action, d.Reasons)
	require.LessOrEqual(t, d.Quantity*d.Price, 100_000.0*(1+1e-12))
	require.Less(t, d.StopLoss, d.Price)
}
