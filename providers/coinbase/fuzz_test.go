package coinbase_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/coinbase"
	"github.com/leakgate/leakgate/providers/internal/providertest"
)

// requireDecodeErr fails unless err is nil or a typed error of this package
// (a *providers.DecodeError or an *coinbase.OrderError).
func requireDecodeErr(t *testing.T, err error) {
	t.Helper()
	var de *providers.DecodeError
	var oe *coinbase.OrderError
	if err != nil && !errors.As(err, &de) && !errors.As(err, &oe) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
}

func FuzzParseCandles(f *testing.F) {
	f.Add(fixture(f, "exchange_products_BTC-USD_candles_granularity3600.json"))
	f.Add(fixture(f, "exchange_products_BTC-USDT_candles_granularity3600_1row.json"))
	f.Add(fixture(f, "exchange_error_400_candles_granularity_too_small.json"))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[[1584316800, 1e400, 1, 1, 1, 1]]`))
	f.Add([]byte(`[[1584316800, NaN, 1, 1, 1, 1], [1, 2, 3, 4, 5, 6, 7]]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		bars, err := coinbase.ParseCandles(body)
		requireDecodeErr(t, err)
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		providertest.RequireSaneBars(t, bars)
		for i, b := range bars {
			if min(b.Open, b.High, b.Low, b.Close, b.Volume) < 0 {
				t.Fatalf("bar %d holds a negative value: %+v", i, b)
			}
		}
	})
}

func FuzzParseTicker(f *testing.F) {
	ticker := fixture(f, "exchange_products_BTC-USDT_ticker.json")
	f.Add(ticker)
	f.Add(bytes.Replace(ticker, []byte(`"18502105"`), []byte(`18502105`), 1))
	f.Add(fixture(f, "exchange_error_400_invalid_price.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := coinbase.ParseTicker(body)
		requireDecodeErr(t, err)
		if err == nil && (math.IsNaN(q.Price) || math.IsInf(q.Price, 0)) {
			t.Fatalf("price %v", q.Price)
		}
	})
}

func FuzzParseAccounts(f *testing.F) {
	f.Add(local(f, "advtrade_accounts_page1.json"))
	f.Add(local(f, "advtrade_accounts_page2.json"))
	f.Add(local(f, "advtrade_error_401.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := coinbase.ParseAccounts(body)
		requireDecodeErr(t, err)
	})
}

func FuzzParseCreateOrder(f *testing.F) {
	f.Add(local(f, "advtrade_create_order_success.json"))
	f.Add(local(f, "advtrade_create_order_insufficient_fund.json"))
	f.Add(local(f, "advtrade_create_order_invalid_limit_price.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := coinbase.ParseCreateOrder(body)
		requireDecodeErr(t, err)
		if err == nil && o.ID == "" {
			t.Fatal("accepted order without id")
		}
		var oe *coinbase.OrderError
		if errors.As(err, &oe) && o.Status != providers.OrderRejected {
			t.Fatalf("refused order has status %q", o.Status)
		}
	})
}

func FuzzParseOrder(f *testing.F) {
	f.Add(local(f, "advtrade_order_FILLED.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := coinbase.ParseOrder(body)
		requireDecodeErr(t, err)
	})
}

func FuzzParseOrders(f *testing.F) {
	f.Add(fixture(f, "advtrade_orders_historical_batch_FILLED.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := coinbase.ParseOrders(body)
		requireDecodeErr(t, err)
	})
}

func FuzzParseFills(f *testing.F) {
	f.Add(fixture(f, "advtrade_orders_historical_fills.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := coinbase.ParseFills(body)
		requireDecodeErr(t, err)
	})
}
