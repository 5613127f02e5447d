package polygon_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/polygon"
)

func TestParseAggsGrouped(t *testing.T) {
	// The grouped-daily answer has the aggregates shape with a "T" per result.
	a, err := polygon.ParseAggs(fixture(t, "v2_aggs_grouped_us_stocks_2005-04-04.json"))
	require.NoError(t, err)
	require.Equal(t, "OK", a.Status)
	require.Equal(t, []providers.Bar{{Time: time.UnixMilli(1602705600000).UTC(), Open: 9.99, High: 10.02, Low: 9.9, Close: 10.02, Volume: 895345}}, a.Bars)
}

func TestParseAggsPage(t *testing.T) {
	a, err := polygon.ParseAggs(fixture(t, aggsFixture))
	require.NoError(t, err)
	require.Equal(t, polygon.Aggs{Ticker: "AAPL", Status: "OK", Bars: []providers.Bar{aggsFirst, aggsLast}}, a)

	a, err = polygon.ParseAggs([]byte(emptyAggsBody))
	require.NoError(t, err, "no results is an empty page")
	require.Empty(t, a.Bars)

	// Exponent spellings of integral times and fractional volumes are read.
	a, err = polygon.ParseAggs([]byte(`{"status":"DELAYED","results":[{"o":1,"h":2,"l":0.5,"c":1.5,"v":12.25,"t":1.1123316e12}],"next_url":"https://api.polygon.io/x"}`))
	require.NoError(t, err)
	require.Equal(t, "https://api.polygon.io/x", a.NextURL)
	require.Equal(t, providers.Bar{Time: time.UnixMilli(1112331600000).UTC(), Open: 1, High: 2, Low: 0.5, Close: 1.5, Volume: 12.25}, a.Bars[0])
}

// seedFixtures adds every recorded Polygon answer, and the error shapes of
// the tests, to f's corpus.
func seedFixtures(f *testing.F) {
	f.Helper()
	providertest.SeedUpstream(f, "polygon", unknownKeyBody, tooManyBody, notFoundBody, emptyAggsBody, htmlBody, notUTF8HTML,
		`{"status":"OK","results":[{"o":NaN,"h":Inf,"l":1,"c":1,"v":1,"t":1e30}]}`)
}

func typed(err error, sentinels ...error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

func FuzzParseAggs(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := polygon.ParseAggs(body)
		if err != nil {
			require.True(t, typed(err, providers.ErrDecode), "untyped error: %v", err)
			return
		}
		for i, b := range a.Bars {
			require.Equal(t, time.UTC, b.Time.Location())
			require.True(t, finite(b.Open, b.High, b.Low, b.Close, b.Volume), "%v", b)
			if i > 0 {
				require.True(t, a.Bars[i-1].Time.Before(b.Time))
			}
		}
	})
}

func FuzzParseLastTrade(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		tr, err := polygon.ParseLastTrade(body)
		if err != nil {
			require.True(t, typed(err, providers.ErrDecode), "untyped error: %v", err)
			return
		}
		require.True(t, finite(tr.Price, tr.Size))
	})
}

func FuzzParseLastCryptoTrade(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		tr, err := polygon.ParseLastCryptoTrade(body)
		if err != nil {
			require.True(t, typed(err, providers.ErrDecode), "untyped error: %v", err)
			return
		}
		require.True(t, finite(tr.Price, tr.Size))
	})
}

func FuzzParseLastForexQuote(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := polygon.ParseLastForexQuote(body)
		if err != nil {
			require.True(t, typed(err, providers.ErrDecode), "untyped error: %v", err)
			return
		}
		require.True(t, finite(q.Bid, q.Ask))
	})
}

func FuzzParseLastNBBO(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := polygon.ParseLastNBBO(body)
		if err != nil {
			require.True(t, typed(err, providers.ErrDecode), "untyped error: %v", err)
			return
		}
		require.True(t, finite(q.Bid, q.Ask, q.BidSize, q.AskSize))
	})
}

func FuzzParseOpenClose(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		oc, err := polygon.ParseOpenClose(body)
		if err != nil {
			require.True(t, typed(err, providers.ErrDecode), "untyped error: %v", err)
			return
		}
		require.True(t, finite(oc.Open, oc.High, oc.Low, oc.Close, oc.Volume, oc.PreMarket, oc.AfterHours))
	})
}

func FuzzErrorBody(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		status, _, ok := polygon.ErrorBody(body)
		if ok {
			require.Contains(t, []string{"ERROR", "NOT_AUTHORIZED", "NOT_FOUND"}, status)
		}
	})
}

// largeAggs builds an aggregates answer of n daily bars in the wire form
// the API sends: compact JSON, the fixture's key order, t at midnight New
// York time. indent re-encodes it the way the recorded fixtures are laid
// out.
func largeAggs(n int, indent bool) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"ticker":"AAPL","queryCount":%d,"resultsCount":%d,"adjusted":true,"results":[`, n, n)
	price := 100.0
	t := time.Date(2016, 1, 4, 5, 0, 0, 0, time.UTC)
	for i := range n {
		o := price
		c := price * (1 + (rng.Float64()-0.5)*0.04)
		h := max(o, c) * (1 + rng.Float64()*0.01)
		l := min(o, c) * (1 - rng.Float64()*0.01)
		price = c
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"v":%d,"vw":%.4f,"o":%.4f,"c":%.4f,"h":%.4f,"l":%.4f,"t":%d,"n":%d}`,
			50_000_000+rng.IntN(100_000_000), (h+l+c)/3, o, c, h, l, t.UnixMilli(), 400_000+rng.IntN(600_000))
		t = t.AddDate(0, 0, 1)
		for t.Weekday() == time.Saturday || t.Weekday() == time.Sunday {
			t = t.AddDate(0, 0, 1)
		}
	}
	fmt.Fprintf(&b, `],"status":"OK","request_id":"12afda77aab3b1936c5fb6ef4241ae42","count":%d}`, n)
	if !indent {
		return b.Bytes()
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "    "); err != nil {
		panic(err)
	}
	return out.Bytes()
}

func TestLargeAggsParses(t *testing.T) {
	for _, indent := range []bool{false, true} {
		a, err := polygon.ParseAggs(largeAggs(2520, indent))
		require.NoError(t, err)
		require.Len(t, a.Bars, 2520)
	}
}

// BenchmarkParseAggs decodes ten years of daily aggregates (2,520 bars) as
// the API sends them (compact JSON), the large format.
func BenchmarkParseAggs(b *testing.B) {
	providertest.BenchParse(b, largeAggs(2520, false), 2520, "bar", providertest.ParseErr(polygon.ParseAggs))
}

// BenchmarkParseAggsIndented is the same series laid out like the recorded
// fixtures.
func BenchmarkParseAggsIndented(b *testing.B) {
	providertest.BenchParse(b, largeAggs(2520, true), 2520, "bar", providertest.ParseErr(polygon.ParseAggs))
}

func BenchmarkParseLastTrade(b *testing.B) {
	providertest.BenchParse(b, fixture(b, "v2_last_trade_AAPL.json"), 1, "quote", providertest.ParseErr(polygon.ParseLastTrade))
}

func BenchmarkParsePrevClose(b *testing.B) {
	providertest.BenchParse(b, fixture(b, "v2_aggs_ticker_AAPL_prev.json"), 1, "bar", providertest.ParseErr(polygon.ParseAggs))
}
