package engine

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/registry"
)

// TestRegistryEndToEnd walks the provider registry: the configuration
// knows each provider and reads each of its secrets from its variable, its
// _FILE variable and its YAML file entry; and the engine's wiring builds
// it against the in-process sandbox, in the roles the registry gives it,
// and closes it.
func TestRegistryEndToEnd(t *testing.T) {
	require.Equal(t, registry.Names(), config.ProviderNames)
	specs := config.SecretSpecs()
	for _, p := range registry.All() {
		t.Run(p.Name, func(t *testing.T) {
			for _, s := range p.Secrets {
				spec := config.SecretSpec{Provider: p.Name, Name: s.Name, Env: s.Env}
				require.Contains(t, specs, spec)
				requireSecretLoads(t, spec)
			}
			if p.MarketData() {
				cfg := config.Default()
				for _, class := range p.Classes {
					cfg.Routing[class] = []string{p.Name}
				}
				require.NoError(t, cfg.Validate(), "routing to %s", p.Name)
			}

			ds, err := newDataSource(testConfig(t), options{}, DiscardLogger())
			require.NoError(t, err)
			t.Cleanup(func() { _ = ds.close() }) // when a check fails; closed twice below
			c, err := ds.client(p.Name)
			require.NoError(t, err)
			require.NotNil(t, c.close, "not built in sandbox mode")
			require.Equal(t, p.MarketData(), c.md != nil, "market data")
			require.Equal(t, p.Name == registry.Reddit, c.posts != nil, "posts")
			require.Equal(t, p.Name == registry.LLM, c.llm != nil, "llm")
			if p.MarketData() {
				day := time.Date(2017, 6, 1, 0, 0, 0, 0, time.UTC)
				bars, err := c.md.Bars(t.Context(), providers.BarQuery{Symbol: symbolOf(p.Classes[0]), Interval: providers.Day,
					From: day, To: day.AddDate(0, 1, 0)})
				require.NoError(t, err)
				require.NotEmpty(t, bars)
				var asked int64
				for _, e := range p.Endpoints {
					asked += ds.sandbox.Stats()[e.Prefix].Requests
				}
				require.Positive(t, asked, "no request under the prefixes of %s", p.Name)
			}
			require.NoError(t, ds.close())
			require.NoError(t, ds.close(), "second close")
		})
	}
}

func symbolOf(class providers.AssetClass) string {
	return map[providers.AssetClass]string{providers.Equity: "AAPL", providers.Crypto: "BTC-USD", providers.Forex: "EUR_USD"}[class]
}

// requireSecretLoads checks that config.Load reads secret s from each of
// its three sources.
func requireSecretLoads(t *testing.T, s config.SecretSpec) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(file, []byte("from-file\n"), 0o600))
	yaml := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(yaml, []byte("providers:\n  "+s.Provider+":\n    "+s.FileKey()+": "+file+"\n"), 0o600))
	empty := filepath.Join(dir, "empty.yaml")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	tests := []struct {
		name string
		path string
		env  map[string]string
		want string
	}{
		{name: "variable", path: empty, env: map[string]string{s.Env: "from-env"}, want: "from-env"},
		{name: "file variable", path: empty, env: map[string]string{s.Env + "_FILE": file}, want: "from-file"},
		{name: "yaml file entry", path: yaml, want: "from-file"},
	}
	for _, tt := range tests {
		cfg, err := config.Load(config.LoadOptions{Path: tt.path, DataDir: dir,
			LookupEnv: func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }, Environ: func() []string { return nil }})
		require.NoError(t, err, "%s: %s", s.Env, tt.name)
		require.Equal(t, tt.want, cfg.Secret(s.Provider, s.Name), "%s: %s", s.Env, tt.name)
	}
}
