// Package providers holds what every market-data and trading client shares:
// the domain types (bars, quotes, balances, orders, posts), symbol
// normalisation, typed errors, and Client, the HTTP core that owns its
// transport, limits, retries, redacts and is released by Close.
//
// Each upstream API lives in its own subpackage (alphavantage, coinbase,
// oanda, polygon, finnhub, yahoo, reddit, llm); unified routes between them
// and sandbox serves recorded data in their wire formats.
//
// # Ownership
//
// Every constructor in this tree returns something the caller must Close.
// Close is idempotent and safe to call concurrently. A client that becomes
// garbage without Close is reported once by a log warning naming the
// provider and the place it was created, and counted by Unclosed.
package providers

import "context"

// MarketData is a source of bars and quotes. Symbols are in the normalised
// form of NormalizeSymbol ("AAPL", "BTC-USD", "EUR_USD"); implementations
// translate to their own spelling and answer with normalised symbols.
type MarketData interface {
	// Name is the provider's name, e.g. "alphavantage".
	Name() string
	// Classes lists the asset classes the provider serves.
	Classes() []AssetClass
	// Bars returns bars in ascending time order. An empty range is an error
	// matching ErrNoData.
	Bars(ctx context.Context, q BarQuery) ([]Bar, error)
	// Quote returns the latest price.
	Quote(ctx context.Context, symbol string) (Quote, error)
	// Close releases the provider's connections.
	Close() error
}

// Broker is a trading venue: account state and order placement.
type Broker interface {
	Name() string
	Account(ctx context.Context) (Account, error)
	PlaceOrder(ctx context.Context, req OrderRequest) (Order, error)
	Close() error
}

// PostQuery asks a social source for posts of one community, optionally
// matching a search query, newest first, at most Limit posts (paginating as
// needed).
type PostQuery struct {
	Subreddit string
	Search    string
	Limit     int
}

// PostSource is a source of social-media posts for sentiment scans.
type PostSource interface {
	Name() string
	Posts(ctx context.Context, q PostQuery) ([]Post, error)
	Close() error
}

// Serves reports whether md serves asset class c.
func Serves(md MarketData, c AssetClass) bool {
	for _, x := range md.Classes() {
		if x == c {
			return true
		}
	}
	return false
}
