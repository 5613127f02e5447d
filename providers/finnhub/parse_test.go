package finnhub_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/finnhub"
	"github.com/leakgate/leakgate/providers/internal/providertest"
)

func TestParseCandlesFixtures(t *testing.T) {
	bars, err := finnhub.ParseCandles(fixture(t, stockFixture))
	require.NoError(t, err)
	require.Equal(t, []providers.Bar{stockFirst, stockMid, stockLast}, bars)

	bars, err = finnhub.ParseCandles(fixture(t, forexFixture))
	require.NoError(t, err)
	require.Len(t, bars, 4)
	require.Equal(t, forexFirst, bars[0])
	require.Equal(t, forexLast, bars[3])

	// Without "v" the bars have no volume; unordered times are sorted.
	bars, err = finnhub.ParseCandles([]byte(`{"c":[2,1],"h":[2,1],"l":[2,1],"o":[2,1],"t":[1569384000,1569297600],"s":"ok"}`))
	require.NoError(t, err)
	require.Equal(t, []providers.Bar{
		{Time: time.Unix(1569297600, 0).UTC(), Open: 1, High: 1, Low: 1, Close: 1},
		{Time: time.Unix(1569384000, 0).UTC(), Open: 2, High: 2, Low: 2, Close: 2}}, bars)
}

// seedFixtures adds every recorded Finnhub answer, and the error and quote
// shapes of the tests, to f's corpus.
func seedFixtures(f *testing.F) {
	f.Helper()
	providertest.SeedUpstream(f, "finnhub", accessBody, limitBody, badKeyBody, noDataBody, zeroesQuote, htmlBody, notUTF8HTML,
		`{"c":261.74,"d":null,"dp":null,"h":263.31,"l":260.68,"o":261.07,"pc":259.45,"t":1582641000}`,
		`{"c":[NaN],"h":[1],"l":[1],"o":[1],"t":[1e20],"s":"ok"}`)
}

func FuzzParseCandles(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		bars, err := finnhub.ParseCandles(body)
		providertest.RequireBarsOrError(t, bars, err, providers.ErrDecode, providers.ErrNoData)
	})
}

func FuzzParseQuote(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := finnhub.ParseQuote(body)
		if err != nil {
			require.True(t, errors.Is(err, providers.ErrDecode) || errors.Is(err, providers.ErrNotFound), "untyped error: %v", err)
			return
		}
		for _, x := range []float64{q.Price, q.High, q.Low, q.Open, q.PrevClose} {
			require.False(t, math.IsNaN(x) || math.IsInf(x, 0))
		}
	})
}

func FuzzErrorMessage(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, ok := finnhub.ErrorMessage(body)
		if !ok {
			require.Empty(t, msg)
		}
	})
}

// largeCandles builds a candle answer of n daily bars in the wire form the
// API sends (compact JSON, arrays in the fixture's key order c, h, l, o, s,
// t, v); indent lays it out like the recorded fixtures.
func largeCandles(n int, indent bool) []byte {
	rng := rand.New(rand.NewPCG(5, 6))
	var o, h, l, c, v, ts []byte
	price := 100.0
	t := time.Date(2016, 1, 4, 4, 0, 0, 0, time.UTC)
	for i := range n {
		if i > 0 {
			o, h, l, c, v, ts = append(o, ','), append(h, ','), append(l, ','), append(c, ','), append(v, ','), append(ts, ',')
		}
		op := price
		cl := price * (1 + (rng.Float64()-0.5)*0.04)
		hi := max(op, cl) * (1 + rng.Float64()*0.01)
		lo := min(op, cl) * (1 - rng.Float64()*0.01)
		price = cl
		o = strconv.AppendFloat(o, math.Round(op*100)/100, 'f', -1, 64)
		h = strconv.AppendFloat(h, math.Round(hi*100)/100, 'f', -1, 64)
		l = strconv.AppendFloat(l, math.Round(lo*100)/100, 'f', -1, 64)
		c = strconv.AppendFloat(c, math.Round(cl*100)/100, 'f', -1, 64)
		v = strconv.AppendInt(v, int64(20_000_000+rng.IntN(30_000_000)), 10)
		ts = strconv.AppendInt(ts, t.Unix(), 10)
		t = t.AddDate(0, 0, 1)
		for t.Weekday() == time.Saturday || t.Weekday() == time.Sunday {
			t = t.AddDate(0, 0, 1)
		}
	}
	var b bytes.Buffer
	b.WriteString(`{"c":[`)
	b.Write(c)
	b.WriteString(`],"h":[`)
	b.Write(h)
	b.WriteString(`],"l":[`)
	b.Write(l)
	b.WriteString(`],"o":[`)
	b.Write(o)
	b.WriteString(`],"s":"ok","t":[`)
	b.Write(ts)
	b.WriteString(`],"v":[`)
	b.Write(v)
	b.WriteString(`]}`)
	if !indent {
		return b.Bytes()
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		panic(err)
	}
	return out.Bytes()
}

func TestLargeCandlesParse(t *testing.T) {
	for _, indent := range []bool{false, true} {
		bars, err := finnhub.ParseCandles(largeCandles(2520, indent))
		require.NoError(t, err)
		require.Len(t, bars, 2520)
	}
}

// BenchmarkParseCandles decodes ten years of daily candles (2,520 bars) as
// the API sends them (compact JSON), the large format.
func BenchmarkParseCandles(b *testing.B) {
	providertest.BenchParse(b, largeCandles(2520, false), 2520, "bar", providertest.ParseErr(finnhub.ParseCandles))
}

// BenchmarkParseCandlesIndented is the same series laid out like the
// recorded fixtures.
func BenchmarkParseCandlesIndented(b *testing.B) {
	providertest.BenchParse(b, largeCandles(2520, true), 2520, "bar", providertest.ParseErr(finnhub.ParseCandles))
}

func BenchmarkParseQuote(b *testing.B) {
	providertest.BenchParse(b, fixture(b, quoteFixture), 1, "quote", providertest.ParseErr(finnhub.ParseQuote))
}
