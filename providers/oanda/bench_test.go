package oanda_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/oanda"
)

type wireCandle struct {
	Complete bool            `json:"complete"`
	Volume   int             `json:"volume"`
	Time     string          `json:"time"`
	Mid      json.RawMessage `json:"mid,omitempty"`
	Bid      json.RawMessage `json:"bid,omitempty"`
	Ask      json.RawMessage `json:"ask,omitempty"`
}

// tenYearsOfCandles builds a candles answer of ten years of daily candles in
// the API's exact wire shape (compact JSON, string prices, nanosecond
// RFC 3339 times), cycling through the recorded GBP_USD candles for
// realistic values. components is "M" (mid) or "BA" (bid and ask).
func tenYearsOfCandles(b *testing.B, components string) ([]byte, int) {
	var rec struct {
		Candles []wireCandle `json:"candles"`
	}
	if err := json.Unmarshal(fixture(b, "v3_instruments_GBP_USD_candles_D_ask.json"), &rec); err != nil {
		b.Fatal(err)
	}
	const days = 3653
	start := time.Date(2015, 1, 1, 22, 0, 0, 0, time.UTC)
	out := struct {
		Instrument  string       `json:"instrument"`
		Granularity string       `json:"granularity"`
		Candles     []wireCandle `json:"candles"`
	}{Instrument: "GBP_USD", Granularity: "D"}
	for i := range days {
		src := rec.Candles[i%len(rec.Candles)]
		c := wireCandle{Complete: true, Volume: src.Volume, Time: start.AddDate(0, 0, i).Format("2006-01-02T15:04:05.000000000Z")}
		switch components {
		case "M":
			c.Mid = src.Ask
		case "BA":
			c.Bid, c.Ask = src.Ask, src.Ask
		}
		out.Candles = append(out.Candles, c)
	}
	body, err := json.Marshal(out)
	if err != nil {
		b.Fatal(err)
	}
	return body, days
}

func benchCandles(b *testing.B, components string) {
	body, n := tenYearsOfCandles(b, components)
	providertest.BenchParse(b, body, n, "bar", func(p []byte) error {
		bars, err := oanda.ParseCandles(p, false)
		if err == nil && len(bars) != n {
			b.Fatalf("%d bars, want %d", len(bars), n)
		}
		return err
	})
}

func BenchmarkParseCandlesMid(b *testing.B) { benchCandles(b, "M") }

func BenchmarkParseCandlesBidAsk(b *testing.B) { benchCandles(b, "BA") }

func BenchmarkParseCandlesRecorded(b *testing.B) {
	providertest.BenchParse(b, fixture(b, "v3_instruments_GBP_USD_candles_D_ask.json"), 99, "bar",
		func(p []byte) error { _, err := oanda.ParseCandles(p, false); return err })
}

func BenchmarkParseLatestCandles(b *testing.B) {
	providertest.BenchParse(b, fixture(b, "v3_accounts_candles_latest.json"), 7, "bar",
		func(p []byte) error { _, err := oanda.ParseLatestCandles(p, false); return err })
}

func BenchmarkParsePricing(b *testing.B) {
	providertest.BenchParse(b, fixture(b, "v3_accounts_pricing.json"), 1, "bar",
		func(p []byte) error { _, err := oanda.ParsePricing(p); return err })
}

func BenchmarkParseAccountSummary(b *testing.B) {
	providertest.BenchParse(b, fixture(b, "v3_accounts_summary.json"), 1, "bar",
		func(p []byte) error { _, err := oanda.ParseAccountSummary(p); return err })
}

func BenchmarkParseOrderCreate(b *testing.B) {
	providertest.BenchParse(b, fixture(b, "v3_accounts_orders_POST_201_market_filled.json"), 1, "bar",
		func(p []byte) error { _, err := oanda.ParseOrderCreate(p); return err })
}
