package backtest

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
)

// up and down rise and fall 10% a bar, opening at the previous close.
var (
	up   = [][2]float64{{10, 10}, {10, 11}, {11, 12.1}, {12.1, 13.31}}
	down = [][2]float64{{10, 10}, {10, 9}, {9, 8.1}, {8.1, 7.29}}
)

func TestPortfolioByHand(t *testing.T) {
	tests := []struct {
		name       string
		rebalance  int
		wantEquity []float64
		wantRebal  int
	}{
		{
			// Bar 1 open: 500 each at 10, 50 units of each.
			// Closes: 50·11+50·9 = 1000; 50·12.1+50·8.1 = 1010; 50·13.31+50·7.29 = 1030.
			name: "buy and hold", rebalance: -1,
			wantEquity: []float64{1000, 1000, 1010, 1030}, wantRebal: 1,
		},
		{
			// Every bar back to 500/500 at the open, then +10% and -10%
			// cancel out: 500·1.1 + 500·0.9 = 1000 at every close.
			name: "rebalance every bar", rebalance: 1,
			wantEquity: []float64{1000, 1000, 1000, 1000}, wantRebal: 3,
		},
		{
			// Bar 1 and bar 3 rebalance: at bar 3's open, 1010 → 505 each:
			// 505/12.1·13.31 + 505/8.1·7.29 = 555.5 + 454.5 = 1010.
			name: "rebalance every 2 bars", rebalance: 2,
			wantEquity: []float64{1000, 1000, 1010, 1010}, wantRebal: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := series(t, up), series(t, down)
			res, err := Portfolio([]Asset{{Series: a, Weight: 0.5}, {Series: b, Weight: 0.5}},
				PortfolioConfig{Config: Config{Capital: 1000}, Rebalance: tt.rebalance})
			require.NoError(t, err)
			require.Len(t, res.Equity, 4)
			for i, w := range tt.wantEquity {
				require.InDeltaf(t, w, res.Equity[i], 1e-9, "equity %d", i)
			}
			require.Equal(t, tt.wantRebal, res.Rebalances)
			require.Equal(t, []int{0, 0}, res.Dropped)
			require.Equal(t, 2, res.Metrics.Trades)
			require.Equal(t, 1, res.Wins) // the rising asset
			require.InDelta(t, 1, res.Exposure, 1e-9)
		})
	}
}

func TestPortfolioAlignsCalendars(t *testing.T) {
	a := series(t, [][2]float64{{10, 10}, {10, 11}, {11, 12}, {12, 13}, {13, 14}})
	bs := append([]providers.Bar(nil), series(t, [][2]float64{{20, 20}, {20, 21}, {21, 22}, {22, 23}, {23, 24}}).Bars...)
	bs = append(bs[:2], bs[3:]...) // b has no bar on day 2
	b, err := NewSeries("B", providers.Crypto, bs)
	require.NoError(t, err)
	res, err := Portfolio([]Asset{{Series: a, Weight: 0.5}, {Series: b, Weight: 0.5}}, PortfolioConfig{Rebalance: -1})
	require.NoError(t, err)
	require.Equal(t, []int{1, 0}, res.Dropped)
	require.Equal(t, a.Bars[3].Time, res.Times[2]) // day 2 is skipped
	require.Len(t, res.Equity, 4)
	// 5000 at 10 and 5000 at 20 on day 1; closes on day 4: 500·14 + 250·24 = 13000.
	require.InDelta(t, 13000, res.FinalEquity, 1e-9)
}

// One asset at full weight, trading only on its signals, is the
// single-symbol backtest.
func TestPortfolioOfOneMatchesRun(t *testing.T) {
	s := walk(t, 600, 31)
	sig := make([]float64, s.Len())
	smaSignals(sig, s.cum, SMAParams{10, 50})
	cfg := Config{FeeBps: 7, SlippageBps: 3}
	single, err := Run(s, sig, cfg)
	require.NoError(t, err)
	port, err := Portfolio([]Asset{{Series: s, Weight: 1, Signals: sig}}, PortfolioConfig{Config: cfg, Rebalance: -1})
	require.NoError(t, err)
	require.Len(t, port.Equity, len(single.Equity))
	for i := range single.Equity {
		require.InDelta(t, single.Equity[i], port.Equity[i], 1e-9*single.Equity[i])
	}
	require.Equal(t, single.Metrics.Trades, port.Metrics.Trades)
	require.Equal(t, single.Wins, port.Wins)
	require.InDelta(t, single.Fees, port.Fees, 1e-9)
	require.InDelta(t, single.Sharpe, port.Sharpe, 1e-9)
}

func TestPortfolioSPYAndBitcoin(t *testing.T) {
	spy := loadSeries(t, "SPY_daily_2007-12-31_2017-12-29_yahoo.csv", "SPY", providers.Equity)
	btc := loadSeries(t, "BTC-USD_daily_2014-12-01_2018-08-13_coinbase.csv", "BTC-USD", providers.Crypto)
	res, err := Portfolio([]Asset{{Series: spy, Weight: 0.8}, {Series: btc, Weight: 0.2}},
		PortfolioConfig{Config: Config{FeeBps: 10}})
	require.NoError(t, err)
	// Common days: SPY's trading days from December 2014 on that Coinbase
	// also has; all weekend BTC bars fall out.
	require.Greater(t, len(res.Equity), 700)
	require.Greater(t, res.Dropped[0], 1700)
	require.Greater(t, res.Dropped[1], 400)
	require.Greater(t, res.TotalReturn, 0.5) // bitcoin rose twentyfold
	require.False(t, math.IsNaN(res.Sharpe))
	require.InDelta(t, 1, res.Weights[0]+res.Weights[1], 0.01)
	require.Greater(t, res.Rebalances, 30)
}

func TestPortfolioErrors(t *testing.T) {
	a := series(t, up)
	late := walk(t, 10, 1)
	for i := range late.Bars {
		late.Bars[i].Time = late.Bars[i].Time.AddDate(1, 0, 0)
	}
	tests := []struct {
		name    string
		assets  []Asset
		cfg     PortfolioConfig
		wantMsg string
	}{
		{name: "none", wantMsg: "no assets"},
		{name: "weights above 1", assets: []Asset{{Series: a, Weight: 0.7}, {Series: a, Weight: 0.6}}, wantMsg: "weights sum to 1.3"},
		{name: "zero weights", assets: []Asset{{Series: a}}, wantMsg: "weights sum to 0"},
		{name: "negative weight", assets: []Asset{{Series: a, Weight: -0.1}}, wantMsg: "weight -0.1 of TEST"},
		{name: "signal count", assets: []Asset{{Series: a, Weight: 1, Signals: []float64{1}}}, wantMsg: "1 signals for the 4 bars"},
		{name: "no overlap", assets: []Asset{{Series: a, Weight: 0.5}, {Series: late, Weight: 0.5}}, wantMsg: "share 0 bar times"},
		{name: "bad fee", assets: []Asset{{Series: a, Weight: 1}}, cfg: PortfolioConfig{Config: Config{FeeBps: math.NaN()}}, wantMsg: "fee NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Portfolio(tt.assets, tt.cfg)
			require.ErrorIs(t, err, ErrParam)
			require.ErrorContains(t, err, tt.wantMsg)
		})
	}
}
