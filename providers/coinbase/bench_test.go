package coinbase_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/leakgate/leakgate/providers/coinbase"
	"github.com/leakgate/leakgate/providers/internal/providertest"
)

// tenYearsOfCandles builds an Exchange candles answer of ten years of daily
// rows in the exact wire shape — compact [time, low, high, open, close,
// volume] arrays, newest first — cycling through the recorded BTC-USD rows
// for realistic numbers.
func tenYearsOfCandles(b *testing.B) ([]byte, int) {
	var rows [][]float64
	if err := json.Unmarshal(fixture(b, "exchange_products_BTC-USD_candles_granularity3600.json"), &rows); err != nil {
		b.Fatal(err)
	}
	const days = 3653
	end := time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := range days {
		if i > 0 {
			buf.WriteByte(',')
		}
		r := rows[i%len(rows)]
		buf.WriteByte('[')
		buf.WriteString(strconv.FormatInt(end.AddDate(0, 0, -i).Unix(), 10))
		for _, v := range r[1:] {
			buf.WriteByte(',')
			buf.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
		}
		buf.WriteByte(']')
	}
	buf.WriteByte(']')
	return buf.Bytes(), days
}

func BenchmarkParseCandles(b *testing.B) {
	body, n := tenYearsOfCandles(b)
	providertest.BenchParse(b, body, n, "bar", func(p []byte) error {
		bars, err := coinbase.ParseCandles(p)
		if err == nil && len(bars) != n {
			b.Fatalf("%d bars, want %d", len(bars), n)
		}
		return err
	})
}

func BenchmarkParseCandlesRecorded(b *testing.B) {
	body := fixture(b, "exchange_products_BTC-USD_candles_granularity3600.json")
	providertest.BenchParse(b, body, 169, "bar", func(p []byte) error { _, err := coinbase.ParseCandles(p); return err })
}

func BenchmarkParseTicker(b *testing.B) {
	providertest.BenchParse(b, fixture(b, "exchange_products_BTC-USDT_ticker.json"), 1, "bar",
		func(p []byte) error { _, err := coinbase.ParseTicker(p); return err })
}

func BenchmarkParseOrders(b *testing.B) {
	providertest.BenchParse(b, fixture(b, "advtrade_orders_historical_batch_FILLED.json"), 1, "bar",
		func(p []byte) error { _, err := coinbase.ParseOrders(p); return err })
}

func BenchmarkParseFills(b *testing.B) {
	providertest.BenchParse(b, fixture(b, "advtrade_orders_historical_fills.json"), 1, "bar",
		func(p []byte) error { _, err := coinbase.ParseFills(p); return err })
}

func BenchmarkParseAccounts(b *testing.B) {
	providertest.BenchParse(b, local(b, "advtrade_accounts_page1.json"), 2, "bar",
		func(p []byte) error { _, err := coinbase.ParseAccounts(p); return err })
}
