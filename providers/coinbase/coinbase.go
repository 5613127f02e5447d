package coinbase

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers"
)

// Default base URLs of the two APIs.
const (
	DefaultBaseURL     = "https://api.coinbase.com"
	DefaultExchangeURL = "https://api.exchange.coinbase.com"
)

// ProviderName is the name of the provider (Client.Name) and of its Advanced
// Trade core client in errors and logs; the Exchange core client is
// ExchangeName.
const (
	ProviderName = "coinbase"
	ExchangeName = "coinbase-exchange"
)

// Documented rate limits, the defaults of New: Exchange public endpoints
// allow 10 requests per second per IP with bursts of 15; Advanced Trade
// private endpoints 30 per second per user. Options given to New override
// both.
const (
	ExchangeRateLimit = rate.Limit(10)
	ExchangeBurst     = 15
	TradeRateLimit    = rate.Limit(30)
	TradeBurst        = 30
)

// Config configures a Client. Credentials are needed only for the Advanced
// Trade methods (Account, PlaceOrder, GetOrder, Orders, Fills).
type Config struct {
	// BaseURL is the Advanced Trade API; empty means DefaultBaseURL. Request
	// paths (/api/v3/brokerage/…) are appended to it.
	BaseURL string
	// ExchangeURL is the Exchange market-data API; empty means
	// DefaultExchangeURL. Request paths (/products/…) are appended to it.
	ExchangeURL string
	// KeyName is the CDP API key name,
	// "organizations/{org_id}/apiKeys/{key_id}".
	KeyName string
	// PrivateKey is the key's EC P-256 private key in PEM form
	// ("-----BEGIN EC PRIVATE KEY-----…"). It is a secret: it never appears
	// in errors or logs.
	PrivateKey string
}

// Client is a Coinbase client: Exchange market data and Advanced Trade
// accounts and orders. It is safe for concurrent use. Call Close when done.
type Client struct {
	exchange *providers.Client
	trade    *providers.Client
	signer   *signer // nil without credentials
	now      func() time.Time

	closeOnce sync.Once
	closeErr  error
}

var (
	_ providers.MarketData = (*Client)(nil)
	_ providers.Broker     = (*Client)(nil)
)

// New returns a Client for cfg. The documented rate limits are set as
// defaults before opts are applied; opts apply to both APIs. The private key
// is registered with providers.WithSecrets. The caller must call Close.
func New(cfg Config, opts ...providers.Option) (*Client, error) {
	var s *signer
	switch {
	case cfg.KeyName == "" && cfg.PrivateKey == "":
	case cfg.KeyName == "":
		return nil, errors.New("coinbase: Config.PrivateKey is set but Config.KeyName is empty: set both or neither")
	case cfg.PrivateKey == "":
		return nil, errors.New("coinbase: Config.KeyName is set but Config.PrivateKey is empty: set both or neither")
	default:
		var err error
		if s, err = newSigner(strings.TrimSpace(cfg.KeyName), cfg.PrivateKey); err != nil {
			return nil, err
		}
	}
	secrets := providers.WithSecrets(keySecrets(cfg.PrivateKey)...)

	var ex *providers.Client
	exOpts := append([]providers.Option{providers.WithRateLimit(ExchangeRateLimit, ExchangeBurst), secrets}, opts...)
	ex, err := providers.NewClient(ExchangeName, cmp.Or(cfg.ExchangeURL, DefaultExchangeURL),
		func(r *providers.Response) error { return classifyExchange(ex, r) }, nil, exOpts...)
	if err != nil {
		return nil, fmt.Errorf("coinbase: Config.ExchangeURL: %w", err)
	}
	var auth providers.Authorizer
	if s != nil {
		auth = s.authorize
	}
	var tr *providers.Client
	trOpts := append([]providers.Option{providers.WithRateLimit(TradeRateLimit, TradeBurst), secrets}, opts...)
	tr, err = providers.NewClient(ProviderName, cmp.Or(cfg.BaseURL, DefaultBaseURL),
		func(r *providers.Response) error { return classifyTrade(tr, r) }, auth, trOpts...)
	if err != nil {
		ex.Close()
		return nil, fmt.Errorf("coinbase: Config.BaseURL: %w", err)
	}
	return &Client{exchange: ex, trade: tr, signer: s, now: time.Now}, nil
}

// keySecrets returns the forms of a PEM key that must never be printed: the
// whole text and each line of its base64 body.
func keySecrets(pemText string) []string {
	if pemText == "" {
		return nil
	}
	out := []string{pemText}
	for _, line := range strings.FieldsFunc(strings.ReplaceAll(pemText, `\n`, "\n"), func(r rune) bool { return r == '\n' || r == '\r' }) {
		line = strings.TrimSpace(line)
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}

// Name returns "coinbase".
func (c *Client) Name() string { return ProviderName }

// Classes returns the asset class Coinbase serves: crypto.
func (c *Client) Classes() []providers.AssetClass { return []providers.AssetClass{providers.Crypto} }

// Close closes both API clients, once; later calls return the first result.
// It is safe to call concurrently.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = errors.Join(c.exchange.Close(), c.trade.Close())
	})
	return c.closeErr
}

// cryptoSymbol normalises symbol and requires a crypto pair; the Coinbase
// product id is the normalised form ("BTC-USD").
func cryptoSymbol(symbol string) (string, error) {
	sym, class, err := providers.NormalizeSymbol(symbol)
	if err != nil {
		return "", fmt.Errorf("coinbase: %w", err)
	}
	if class != providers.Crypto {
		return "", fmt.Errorf("coinbase: %s is %s, Coinbase serves crypto pairs such as BTC-USD: %w", sym, class, providers.ErrUnsupported)
	}
	return sym, nil
}
