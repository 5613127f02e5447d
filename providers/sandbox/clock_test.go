package sandbox

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func finnhubPrice(t *testing.T, h *Handler, symbol string) float64 {
	t.Helper()
	_, b := call(t, h, "GET", "/finnhub/api/v1/quote?token=k&symbol="+symbol, nil)
	var q struct{ C float64 }
	require.NoError(t, json.Unmarshal(b, &q))
	return q.C
}

func TestClockDefaultIsTheEnd(t *testing.T) {
	h := New()
	require.Equal(t, day("2021-03-31"), h.Date())
	for _, sym := range Symbols() {
		bars, err := History(sym)
		require.NoError(t, err)
		cur, err := h.Current(sym)
		require.NoError(t, err)
		require.Equal(t, bars[len(bars)-1], cur)
	}
	h.Tick() // no replay: nothing moves
	require.Equal(t, day("2021-03-31"), h.Date())
	_, err := h.Current("NOPE")
	require.ErrorIs(t, err, providers.ErrNotFound)
}

func TestReplayManual(t *testing.T) {
	h := New(WithReplay(day("2015-01-02").Add(13*time.Hour), StepManual))
	require.Equal(t, day("2015-01-02"), h.Date())
	aapl, err := History("AAPL")
	require.NoError(t, err)
	i := (&series{bars: aapl}).search(day("2015-01-02"))
	require.Equal(t, aapl[i].Close, finnhubPrice(t, h, "AAPL"))
	require.Equal(t, aapl[i].Close, finnhubPrice(t, h, "AAPL"), "quotes do not move the manual clock")

	h.Tick() // 2015-01-03 is a Saturday: still Friday's bar
	require.Equal(t, aapl[i].Close, finnhubPrice(t, h, "AAPL"))
	h.Advance(2)
	require.Equal(t, day("2015-01-05"), h.Date())
	require.Equal(t, aapl[i+1].Close, finnhubPrice(t, h, "AAPL"))

	// Bars stop at the clock's date.
	_, b := call(t, h, "GET", "/polygon/v2/aggs/ticker/AAPL/range/1/day/2015-01-01/2015-12-31?apiKey=k", nil)
	var a struct{ ResultsCount int }
	require.NoError(t, json.Unmarshal(b, &a))
	require.Equal(t, 2, a.ResultsCount)

	h.SetDate(day("2030-01-01"))
	require.Equal(t, aapl[len(aapl)-1].Close, finnhubPrice(t, h, "AAPL"), "a series that ended quotes its last close")
	h.SetDate(day("1990-01-01"))
	require.Equal(t, aapl[0].Close, finnhubPrice(t, h, "AAPL"), "a series not yet begun serves its first bar")
}

func TestReplayPerQuote(t *testing.T) {
	h := New(WithReplay(day("2018-08-01"), StepPerQuote))
	btc, err := History("BTC-USD")
	require.NoError(t, err)
	i := (&series{bars: btc}).search(day("2018-08-01"))
	for k := range 5 {
		require.Equal(t, btc[i+k].Close, finnhubPrice(t, h, "COINBASE:BTC-USD"), "poll %d", k)
	}
	// Every quote route steps.
	for _, target := range []string{
		"/coinbase-exchange/products/BTC-USD/ticker",
		"/polygon/v2/last/trade/X:BTCUSD?apiKey=k",
		"/polygon/v1/last/crypto/BTC/USD?apiKey=k",
		"/alphavantage/query?function=CURRENCY_EXCHANGE_RATE&from_currency=BTC&to_currency=USD&apikey=k",
		"/yahoo/v8/finance/chart/BTC-USD?range=1d",
	} {
		before := h.Date()
		call(t, h, "GET", target, nil)
		require.True(t, h.Date().After(before), target)
	}
	// The end of the series stops the clock for it.
	h.SetDate(day("2018-08-13"))
	require.Equal(t, btc[len(btc)-1].Close, finnhubPrice(t, h, "COINBASE:BTC-USD"))
	require.Equal(t, btc[len(btc)-1].Close, finnhubPrice(t, h, "COINBASE:BTC-USD"))
}
