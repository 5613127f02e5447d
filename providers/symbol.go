package providers

import (
	"fmt"
	"strings"
)

// knownCrypto lists base assets treated as crypto when a symbol is ambiguous
// (for example "BTCUSD").
var knownCrypto = map[string]bool{
	"BTC": true, "ETH": true, "SOL": true, "ADA": true, "XRP": true, "DOGE": true,
	"LTC": true, "DOT": true, "AVAX": true, "LINK": true, "MATIC": true, "BCH": true,
	"USDT": true, "USDC": true,
}

// knownFiat lists currencies that make a pair a forex pair.
var knownFiat = map[string]bool{
	"USD": true, "EUR": true, "GBP": true, "JPY": true, "CHF": true, "CAD": true,
	"AUD": true, "NZD": true, "CNY": true, "HKD": true, "SEK": true, "NOK": true,
	"SGD": true, "MXN": true,
}

// NormalizeSymbol returns the canonical spelling of a symbol and its asset
// class: equities as upper-case tickers ("AAPL", "BRK.B"), crypto pairs with a
// dash ("BTC-USD"), forex pairs with an underscore ("EUR_USD"). It accepts the
// common provider spellings: "btc-usd", "BTC/USD", "BTCUSD", "X:BTCUSD",
// "EURUSD=X", "C:EURUSD", "EUR/USD", "eur_usd".
func NormalizeSymbol(raw string) (string, AssetClass, error) {
	s := strings.ToUpper(strings.TrimSpace(raw))
	if s == "" {
		return "", "", fmt.Errorf("%w: empty symbol", ErrBadSymbol)
	}
	// Provider prefixes and suffixes.
	switch {
	case strings.HasPrefix(s, "X:"):
		s = s[2:]
	case strings.HasPrefix(s, "C:"):
		s = s[2:]
	}
	s = strings.TrimSuffix(s, "=X")
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '/' || r == '.') {
			return "", "", fmt.Errorf("%w: %q contains %q (allowed: letters, digits, '-', '_', '/', '.')", ErrBadSymbol, raw, r)
		}
	}
	if base, quote, ok := splitPair(s); ok {
		if knownFiat[base] && knownFiat[quote] {
			return base + "_" + quote, Forex, nil
		}
		if knownCrypto[base] || knownCrypto[quote] || knownFiat[quote] {
			return base + "-" + quote, Crypto, nil
		}
		return "", "", fmt.Errorf("%w: %q is not a known crypto or forex pair", ErrBadSymbol, raw)
	}
	if strings.ContainsAny(s, "-_/") {
		return "", "", fmt.Errorf("%w: %q is not a pair of two assets", ErrBadSymbol, raw)
	}
	if len(s) > 10 {
		return "", "", fmt.Errorf("%w: %q is longer than any ticker", ErrBadSymbol, raw)
	}
	return s, Equity, nil
}

// splitPair splits "BTC-USD", "EUR_USD", "EUR/USD", "BTCUSD" or "EURUSD" into
// its two assets. Six- to eight-letter run-together spellings are split only
// when one side is a known asset.
func splitPair(s string) (base, quote string, ok bool) {
	if i := strings.IndexAny(s, "-_/"); i >= 0 {
		base, quote = s[:i], s[i+1:]
		if base == "" || quote == "" || strings.ContainsAny(quote, "-_/") {
			return "", "", false
		}
		return base, quote, true
	}
	for _, q := range []string{"USDT", "USDC", "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "CNY"} {
		if strings.HasSuffix(s, q) && len(s) > len(q) {
			b := s[:len(s)-len(q)]
			if knownCrypto[b] || (knownFiat[b] && knownFiat[q]) {
				return b, q, true
			}
		}
	}
	return "", "", false
}

// SplitPair returns the base and quote assets of a normalised crypto
// ("BTC-USD") or forex ("EUR_USD") symbol, and false for an equity.
func SplitPair(symbol string) (base, quote string, ok bool) {
	if i := strings.IndexAny(symbol, "-_"); i > 0 {
		return symbol[:i], symbol[i+1:], true
	}
	return "", "", false
}
