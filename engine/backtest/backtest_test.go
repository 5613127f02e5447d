package backtest

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/engine/bars"
	"github.com/leakgate/leakgate/engine/strategy"
	"github.com/leakgate/leakgate/providers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var nan = math.NaN()

var day0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// series builds a daily crypto series (no calendar gaps to worry about)
// from open/close pairs; high and low bracket them.
func series(t testing.TB, oc [][2]float64) *Series {
	t.Helper()
	bs := make([]providers.Bar, len(oc))
	for i, p := range oc {
		bs[i] = providers.Bar{Time: day0.AddDate(0, 0, i), Open: p[0], Close: p[1],
			High: math.Max(p[0], p[1]) + 0.5, Low: math.Min(p[0], p[1]) - 0.5}
	}
	s, err := NewSeries("TEST", providers.Crypto, bs)
	require.NoError(t, err)
	return s
}

// walk returns n bars of a seeded random walk.
func walk(t testing.TB, n int, seed uint64) *Series {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 9))
	oc := make([][2]float64, n)
	p := 100.0
	for i := range oc {
		o := p * (1 + 0.004*(r.Float64()-0.5))
		p = o * (1 + 0.03*(r.Float64()-0.5) + 0.0003)
		oc[i] = [2]float64{o, p}
	}
	return series(t, oc)
}

func loadSeries(t testing.TB, file, symbol string, class providers.AssetClass) *Series {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "providers", "sandbox", "data", "prices", file))
	require.NoError(t, err)
	defer f.Close()
	bs, err := bars.LoadCSV(f)
	require.NoError(t, err)
	s, err := NewSeries(symbol, class, bs)
	require.NoError(t, err)
	return s
}

func TestEquityMetricsByHand(t *testing.T) {
	// Returns: +10%, -10%, +10%.
	// mean = 0.1/3; sample variance = (0.0667² + 0.1333² + 0.0667²)/2 = 0.04/3;
	// sd = sqrt(0.04/3) = 0.11547.
	// Sharpe  = (0.1/3)/0.11547 · sqrt(252) = 0.288675 · 15.874508 = 4.582576
	// downside deviation = sqrt(0.1²/3) = 0.057735
	// Sortino = (0.1/3)/0.057735 · sqrt(252) = 0.57735 · 15.874508 = 9.165151
	// max drawdown = 1 - 99/110 = 0.1; total return = 108.9/100 - 1 = 0.089
	// CAGR = 1.089^(252/3) - 1.
	m, err := EquityMetrics([]float64{100, 110, 99, 108.9}, 252, 0)
	require.NoError(t, err)
	require.Equal(t, 4, m.Bars)
	require.InDelta(t, 108.9, m.FinalEquity, 1e-12)
	require.InDelta(t, 0.089, m.TotalReturn, 1e-12)
	require.InDelta(t, 4.582576, m.Sharpe, 1e-6)
	require.InDelta(t, 9.165151, m.Sortino, 1e-6)
	require.InDelta(t, 0.11547005*15.8745079, m.Volatility, 1e-6)
	require.InDelta(t, 0.1, m.MaxDrawdown, 1e-12)
	require.InDelta(t, math.Pow(1.089, 84)-1, m.CAGR, 1e-6)

	// A constant return has no deviation: Sharpe and Sortino are 0, not Inf.
	m, err = EquityMetrics([]float64{100, 101, 102.01, 103.0301}, 252, 0)
	require.NoError(t, err)
	require.Zero(t, m.Sharpe)
	require.Zero(t, m.Sortino)
	require.Zero(t, m.MaxDrawdown)

	_, err = EquityMetrics([]float64{100}, 252, 0)
	require.ErrorIs(t, err, ErrParam)
	_, err = EquityMetrics([]float64{100, nan}, 252, 0)
	require.ErrorIs(t, err, ErrParam)
}

// fiveBars: open/close of each bar.
var fiveBars = [][2]float64{{10, 10}, {11, 12}, {12, 13}, {14, 12}, {11, 10}}

func TestRunByHand(t *testing.T) {
	const c = 1000.0
	n := c / 1.001 // notional after a 10 bps fee, 999.000999
	tests := []struct {
		name       string
		signals    []float64
		cfg        Config
		wantEquity []float64
		wantTrade  Trade
		wantTrades int
		wantFees   float64
		exposure   float64
	}{
		{
			// Signal +1 at bar 0 buys at bar 1's open (11) with all 1000:
			// units = 1000/1.001/11 = 90.81827. Signal -1 at bar 2 sells at
			// bar 3's open (14): cash = units·14·0.999 = 1270.18436.
			name:       "long with fees",
			signals:    []float64{1, 1, -1, nan, nan},
			cfg:        Config{Capital: c, FeeBps: 10},
			wantEquity: []float64{c, n / 11 * 12, n / 11 * 13, n / 11 * 14 * 0.999, n / 11 * 14 * 0.999},
			wantTrade: Trade{Direction: Long, EntryIndex: 1, ExitIndex: 3, EntryPrice: 11, ExitPrice: 14,
				Units: n / 11, PnL: n/11*14*0.999 - c, Return: n/11*14*0.999/c - 1},
			wantTrades: 1,
			wantFees:   n*0.001 + n/11*14*0.001,
			exposure:   0.5, // held at the closes of bars 1 and 2, of 4 periods
		},
		{
			// Short the same bars: cash after the entry = 1000 + N - N·0.001;
			// the cover at 14 costs units·14·1.001:
			// cash = 1000 + 999.000999·0.999 - 999.000999/11·14·1.001 = 725.274725.
			// Signal +1 at bar 2 also reverses into a long at 14:
			// units = 725.274725/1.001/14, worth ·12 at bar 3 and ·10 at bar 4.
			name:    "short with fees, then reverse",
			signals: []float64{-1, -1, 1, nan, nan},
			cfg:     Config{Capital: c, FeeBps: 10, AllowShort: true},
			wantEquity: []float64{c, c + n*0.999 - n/11*12, c + n*0.999 - n/11*13,
				(c + n*0.999 - n/11*14*1.001) / 1.001 / 14 * 12, (c + n*0.999 - n/11*14*1.001) / 1.001 / 14 * 10},
			wantTrade: Trade{Direction: Short, EntryIndex: 1, ExitIndex: 3, EntryPrice: 11, ExitPrice: 14,
				Units: n / 11, PnL: n*0.999 - n/11*14*1.001, Return: (n*0.999 - n/11*14*1.001) / c},
			wantTrades: 2,
			wantFees:   n*0.001 + n/11*14*0.001 + (c+n*0.999-n/11*14*1.001)/1.001*0.001,
			exposure:   1,
		},
		{
			// 50 bps slippage: buy fills at 11·1.005 = 11.055, sell at 14·0.995 = 13.93.
			// cash = 1000/11.055·13.93 = 1260.07237
			name:       "long with slippage",
			signals:    []float64{1, 1, -1, nan, nan},
			cfg:        Config{Capital: c, SlippageBps: 50},
			wantEquity: []float64{c, c / 11.055 * 12, c / 11.055 * 13, c / 11.055 * 13.93, c / 11.055 * 13.93},
			wantTrade: Trade{Direction: Long, EntryIndex: 1, ExitIndex: 3, EntryPrice: 11.055, ExitPrice: 13.93,
				Units: c / 11.055, PnL: c/11.055*13.93 - c, Return: 13.93/11.055 - 1},
			wantTrades: 1,
			exposure:   0.5,
		},
		{
			// Between the thresholds the position is held: 0.3 enters, 0.1
			// and -0.1 hold, -0.3 exits at bar 4's open (11).
			name:       "threshold holds",
			signals:    []float64{0.3, 0.1, -0.1, -0.3, nan},
			cfg:        Config{Capital: c, Threshold: 0.2},
			wantEquity: []float64{c, c / 11 * 12, c / 11 * 13, c / 11 * 12, c},
			wantTrade: Trade{Direction: Long, EntryIndex: 1, ExitIndex: 4, EntryPrice: 11, ExitPrice: 11,
				Units: c / 11, PnL: 0, Return: 0},
			wantTrades: 1,
			exposure:   0.75,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := series(t, fiveBars)
			res, err := Run(s, tt.signals, tt.cfg)
			require.NoError(t, err)
			require.Len(t, res.Equity, 5)
			for i := range tt.wantEquity {
				require.InDeltaf(t, tt.wantEquity[i], res.Equity[i], 1e-9, "equity %d", i)
			}
			require.Len(t, res.TradeLog, tt.wantTrades)
			got := res.TradeLog[0]
			tt.wantTrade.EntryTime, tt.wantTrade.ExitTime = s.Bars[tt.wantTrade.EntryIndex].Time, s.Bars[tt.wantTrade.ExitIndex].Time
			require.InDelta(t, tt.wantTrade.EntryPrice, got.EntryPrice, 1e-12)
			require.InDelta(t, tt.wantTrade.ExitPrice, got.ExitPrice, 1e-12)
			require.InDelta(t, tt.wantTrade.Units, got.Units, 1e-9)
			require.InDelta(t, tt.wantTrade.PnL, got.PnL, 1e-9)
			require.InDelta(t, tt.wantTrade.Return, got.Return, 1e-12)
			got.EntryPrice, got.ExitPrice, got.Units, got.PnL, got.Return = tt.wantTrade.EntryPrice, tt.wantTrade.ExitPrice, tt.wantTrade.Units, tt.wantTrade.PnL, tt.wantTrade.Return
			require.Equal(t, tt.wantTrade, got)

			require.Equal(t, tt.wantTrades, res.Metrics.Trades)
			require.InDelta(t, tt.wantFees, res.Fees, 1e-9)
			require.InDelta(t, tt.exposure, res.Exposure, 1e-12)
			require.InDelta(t, tt.wantEquity[4]/c-1, res.TotalReturn, 1e-12)
			require.Equal(t, s.Bars[4].Time, res.Times[4])
		})
	}
}

// Fees of f per side scale a round trip by (1-f)/(1+f) and an open
// position (no exit cost) by 1/(1+f).
func TestFeesReduceReturnByTheExpectedAmount(t *testing.T) {
	s := walk(t, 300, 1)
	tests := []struct {
		name    string
		signals func(n int) []float64
		factor  float64
	}{
		{name: "round trip", signals: func(n int) []float64 {
			sig := make([]float64, n)
			for i := range sig {
				sig[i] = 1
				if i >= 200 {
					sig[i] = -1
				}
			}
			return sig
		}, factor: (1 - 0.0025) / (1 + 0.0025)},
		{name: "held to the end", signals: func(n int) []float64 {
			sig := make([]float64, n)
			for i := range sig {
				sig[i] = 1
			}
			return sig
		}, factor: 1 / (1 + 0.0025)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := tt.signals(s.Len())
			free, err := Run(s, sig, Config{})
			require.NoError(t, err)
			paid, err := Run(s, sig, Config{FeeBps: 25})
			require.NoError(t, err)
			require.InDelta(t, tt.factor, paid.FinalEquity/free.FinalEquity, 1e-12)
			require.Less(t, paid.TotalReturn, free.TotalReturn)
		})
	}
}

// A signal is traded at the next bar's open: changing bar k, or the signal
// of bar k, never changes the equity before k (or at k, for the signal).
func TestNoLookAhead(t *testing.T) {
	const k = 150
	s := walk(t, 300, 2)
	var b Backtester
	base, err := b.SMACross(s, 10, 40, Config{AllowShort: true, FeeBps: 5})
	require.NoError(t, err)
	before := append([]float64(nil), b.Equity()...)

	bs := append([]providers.Bar(nil), s.Bars...)
	bs[k].Close *= 1.4
	bs[k].High *= 1.4
	bs[k].Open *= 0.8
	bs[k].Low *= 0.8
	changed, err := NewSeries(s.Symbol, s.Class, bs)
	require.NoError(t, err)
	after, err := b.SMACross(changed, 10, 40, Config{AllowShort: true, FeeBps: 5})
	require.NoError(t, err)
	require.Equal(t, before[:k], b.Equity()[:k])
	require.NotEqual(t, base.FinalEquity, after.FinalEquity)

	sig := make([]float64, s.Len())
	smaSignals(sig, s.cum, SMAParams{10, 40})
	r1, err := Run(s, sig, Config{AllowShort: true})
	require.NoError(t, err)
	sig[k] = -sig[k]
	if sig[k] == 0 {
		sig[k] = 1
	}
	r2, err := Run(s, sig, Config{AllowShort: true})
	require.NoError(t, err)
	require.Equal(t, r1.Equity[:k+1], r2.Equity[:k+1])
}

// The fast path agrees with the generic path on strategy.SMACross signals.
func TestSMACrossMatchesStrategy(t *testing.T) {
	tests := []struct {
		name string
		s    *Series
		cfg  Config
	}{
		{name: "random walk long-only", s: walk(t, 800, 3), cfg: Config{FeeBps: 5, SlippageBps: 2}},
		{name: "random walk long/short", s: walk(t, 800, 4), cfg: Config{AllowShort: true, FeeBps: 5}},
		{name: "AAPL", s: loadSeries(t, "AAPL_daily_2004-08-19_2018-01-19_yahoo.csv", "AAPL", providers.Equity), cfg: Config{FeeBps: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Backtester
			fast, err := b.SMACross(tt.s, 20, 100, tt.cfg)
			require.NoError(t, err)
			slow, err := RunStrategy(tt.s, strategy.SMACross{Fast: 20, Slow: 100}, tt.cfg)
			require.NoError(t, err)
			require.Greater(t, slow.Metrics.Trades, 3)
			require.InDelta(t, slow.FinalEquity, fast.FinalEquity, 1e-6*slow.FinalEquity)
			require.InDelta(t, slow.Sharpe, fast.Sharpe, 1e-9)
			require.Equal(t, slow.Metrics.Trades, fast.Trades)
			require.Equal(t, slow.Wins, fast.Wins)
			require.InDelta(t, slow.Exposure, fast.Exposure, 1e-12)
			for i := range slow.Equity {
				require.InDelta(t, slow.Equity[i], b.Equity()[i], 1e-6*slow.Equity[i])
			}
		})
	}
}

func TestBuyAndHoldSPY(t *testing.T) {
	s := loadSeries(t, "SPY_daily_2007-12-31_2017-12-29_yahoo.csv", "SPY", providers.Equity)
	sig := make([]float64, s.Len())
	for i := range sig {
		sig[i] = 1
	}
	const fee, slip = 0.0005, 0.0001
	res, err := Run(s, sig, Config{FeeBps: 5, SlippageBps: 1})
	require.NoError(t, err)
	first, last := s.Close[0], s.Close[s.Len()-1]
	// Bought at the second bar's open, after slippage and fee; never sold.
	want := last/(s.Open[1]*(1+slip)*(1+fee)) - 1
	require.InDelta(t, want, res.TotalReturn, 1e-12)
	// Close to the close-to-close return 266.86/146.21 - 1 = 0.8252: the
	// difference is the first overnight gap, 1.8252·(1 - 146.21/146.53) =
	// 0.0040, plus the costs, 1.8252·0.0006 = 0.0011.
	require.InDelta(t, last/first-1, res.TotalReturn, 0.006)
	require.Equal(t, 1, res.Metrics.Trades)
	require.True(t, res.TradeLog[0].Open)
	// SPY fell about 55% from October 2007 to March 2009 (unadjusted closes).
	require.InDelta(t, 0.55, res.MaxDrawdown, 0.03)
	require.InDelta(t, math.Pow(1+res.TotalReturn, 252.0/float64(s.Len()-1))-1, res.CAGR, 1e-12)
	require.Greater(t, res.Sharpe, 0.2)
	require.Less(t, res.Sharpe, 0.8)
	require.InDelta(t, 1, res.Exposure, 1e-12)
}

func TestStrategiesOnRealData(t *testing.T) {
	aapl := loadSeries(t, "AAPL_daily_2004-08-19_2018-01-19_yahoo.csv", "AAPL", providers.Equity)
	btc := loadSeries(t, "BTC-USD_daily_2014-12-01_2018-08-13_coinbase.csv", "BTC-USD", providers.Crypto)
	eur := loadSeries(t, "EUR_USD_daily_2007-01-01_2018-12-31_oanda.csv", "EUR_USD", providers.Forex)
	tests := []struct {
		name string
		s    *Series
		st   Signaler
		cfg  Config
	}{
		{name: "AAPL ensemble", s: aapl, st: strategy.DefaultEnsemble(), cfg: Config{FeeBps: 5, Threshold: 0.2}},
		{name: "BTC trend long/short", s: btc, st: strategy.Trend{}, cfg: Config{FeeBps: 10, AllowShort: true}},
		{name: "EUR/USD mean reversion", s: eur, st: strategy.MeanReversion{}, cfg: Config{FeeBps: 1, AllowShort: true, Threshold: 0.3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := RunStrategy(tt.s, tt.st, tt.cfg)
			require.NoError(t, err)
			require.Greater(t, res.Metrics.Trades, 5)
			require.Len(t, res.TradeLog, res.Metrics.Trades)
			require.Greater(t, res.FinalEquity, 0.0)
			require.False(t, math.IsNaN(res.Sharpe))
			require.GreaterOrEqual(t, res.MaxDrawdown, 0.0)
			require.LessOrEqual(t, res.MaxDrawdown, 1.0)
			require.Greater(t, res.Exposure, 0.0)
			require.Less(t, res.Exposure, 1.0)
			for _, tr := range res.TradeLog {
				require.Less(t, tr.EntryIndex, tr.ExitIndex+1)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	s := series(t, fiveBars)
	sig := make([]float64, 5)
	var b Backtester
	tests := []struct {
		name    string
		call    func() error
		wantMsg string
	}{
		{"signals length", func() error { _, err := Run(s, sig[:3], Config{}); return err }, "3 signals for 5 bars"},
		{"negative fee", func() error { _, err := Run(s, sig, Config{FeeBps: -1}); return err }, "fee -1 bps"},
		{"threshold 1", func() error { _, err := Run(s, sig, Config{Threshold: 1}); return err }, "threshold 1"},
		{"negative capital", func() error { _, err := Run(s, sig, Config{Capital: -5}); return err }, "capital -5"},
		{"nil series", func() error { _, err := Run(nil, sig, Config{}); return err }, "nil series"},
		{"fast not below slow", func() error { _, err := b.SMACross(s, 3, 3, Config{}); return err }, "1 ≤ fast < slow"},
		{"slow longer than series", func() error { _, err := b.SMACross(s, 2, 9, Config{}); return err }, "needs 9 bars, the series has 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.ErrorIs(t, err, ErrParam)
			require.ErrorContains(t, err, tt.wantMsg)
		})
	}
}

func TestNewSeriesRefusesBadData(t *testing.T) {
	bs := []providers.Bar{
		{Time: day0, Open: 1, High: 2, Low: 0.5, Close: 1},
		{Time: day0.AddDate(0, 0, 1), Open: 1, High: 2, Low: 0.5, Close: nan},
	}
	_, err := NewSeries("X", providers.Crypto, bs)
	require.ErrorIs(t, err, bars.ErrBadData)
	require.ErrorContains(t, err, "backtest X:")
	_, err = NewSeries("X", providers.Crypto, bs[:1])
	require.ErrorIs(t, err, ErrParam)
}

func TestSMACrossDoesNotAllocate(t *testing.T) {
	s := walk(t, 2520, 5)
	var b Backtester
	_, err := b.SMACross(s, 50, 200, Config{FeeBps: 5})
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(20, func() {
		_, _ = b.SMACross(s, 50, 200, Config{FeeBps: 5})
	})
	require.Zero(t, allocs)
}

// The trade count and the trade log both survive JSON encoding.
func TestResultJSON(t *testing.T) {
	res, err := Run(series(t, fiveBars), []float64{1, 1, -1, nan, nan}, Config{})
	require.NoError(t, err)
	out, err := json.Marshal(res)
	require.NoError(t, err)
	require.Contains(t, string(out), `"trades":1,`)
	require.Contains(t, string(out), `"trade_log":[{"direction":"long","entry_index":1,"exit_index":3`)
}
