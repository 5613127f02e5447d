package montecarlo

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkRun bootstraps 10,000 paths of 252 days from ten years of
// daily returns on every core. Target: under 50 ms.
func BenchmarkRun(b *testing.B) {
	for _, block := range []int{1, 20} {
		name := "iid"
		if block > 1 {
			name = "block20"
		}
		b.Run(name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			returns := make([]float64, 2520)
			for i := range returns {
				returns[i] = 0.0004 + 0.012*r.NormFloat64()
			}
			cfg := Config{Sims: 10_000, Days: 252, Seed: 7, Block: block}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Run(b.Context(), returns, cfg); err != nil {
					b.Fatal(err)
				}
			}
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(float64(cfg.Sims)/perOp*1e9, "sims/s")
			b.ReportMetric(perOp/float64(cfg.Sims*cfg.Days), "ns/draw")
		})
	}
}
