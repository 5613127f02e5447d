package registry_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/llm"
	"github.com/leakgate/leakgate/providers/registry"
	"github.com/leakgate/leakgate/providers/sandbox"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// symbols has one recorded symbol per asset class.
var symbols = map[providers.AssetClass]string{providers.Equity: "AAPL", providers.Crypto: "BTC-USD", providers.Forex: "EUR_USD"}

// June 2017 is recorded for every symbol.
var june = providers.BarQuery{Interval: providers.Day, From: time.Date(2017, 6, 1, 0, 0, 0, 0, time.UTC),
	To: time.Date(2017, 6, 30, 0, 0, 0, 0, time.UTC)}

// sandboxSettings points every API of p at h and gives every secret its
// sandbox stand-in, as the engine does in sandbox mode; clients neither
// wait for a rate limit nor retry, so a failure shows at once.
func sandboxSettings(p registry.Provider, h *sandbox.Handler) registry.Settings {
	s := registry.Settings{URLs: map[string]string{}, Secrets: map[string]string{}, Transport: h.Transport(), Sandbox: true,
		Options: []providers.Option{providers.WithRateLimit(rate.Inf, 1), providers.WithRetry(1, 0, 0)}}
	for _, e := range p.Endpoints {
		s.URLs[e.Setting] = "http://sandbox/" + e.Prefix
	}
	for _, sec := range p.Secrets {
		s.Secrets[sec.Name] = sec.Sandbox
	}
	return s
}

// TestEveryProviderTalksToTheSandbox builds each provider's client
// against the in-process sandbox, uses every role it plays, checks that
// each of its endpoints' prefixes answered, and closes it twice.
func TestEveryProviderTalksToTheSandbox(t *testing.T) {
	for _, p := range registry.All() {
		t.Run(p.Name, func(t *testing.T) {
			h := sandbox.New()
			c, err := p.New(sandboxSettings(p, h))
			require.NoError(t, err)
			require.NotNil(t, c.Close)
			t.Cleanup(func() { _ = c.Close() }) // when a check fails; Close twice below
			ctx := t.Context()

			require.Equal(t, p.MarketData(), c.MarketData != nil, "market data client")
			if c.MarketData != nil {
				require.ElementsMatch(t, p.Classes, c.MarketData.Classes(), "registry classes vs client's")
			}
			for _, class := range p.Classes {
				q := june
				q.Symbol = symbols[class]
				bars, err := c.MarketData.Bars(ctx, q)
				require.NoError(t, err, class)
				require.NotEmpty(t, bars, class)
			}
			if c.Broker != nil {
				_, err := c.Broker.Account(ctx)
				require.NoError(t, err)
			}
			if c.Posts != nil {
				posts, err := c.Posts.Posts(ctx, providers.PostQuery{Subreddit: "stocks", Limit: 5})
				require.NoError(t, err)
				require.NotEmpty(t, posts)
			}
			if c.LLM != nil {
				got, err := c.LLM.Complete(ctx, []llm.Message{{Role: llm.User, Content: "AAPL"}})
				require.NoError(t, err)
				require.NotEmpty(t, got.Content)
			}

			stats := h.Stats()
			for _, e := range p.Endpoints {
				require.Contains(t, sandbox.Prefixes, e.Prefix)
				st := stats[e.Prefix]
				require.Positive(t, st.Requests, "nothing asked of %s (%s)", e.Prefix, e.Setting)
				require.Equal(t, st.Requests, st.ByStatus[http.StatusOK], "%s answered %v", e.Prefix, st.ByStatus)
			}

			require.NoError(t, c.Close())
			require.NoError(t, c.Close(), "second Close")
		})
	}
}

// TestRequiredSecrets checks Secret.Required against the constructors:
// without a required secret a provider is not built; without all its
// optional ones it is.
func TestRequiredSecrets(t *testing.T) {
	h := sandbox.New()
	for _, p := range registry.All() {
		t.Run(p.Name, func(t *testing.T) {
			for _, s := range p.Secrets {
				if !s.Required {
					continue
				}
				set := sandboxSettings(p, h)
				delete(set.Secrets, s.Name)
				c, err := p.New(set)
				if err == nil {
					_ = c.Close()
				}
				require.Error(t, err, "built without %s", s.Name)
			}
			set := sandboxSettings(p, h)
			for _, s := range p.Secrets {
				if !s.Required {
					delete(set.Secrets, s.Name)
				}
			}
			c, err := p.New(set)
			require.NoError(t, err, "without its optional secrets")
			require.NoError(t, c.Close())
		})
	}
}

func TestFacts(t *testing.T) {
	require.Equal(t, []string{"alphavantage", "polygon", "finnhub", "coinbase", "oanda", "yahoo", "reddit", "llm"}, registry.Names())
	require.Equal(t, []string{"alphavantage", "polygon", "finnhub", "coinbase", "oanda", "yahoo"}, registry.MarketDataNames())
	for _, p := range registry.All() {
		got, ok := registry.Lookup(p.Name)
		require.True(t, ok)
		require.Equal(t, p.Name, got.Name)
		require.Equal(t, registry.BaseURL, p.Endpoints[0].Setting, p.Name)
		require.Equal(t, p.Endpoints[0].Prefix, p.Prefix())
		for _, s := range p.Secrets {
			require.Equal(t, "FFE_"+strings.ToUpper(p.Name)+"_"+strings.ToUpper(s.Name), s.Env)
			require.NotEmpty(t, s.Sandbox, s.Env)
			got, ok := p.Secret(s.Name)
			require.True(t, ok)
			require.Equal(t, s, got)
		}
	}
	_, ok := registry.Lookup("polygone")
	require.False(t, ok)
}
