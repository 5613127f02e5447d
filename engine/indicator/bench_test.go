package indicator

import "testing"

// benchBars is ten years of daily bars.
const benchBars = 2520

func benchIndicator(b *testing.B, f func(out [][]float64, high, low, closes []float64) error) {
	high, low, closes := randomBars(benchBars, 1)
	out := newOut(benchBars)
	b.ReportAllocs()
	for b.Loop() {
		if err := f(out, high, low, closes); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchBars, "ns/bar")
}

func BenchmarkSMAInto(b *testing.B) {
	benchIndicator(b, func(out [][]float64, _, _, c []float64) error { return SMAInto(out[0], c, 50) })
}

func BenchmarkEMAInto(b *testing.B) {
	benchIndicator(b, func(out [][]float64, _, _, c []float64) error { return EMAInto(out[0], c, 50) })
}

func BenchmarkMACDInto(b *testing.B) {
	benchIndicator(b, func(out [][]float64, _, _, c []float64) error {
		return MACDInto(out[0], out[1], out[2], c, 12, 26, 9)
	})
}

func BenchmarkRSIInto(b *testing.B) {
	benchIndicator(b, func(out [][]float64, _, _, c []float64) error { return RSIInto(out[0], c, 14) })
}

func BenchmarkBollingerInto(b *testing.B) {
	benchIndicator(b, func(out [][]float64, _, _, c []float64) error {
		return BollingerInto(out[0], out[1], out[2], c, 20, 2)
	})
}

func BenchmarkATRInto(b *testing.B) {
	benchIndicator(b, func(out [][]float64, h, l, c []float64) error { return ATRInto(out[0], h, l, c, 14) })
}
