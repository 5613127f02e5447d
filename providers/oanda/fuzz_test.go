package oanda_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/oanda"
)

// requireDecodeErr fails unless err is nil or a *providers.DecodeError.
func requireDecodeErr(t *testing.T, err error) {
	t.Helper()
	var de *providers.DecodeError
	if err != nil && !errors.As(err, &de) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
}

func FuzzParseCandles(f *testing.F) {
	ask := fixture(f, "v3_instruments_GBP_USD_candles_D_ask.json")
	f.Add(ask, false)
	f.Add(bytes.ReplaceAll(ask, []byte(`"ask"`), []byte(`"mid"`)), true)
	f.Add([]byte(`{"instrument":"EUR_USD","granularity":"D","candles":[]}`), false)
	f.Add([]byte(`{"candles":[{"complete":true,"volume":1,"time":"1539216000.000000000","bid":{"o":"1","h":"1","l":"1","c":"1"},"ask":{"o":"1.1","h":"1","l":"1","c":"1e2"}}]}`), true)
	f.Fuzz(func(t *testing.T, body []byte, includeIncomplete bool) {
		bars, err := oanda.ParseCandles(body, includeIncomplete)
		requireDecodeErr(t, err)
		providertest.RequireSaneBars(t, bars)
		if err == nil && !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
	})
}

func FuzzParseLatestCandles(f *testing.F) {
	f.Add(fixture(f, "v3_accounts_candles_latest.json"), false)
	f.Add(fixture(f, "v3_accounts_candles_latest.json"), true)
	f.Fuzz(func(t *testing.T, body []byte, includeIncomplete bool) {
		got, err := oanda.ParseLatestCandles(body, includeIncomplete)
		requireDecodeErr(t, err)
		if err == nil && !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		for _, lc := range got {
			providertest.RequireSaneBars(t, lc.Bars)
		}
	})
}

func FuzzParsePricing(f *testing.F) {
	f.Add(fixture(f, "v3_accounts_pricing.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		qs, err := oanda.ParsePricing(body)
		requireDecodeErr(t, err)
		for _, q := range qs {
			if math.IsNaN(q.Price) || math.IsInf(q.Price, 0) {
				t.Fatalf("price %v", q.Price)
			}
		}
	})
}

func FuzzParseAccountSummary(f *testing.F) {
	f.Add(fixture(f, "v3_accounts_summary.json"))
	f.Add(fixture(f, "v3_accounts_summary_2023.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := oanda.ParseAccountSummary(body)
		requireDecodeErr(t, err)
	})
}

func FuzzParseOrderCreate(f *testing.F) {
	f.Add(fixture(f, "v3_accounts_orders_POST_201_market_filled.json"))
	f.Add(fixture(f, "v3_accounts_orders_POST_201_cancelled_market_halted.json"))
	f.Add(fixture(f, "v3_accounts_orders_POST_400_rejected.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := oanda.ParseOrderCreate(body)
		requireDecodeErr(t, err)
		if err == nil && (o.ID == "" || o.Quantity < 0) {
			t.Fatalf("order %+v", o)
		}
	})
}

func FuzzParseError(f *testing.F) {
	f.Add(fixture(f, "v3_accounts_orders_POST_400_rejected.json"))
	f.Add(fixture(f, "v3_accounts_positions_close_PUT_400.json"))
	f.Add(err401)
	f.Fuzz(func(t *testing.T, body []byte) {
		code, msg, _, ok := oanda.ParseError(body)
		if ok && code == "" && msg == "" {
			t.Fatal("ok without code or message")
		}
	})
}
