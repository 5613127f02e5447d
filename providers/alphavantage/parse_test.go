package alphavantage_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/alphavantage"
	"github.com/leakgate/leakgate/providers/internal/providertest"
)

// seedFixtures adds every recorded Alpha Vantage answer to f's corpus, so
// each target starts from its own shape and the others.
func seedFixtures(f *testing.F) {
	f.Helper()
	providertest.SeedUpstream(f, "alphavantage", emptySeries, burstBody, htmlBody, notUTF8HTML,
		`{"Global Quote": {}}`, `{"Time Series (Daily)": {"2020-02-30": {"1. open": "NaN"}}}`)
}

// checkBars asserts the parser contract: an error is typed, bars are
// non-empty, strictly ascending, in UTC and finite.
func checkBars(t *testing.T, bars []providers.Bar, err error) {
	t.Helper()
	providertest.RequireBarsOrError(t, bars, err, providers.ErrDecode, providers.ErrNoData)
}

func FuzzParseDailySeries(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		bars, err := alphavantage.ParseDailySeries(body)
		checkBars(t, bars, err)
	})
}

func FuzzParseFXDaily(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		bars, err := alphavantage.ParseFXDaily(body)
		checkBars(t, bars, err)
	})
}

func FuzzParseDigitalCurrencyDaily(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		bars, err := alphavantage.ParseDigitalCurrencyDaily(body)
		checkBars(t, bars, err)
	})
}

func FuzzParseDailyAdjusted(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		adj, err := alphavantage.ParseDailyAdjusted(body)
		var bars []providers.Bar
		for _, a := range adj {
			require.False(t, math.IsNaN(a.AdjustedClose) || math.IsNaN(a.Dividend) || math.IsNaN(a.SplitCoefficient))
			bars = append(bars, a.Bar)
		}
		checkBars(t, bars, err)
	})
}

func FuzzParseGlobalQuote(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := alphavantage.ParseGlobalQuote(body)
		if err != nil {
			require.True(t, errors.Is(err, providers.ErrDecode) || errors.Is(err, providers.ErrNotFound), "untyped error: %v", err)
			return
		}
		require.NotEmpty(t, q.Symbol)
		require.False(t, math.IsNaN(q.Price) || math.IsInf(q.Price, 0))
	})
}

func FuzzParseExchangeRate(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		x, err := alphavantage.ParseExchangeRate(body)
		if err != nil {
			require.ErrorIs(t, err, providers.ErrDecode)
			return
		}
		require.NotEmpty(t, x.From)
		require.NotEmpty(t, x.To)
		require.Equal(t, time.UTC, x.Time.Location())
	})
}

func FuzzClassifyBody(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		be, ok := alphavantage.ClassifyBody(body)
		require.Equal(t, ok, be.Kind != nil)
	})
}

// largeSeries builds an answer in the exact shape of the recorded
// fixtures (indentation, key order, newest first, values as strings) with
// n daily entries, trading days only unless everyDay.
func largeSeries(kind string, n int) []byte {
	var b bytes.Buffer
	rng := rand.New(rand.NewPCG(1, 2))
	price := 100.0
	date := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	next := func() time.Time {
		d := date
		date = date.AddDate(0, 0, -1)
		if kind != "digital" {
			for date.Weekday() == time.Saturday || date.Weekday() == time.Sunday {
				date = date.AddDate(0, 0, -1)
			}
		}
		return d
	}
	ohlc := func() (o, h, l, c float64) {
		o = price
		c = price * (1 + (rng.Float64()-0.5)*0.04)
		h = max(o, c) * (1 + rng.Float64()*0.01)
		l = min(o, c) * (1 - rng.Float64()*0.01)
		price = c
		return
	}
	switch kind {
	case "daily", "adjusted":
		info := "Daily Prices (open, high, low, close) and Volumes"
		if kind == "adjusted" {
			info = "Daily Time Series with Splits and Dividend Events"
		}
		fmt.Fprintf(&b, "{\n    \"Meta Data\": {\n        \"1. Information\": %q,\n        \"2. Symbol\": \"MSFT\",\n"+
			"        \"3. Last Refreshed\": \"2025-12-31\",\n        \"4. Output Size\": \"Full size\",\n        \"5. Time Zone\": \"US/Eastern\"\n    },\n"+
			"    \"Time Series (Daily)\": {\n", info)
		for i := range n {
			o, h, l, c := ohlc()
			vol := 10_000_000 + rng.IntN(30_000_000)
			fmt.Fprintf(&b, "        %q: {\n            \"1. open\": \"%.4f\",\n            \"2. high\": \"%.4f\",\n"+
				"            \"3. low\": \"%.4f\",\n            \"4. close\": \"%.4f\",\n", next().Format(time.DateOnly), o, h, l, c)
			if kind == "adjusted" {
				fmt.Fprintf(&b, "            \"5. adjusted close\": \"%.4f\",\n            \"6. volume\": \"%d\",\n"+
					"            \"7. dividend amount\": \"0.0000\",\n            \"8. split coefficient\": \"1.0000\"\n", c, vol)
			} else {
				fmt.Fprintf(&b, "            \"5. volume\": \"%d\"\n", vol)
			}
			b.WriteString(comma(i, n, "        }"))
		}
		b.WriteString("    }\n}")
	case "fx":
		b.WriteString("{\n    \"Meta Data\": {\n        \"1. Information\": \"Forex Daily Prices (open, high, low, close)\",\n" +
			"        \"2. From Symbol\": \"EUR\",\n        \"3. To Symbol\": \"USD\",\n        \"4. Output Size\": \"Full size\",\n" +
			"        \"5. Last Refreshed\": \"2025-12-31 21:55:00\",\n        \"6. Time Zone\": \"UTC\"\n    },\n    \"Time Series FX (Daily)\": {\n")
		price = 1.1
		for i := range n {
			o, h, l, c := ohlc()
			fmt.Fprintf(&b, "        %q: {\n            \"1. open\": \"%.4f\",\n            \"2. high\": \"%.4f\",\n"+
				"            \"3. low\": \"%.4f\",\n            \"4. close\": \"%.4f\"\n", next().Format(time.DateOnly), o, h, l, c)
			b.WriteString(comma(i, n, "        }"))
		}
		b.WriteString("    }\n}")
	case "digital":
		b.WriteString("{\n  \"Meta Data\": {\n    \"1. Information\": \"Daily Prices and Volumes for Digital Currency\",\n" +
			"    \"2. Digital Currency Code\": \"BTC\",\n    \"3. Digital Currency Name\": \"Bitcoin\",\n    \"4. Market Code\": \"EUR\",\n" +
			"    \"5. Market Name\": \"Euro\",\n    \"6. Last Refreshed\": \"2025-12-31 00:00:00\",\n    \"7. Time Zone\": \"UTC\"\n  },\n" +
			"  \"Time Series (Digital Currency Daily)\": {\n")
		price = 40000
		for i := range n {
			o, h, l, c := ohlc()
			fmt.Fprintf(&b, "    %q: {\n      \"1. open\": \"%.8f\",\n      \"2. high\": \"%.8f\",\n      \"3. low\": \"%.8f\",\n"+
				"      \"4. close\": \"%.8f\",\n      \"5. volume\": \"%.8f\"\n", next().Format(time.DateOnly), o, h, l, c, rng.Float64()*500)
			b.WriteString(comma(i, n, "    }"))
		}
		b.WriteString("  }\n}")
	}
	return b.Bytes()
}

func comma(i, n int, closer string) string {
	if i < n-1 {
		return closer + ",\n"
	}
	return closer + "\n"
}

func TestLargeSeriesParses(t *testing.T) {
	for _, tt := range []struct {
		kind  string
		n     int
		parse func([]byte) ([]providers.Bar, error)
	}{
		{"daily", 2520, alphavantage.ParseDailySeries},
		{"fx", 2600, alphavantage.ParseFXDaily},
		{"digital", 3650, alphavantage.ParseDigitalCurrencyDaily},
	} {
		bars, err := tt.parse(largeSeries(tt.kind, tt.n))
		require.NoError(t, err, tt.kind)
		require.Len(t, bars, tt.n, tt.kind)
		checkBars(t, bars, err)
	}
	adj, err := alphavantage.ParseDailyAdjusted(largeSeries("adjusted", 2520))
	require.NoError(t, err)
	require.Len(t, adj, 2520)
}

// BenchmarkParseDailySeries decodes ten years of TIME_SERIES_DAILY (2,520
// trading days), the large format.
func BenchmarkParseDailySeries(b *testing.B) {
	providertest.BenchParse(b, largeSeries("daily", 2520), 2520, "bar", providertest.ParseErr(alphavantage.ParseDailySeries))
}

func BenchmarkParseDailyAdjusted(b *testing.B) {
	providertest.BenchParse(b, largeSeries("adjusted", 2520), 2520, "bar", providertest.ParseErr(alphavantage.ParseDailyAdjusted))
}

func BenchmarkParseFXDaily(b *testing.B) {
	providertest.BenchParse(b, largeSeries("fx", 2600), 2600, "bar", providertest.ParseErr(alphavantage.ParseFXDaily))
}

func BenchmarkParseDigitalCurrencyDaily(b *testing.B) {
	providertest.BenchParse(b, largeSeries("digital", 3650), 3650, "bar", providertest.ParseErr(alphavantage.ParseDigitalCurrencyDaily))
}

func BenchmarkParseDailySeriesCompactFixture(b *testing.B) {
	providertest.BenchParse(b, fixture(b, "time_series_daily_MSFT_compact.json"), 100, "bar", providertest.ParseErr(alphavantage.ParseDailySeries))
}

func BenchmarkParseGlobalQuote(b *testing.B) {
	providertest.BenchParse(b, fixture(b, "global_quote_MSFT.json"), 1, "quote", providertest.ParseErr(alphavantage.ParseGlobalQuote))
}

func BenchmarkParseExchangeRate(b *testing.B) {
	providertest.BenchParse(b, fixture(b, "currency_exchange_rate_BTC_CNY.json"), 1, "quote", providertest.ParseErr(alphavantage.ParseExchangeRate))
}
