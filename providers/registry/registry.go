package registry

import (
	"net/http"
	"slices"
	"strings"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/alphavantage"
	"github.com/leakgate/leakgate/providers/coinbase"
	"github.com/leakgate/leakgate/providers/finnhub"
	"github.com/leakgate/leakgate/providers/llm"
	"github.com/leakgate/leakgate/providers/oanda"
	"github.com/leakgate/leakgate/providers/polygon"
	"github.com/leakgate/leakgate/providers/reddit"
	"github.com/leakgate/leakgate/providers/sandbox"
	"github.com/leakgate/leakgate/providers/yahoo"
)

// Provider names, as used in providers:, routing: and the environment.
const (
	AlphaVantage = "alphavantage"
	Polygon      = "polygon"
	Finnhub      = "finnhub"
	Coinbase     = "coinbase"
	OANDA        = "oanda"
	Yahoo        = "yahoo"
	Reddit       = "reddit"
	LLM          = "llm"
)

// Secret names, as used in FFE_<PROVIDER>_<SECRET> and
// providers.<name>.<secret>_file.
const (
	APIKey       = "api_key"
	KeyName      = "key_name"
	PrivateKey   = "private_key"
	Token        = "token"
	ClientID     = "client_id"
	ClientSecret = "client_secret"
)

// URL settings: the keys under providers.<name> that override the base URL
// of one of a provider's APIs (Endpoint.Setting).
const (
	// BaseURL is every provider's main API.
	BaseURL = "base_url"
	// ExchangeURL is Coinbase's Exchange (market data) API.
	ExchangeURL = "exchange_url"
	// AuthURL is Reddit's OAuth token host.
	AuthURL = "auth_url"
)

// Provider is the facts of one provider. Copy freely; the slices are
// shared, so do not modify them.
type Provider struct {
	// Name is the provider's name, e.g. "coinbase".
	Name string
	// Classes are the asset classes its client serves market data for, as
	// the unified provider routes them; none for a provider that serves no
	// market data (Reddit, the LLM).
	Classes []providers.AssetClass
	// Secrets are the secrets it takes, in a stable order.
	Secrets []Secret
	// Endpoints are its HTTP APIs; the first is the one at BaseURL.
	Endpoints []Endpoint
	// New builds its client(s) from s. The caller must call Clients.Close.
	New func(s Settings) (Clients, error)
}

// Secret is one secret a provider takes.
type Secret struct {
	// Name is the secret's name, e.g. "private_key".
	Name string
	// Required means the provider is not built without it. Coinbase's keys
	// are not: its market data is public, and only trading needs them.
	Required bool
	// Env is the environment variable holding it,
	// FFE_<PROVIDER>_<NAME>; Env+"_FILE" names a file holding it.
	Env string
	// Sandbox is the stand-in value the sandbox accepts, used in sandbox
	// setups when the secret is not set. It is not a secret.
	Sandbox string
}

// Endpoint is one HTTP API of a provider.
type Endpoint struct {
	// Setting is the key under providers.<name> that overrides the API's
	// base URL: BaseURL, ExchangeURL or AuthURL.
	Setting string
	// Prefix is the path prefix the sandbox serves the API under: against
	// a sandbox at URL u, the API's base URL is u/Prefix.
	Prefix string
}

// Settings is what a constructor builds a client from.
type Settings struct {
	// URLs maps an Endpoint.Setting to the API's base URL; a missing or
	// empty one means the client's default (the real upstream).
	URLs map[string]string
	// Secrets maps a Secret.Name to its value; missing means unset.
	Secrets map[string]string
	// Options are the options of the shared client core (logger, rate
	// limit, retries, secrets to redact…); they win over Transport.
	Options []providers.Option
	// Transport, when not nil, carries every request (for example the
	// in-process sandbox's).
	Transport http.RoundTripper
	// Sandbox means the URLs point at a sandbox: settings it needs and
	// were not given take the sandbox's values (OANDA's account id).
	Sandbox bool

	// AccountID is the trading account (OANDA); with one, the client is
	// a broker too.
	AccountID string
	// Live selects OANDA's fxTrade API when its URL is the default.
	Live bool
	// UserAgent identifies the app (Reddit).
	UserAgent string
	// Model names the model to ask (LLM).
	Model string
}

// options returns the client options: the transport, then s.Options.
func (s Settings) options() []providers.Option {
	if s.Transport == nil {
		return s.Options
	}
	return append([]providers.Option{providers.WithTransport(s.Transport)}, s.Options...)
}

// Clients is what a constructor built: one client, seen through the roles
// it plays, and how to close it.
type Clients struct {
	// MarketData is set for a market-data provider.
	MarketData providers.MarketData
	// Broker is set when the client can trade.
	Broker providers.Broker
	// Posts is set for a social source.
	Posts providers.PostSource
	// LLM is set for the chat completions client.
	LLM *llm.Client
	// Close releases the client. It is idempotent.
	Close func() error
}

// secrets returns the Secrets names of provider name, all required or
// all optional, each with its environment variable and sandbox.Key as its
// stand-in.
func secrets(name string, required bool, names ...string) []Secret {
	out := make([]Secret, 0, len(names))
	for _, n := range names {
		out = append(out, Secret{Name: n, Required: required, Env: "FFE_" + strings.ToUpper(name+"_"+n), Sandbox: sandbox.Key})
	}
	return out
}

func api(prefix string) []Endpoint { return []Endpoint{{Setting: BaseURL, Prefix: prefix}} }

var (
	allClasses = []providers.AssetClass{providers.Equity, providers.Crypto, providers.Forex}
	list       = []Provider{
		{Name: AlphaVantage, Classes: allClasses, Secrets: secrets(AlphaVantage, true, APIKey),
			Endpoints: api(sandbox.PrefixAlphaVantage), New: newAlphaVantage},
		{Name: Polygon, Classes: allClasses, Secrets: secrets(Polygon, true, APIKey),
			Endpoints: api(sandbox.PrefixPolygon), New: newPolygon},
		{Name: Finnhub, Classes: allClasses, Secrets: secrets(Finnhub, true, APIKey),
			Endpoints: api(sandbox.PrefixFinnhub), New: newFinnhub},
		{Name: Coinbase, Classes: []providers.AssetClass{providers.Crypto}, Secrets: coinbaseSecrets(),
			Endpoints: []Endpoint{{Setting: BaseURL, Prefix: sandbox.PrefixCoinbase},
				{Setting: ExchangeURL, Prefix: sandbox.PrefixCoinbaseExchange}}, New: newCoinbase},
		{Name: OANDA, Classes: []providers.AssetClass{providers.Forex}, Secrets: secrets(OANDA, true, Token),
			Endpoints: api(sandbox.PrefixOANDA), New: newOANDA},
		{Name: Yahoo, Classes: allClasses, Endpoints: api(sandbox.PrefixYahoo), New: newYahoo},
		{Name: Reddit, Secrets: secrets(Reddit, true, ClientID, ClientSecret),
			Endpoints: []Endpoint{{Setting: BaseURL, Prefix: sandbox.PrefixReddit},
				{Setting: AuthURL, Prefix: sandbox.PrefixRedditWWW}}, New: newReddit},
		{Name: LLM, Secrets: secrets(LLM, true, APIKey), Endpoints: api(sandbox.PrefixLLM), New: newLLM},
	}
)

// coinbaseSecrets are Coinbase's CDP key pair: optional (market data is
// public), with the sandbox's own key pair as stand-ins.
func coinbaseSecrets() []Secret {
	s := secrets(Coinbase, false, KeyName, PrivateKey)
	s[0].Sandbox, s[1].Sandbox = sandbox.CoinbaseKeyName, sandbox.CoinbasePrivateKey
	return s
}

// All returns every provider, in a stable order.
func All() []Provider { return slices.Clone(list) }

// Names returns the name of every provider, in the order of All.
func Names() []string {
	out := make([]string, 0, len(list))
	for _, p := range list {
		out = append(out, p.Name)
	}
	return out
}

// MarketDataNames returns the names of the providers that serve market
// data, in the order of All.
func MarketDataNames() []string {
	var out []string
	for _, p := range list {
		if p.MarketData() {
			out = append(out, p.Name)
		}
	}
	return out
}

// Lookup returns provider name, and whether there is one.
func Lookup(name string) (Provider, bool) {
	i := slices.IndexFunc(list, func(p Provider) bool { return p.Name == name })
	if i < 0 {
		return Provider{}, false
	}
	return list[i], true
}

// SecretNames returns the name of every secret some provider takes, each
// once, in the order of All.
func SecretNames() []string {
	var out []string
	for _, p := range list {
		for _, s := range p.Secrets {
			if !slices.Contains(out, s.Name) {
				out = append(out, s.Name)
			}
		}
	}
	return out
}

// MarketData reports whether p serves market data.
func (p Provider) MarketData() bool { return len(p.Classes) > 0 }

// Prefix returns the sandbox route prefix of p's main API.
func (p Provider) Prefix() string { return p.Endpoints[0].Prefix }

// Secret returns p's secret name, and whether p takes it.
func (p Provider) Secret(name string) (Secret, bool) {
	i := slices.IndexFunc(p.Secrets, func(s Secret) bool { return s.Name == name })
	if i < 0 {
		return Secret{}, false
	}
	return p.Secrets[i], true
}

// Required returns the names of the secrets p is not built without.
func (p Provider) Required() []string {
	var out []string
	for _, s := range p.Secrets {
		if s.Required {
			out = append(out, s.Name)
		}
	}
	return out
}

// closer is a client of a provider package.
type closer interface{ Close() error }

// built completes a constructor's answer: roles with the client's Close,
// or err alone when there is no client.
func built[C closer](c C, err error, roles Clients) (Clients, error) {
	if err != nil {
		return Clients{}, err
	}
	roles.Close = c.Close
	return roles, nil
}

func newAlphaVantage(s Settings) (Clients, error) {
	c, err := alphavantage.New(alphavantage.Config{BaseURL: s.URLs[BaseURL], APIKey: s.Secrets[APIKey]}, s.options()...)
	return built(c, err, Clients{MarketData: c})
}

func newPolygon(s Settings) (Clients, error) {
	c, err := polygon.New(polygon.Config{BaseURL: s.URLs[BaseURL], APIKey: s.Secrets[APIKey]}, s.options()...)
	return built(c, err, Clients{MarketData: c})
}

func newFinnhub(s Settings) (Clients, error) {
	c, err := finnhub.New(finnhub.Config{BaseURL: s.URLs[BaseURL], APIKey: s.Secrets[APIKey]}, s.options()...)
	return built(c, err, Clients{MarketData: c})
}

func newCoinbase(s Settings) (Clients, error) {
	c, err := coinbase.New(coinbase.Config{BaseURL: s.URLs[BaseURL], ExchangeURL: s.URLs[ExchangeURL],
		KeyName: s.Secrets[KeyName], PrivateKey: s.Secrets[PrivateKey]}, s.options()...)
	return built(c, err, Clients{MarketData: c, Broker: c})
}

func newOANDA(s Settings) (Clients, error) {
	account := s.AccountID
	if account == "" && s.Sandbox {
		account = sandbox.OandaAccountID
	}
	c, err := oanda.New(oanda.Config{BaseURL: s.URLs[BaseURL], Live: s.Live, Token: s.Secrets[Token], AccountID: account},
		s.options()...)
	roles := Clients{MarketData: c}
	if account != "" {
		roles.Broker = c // orders need an account
	}
	return built(c, err, roles)
}

func newYahoo(s Settings) (Clients, error) {
	c, err := yahoo.New(yahoo.Config{BaseURL: s.URLs[BaseURL]}, s.options()...)
	return built(c, err, Clients{MarketData: c})
}

func newReddit(s Settings) (Clients, error) {
	c, err := reddit.New(reddit.Config{BaseURL: s.URLs[BaseURL], AuthURL: s.URLs[AuthURL],
		ClientID: s.Secrets[ClientID], ClientSecret: s.Secrets[ClientSecret], UserAgent: s.UserAgent}, s.options()...)
	return built(c, err, Clients{Posts: c})
}

func newLLM(s Settings) (Clients, error) {
	c, err := llm.New(llm.Config{BaseURL: s.URLs[BaseURL], APIKey: s.Secrets[APIKey], Model: s.Model}, s.options()...)
	return built(c, err, Clients{LLM: c})
}
