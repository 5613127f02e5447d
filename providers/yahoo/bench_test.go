package yahoo_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/yahoo"
)

// largeChart builds a ten-year daily chart (2520 sessions) in the exact
// shape of the recorded AAPL chart: its meta, a timestamp per session at
// the New York open, the five quote arrays, adjclose, and quarterly
// dividends and one split. Prices are float32 values widened to float64,
// as Yahoo prints them.
func largeChart(tb testing.TB) ([]byte, int) {
	tb.Helper()
	var rec struct {
		Chart struct {
			Result []struct {
				Meta json.RawMessage `json:"meta"`
			} `json:"result"`
		} `json:"chart"`
	}
	require.NoError(tb, json.Unmarshal(fixture(tb, "v8_chart_AAPL_1d_2020-08-31_2020-11-07_with_split_dividend.json"), &rec))

	const n = 2520
	type event = map[string]any
	ts := make([]int64, 0, n)
	var open, high, low, closes, adj []json.Number
	var volume []int64
	divs, splits := map[string]event{}, map[string]event{}
	rng := rand.New(rand.NewPCG(1, 2))
	num := func(x float64) json.Number {
		return json.Number(strconv.FormatFloat(float64(float32(x)), 'g', -1, 64))
	}
	price := 30.0
	for d := time.Date(2014, 1, 2, 14, 30, 0, 0, time.UTC); len(ts) < n; d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		o := price * (1 + rng.NormFloat64()*0.005)
		c := o * (1 + rng.NormFloat64()*0.015)
		h := math.Max(o, c) * (1 + rng.Float64()*0.01)
		l := math.Min(o, c) * (1 - rng.Float64()*0.01)
		ts = append(ts, d.Unix())
		open, high, low, closes = append(open, num(o)), append(high, num(h)), append(low, num(l)), append(closes, num(c))
		adj = append(adj, num(c*0.97))
		volume = append(volume, 50_000_000+rng.Int64N(150_000_000))
		key := strconv.FormatInt(d.Unix(), 10)
		if len(ts)%63 == 0 {
			divs[key] = event{"amount": 0.205, "date": d.Unix()}
		}
		if len(ts) == 1600 {
			splits[key] = event{"date": d.Unix(), "numerator": 4, "denominator": 1, "splitRatio": "4:1"}
		}
		price = c
	}
	doc := map[string]any{"chart": map[string]any{"result": []any{map[string]any{
		"meta":      rec.Chart.Result[0].Meta,
		"timestamp": ts,
		"events":    map[string]any{"dividends": divs, "splits": splits},
		"indicators": map[string]any{
			"quote":    []any{map[string]any{"open": open, "high": high, "low": low, "close": closes, "volume": volume}},
			"adjclose": []any{map[string]any{"adjclose": adj}},
		},
	}}, "error": nil}}
	body, err := json.Marshal(doc)
	require.NoError(tb, err)
	return body, n
}

// BenchmarkParseChart10y decodes a ten-year daily chart (about 330 KB).
func BenchmarkParseChart10y(b *testing.B) {
	body, n := largeChart(b)
	benchChart(b, body, n)
}

// BenchmarkParseChartFixture decodes the recorded 49-bar chart.
func BenchmarkParseChartFixture(b *testing.B) {
	benchChart(b, fixture(b, "v8_chart_AAPL_1d_2020-08-31_2020-11-07_with_split_dividend.json"), 49)
}

// benchChart benchmarks ParseChart on body, which must hold n bars.
func benchChart(b *testing.B, body []byte, n int) {
	ch, err := yahoo.ParseChart(body)
	require.NoError(b, err)
	require.Len(b, ch.Bars, n)
	providertest.BenchParse(b, body, n, "bar", func(p []byte) error { _, err := yahoo.ParseChart(p); return err })
}
