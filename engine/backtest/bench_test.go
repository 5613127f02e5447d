package backtest

import (
	"testing"

	"github.com/leakgate/leakgate/engine/strategy"
	"github.com/leakgate/leakgate/providers"
)

// BenchmarkSMACross backtests a 50/200 SMA cross over ten years of daily
// SPY bars (2,519). Target: under 50 µs and zero allocations per run.
func BenchmarkSMACross(b *testing.B) {
	s := loadSeries(b, "SPY_daily_2007-12-31_2017-12-29_yahoo.csv", "SPY", providers.Equity)
	cfg := Config{FeeBps: 5, SlippageBps: 2, AllowShort: true}
	var bt Backtester
	if _, err := bt.SMACross(s, 50, 200, cfg); err != nil { // size the buffers
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bt.SMACross(s, 50, 200, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(s.Len()), "ns/bar")
}

// BenchmarkRunStrategy is the generic path for comparison: signals from a
// strategy, a trade list and freshly allocated results.
func BenchmarkRunEnsemble(b *testing.B) {
	s := loadSeries(b, "SPY_daily_2007-12-31_2017-12-29_yahoo.csv", "SPY", providers.Equity)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RunStrategy(s, ensembleForBench, Config{FeeBps: 5, Threshold: 0.2}); err != nil {
			b.Fatal(err)
		}
	}
}

var ensembleForBench = strategy.DefaultEnsemble()

// benchWalkForwardConfig is a 10×10 SMA grid over two-year training and
// half-year test windows.
func benchWalkForwardConfig() WalkForwardConfig {
	return WalkForwardConfig{
		Config: Config{FeeBps: 5, SlippageBps: 2},
		Train:  504, Test: 126,
		Grid: SMAGrid([]int{5, 10, 15, 20, 25, 30, 35, 40, 45, 50}, []int{60, 80, 100, 120, 140, 160, 180, 200, 220, 240}),
	}
}

// BenchmarkWalkForward runs walk-forward over ten years of daily SPY bars
// with a 100-point grid. Target: under 50 ms.
func BenchmarkWalkForward(b *testing.B) {
	s := loadSeries(b, "SPY_daily_2007-12-31_2017-12-29_yahoo.csv", "SPY", providers.Equity)
	cfg := benchWalkForwardConfig()
	if len(cfg.Grid) != 100 {
		b.Fatalf("grid has %d points, want 100", len(cfg.Grid))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := WalkForward(b.Context(), s, cfg); err != nil {
			b.Fatal(err)
		}
	}
}
