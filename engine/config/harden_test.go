package config

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// loadWith loads a config from an optional YAML body and env.
func loadWith(t *testing.T, yamlBody string, env map[string]string) (*Config, error) {
	t.Helper()
	e := map[string]string{"HOME": t.TempDir()}
	for k, v := range env {
		e[k] = v
	}
	opts := LoadOptions{LookupEnv: envOf(e), Environ: func() []string {
		var out []string
		for k, v := range e {
			out = append(out, k+"="+v)
		}
		return out
	}}
	if yamlBody != "" {
		opts.Path = writeFile(t, "c.yaml", yamlBody, 0o644)
	}
	return Load(opts)
}

func TestNonFiniteNumbersAreRefused(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		wantKey string
	}{
		{name: "env threshold NaN", env: map[string]string{"FFE_AGENT_CONFIDENCE_THRESHOLD": "NaN"}, wantKey: "FFE_AGENT_CONFIDENCE_THRESHOLD"},
		{name: "env threshold inf", env: map[string]string{"FFE_AGENT_CONFIDENCE_THRESHOLD": "-Inf"}, wantKey: "FFE_AGENT_CONFIDENCE_THRESHOLD"},
		{name: "env fee NaN", env: map[string]string{"FFE_FEES_FEE_BPS": "nan"}, wantKey: "FFE_FEES_FEE_BPS"},
		{name: "env cash inf", env: map[string]string{"FFE_PLATFORM_STARTING_CASH": "+Inf"}, wantKey: "FFE_PLATFORM_STARTING_CASH"},
		{name: "env rate limit NaN", env: map[string]string{"FFE_PROVIDERS_POLYGON_RATE_LIMIT": "NaN"}, wantKey: "FFE_PROVIDERS_POLYGON_RATE_LIMIT"},
		{name: "yaml threshold nan", yaml: "agent:\n  confidence_threshold: .nan\n", wantKey: "agent.confidence_threshold"},
		{name: "yaml fee nan", yaml: "fees:\n  fee_bps: .nan\n", wantKey: "fees.fee_bps"},
		{name: "yaml cash inf", yaml: "platform:\n  starting_cash: .inf\n", wantKey: "platform.starting_cash"},
		{name: "yaml stop multiple inf", yaml: "risk:\n  atr_stop_multiple: .Inf\n", wantKey: "risk.atr_stop_multiple"},
		{name: "yaml rate limit -inf", yaml: "providers:\n  polygon:\n    rate_limit: -.inf\n", wantKey: "providers.polygon.rate_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadWith(t, tt.yaml, tt.env)
			var ce *Error
			require.ErrorAs(t, err, &ce)
			require.Contains(t, err.Error(), tt.wantKey)
			require.Contains(t, err.Error(), "finite")
		})
	}
}

func TestValidateRefusesNonFiniteNumbers(t *testing.T) {
	tests := []struct {
		name    string
		set     func(c *Config)
		wantKey string
	}{
		{name: "threshold", set: func(c *Config) { c.Agent.ConfidenceThreshold = math.NaN() }, wantKey: "agent.confidence_threshold"},
		{name: "fee", set: func(c *Config) { c.Fees.FeeBps = math.NaN() }, wantKey: "fees.fee_bps"},
		{name: "slippage", set: func(c *Config) { c.Fees.SlippageBps = math.NaN() }, wantKey: "fees.slippage_bps"},
		{name: "cash", set: func(c *Config) { c.Platform.StartingCash = math.Inf(1) }, wantKey: "platform.starting_cash"},
		{name: "reward", set: func(c *Config) { c.Risk.RewardRisk = math.Inf(1) }, wantKey: "risk.reward_risk"},
		{name: "rate", set: func(c *Config) {
			p := c.Providers[Polygon]
			p.RateLimit = math.NaN()
			c.Providers[Polygon] = p
		}, wantKey: "providers.polygon.rate_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.DataDir = t.TempDir()
			tt.set(c)
			err := c.Validate()
			var ce *Error
			require.ErrorAs(t, err, &ce)
			require.Contains(t, err.Error(), tt.wantKey)
		})
	}
}

// Zero is a valid confidence threshold (execute every BUY and SELL) and
// is kept as zero from every source.
func TestZeroThresholdIsKept(t *testing.T) {
	cfg, err := loadWith(t, "agent:\n  confidence_threshold: 0\n", nil)
	require.NoError(t, err)
	require.Zero(t, cfg.Agent.ConfidenceThreshold)
	cfg, err = loadWith(t, "", map[string]string{"FFE_AGENT_CONFIDENCE_THRESHOLD": "0"})
	require.NoError(t, err)
	require.Zero(t, cfg.Agent.ConfidenceThreshold)
}

func TestUnknownEnvVariablesWarn(t *testing.T) {
	cfg, err := loadWith(t, "", map[string]string{
		"FFE_ALPHAVANTAGE_APIKEY":    "k3y-value-not-printed",
		"FFE_RISK_MAX_POSITON_SHARE": "0.1",
		"FFE_DATA_SOURCE":            "sandbox",
		"FFE_LLM_API_KEY_FILE":       "",
		"FFE_CONFIG":                 "",
		"NOT_FFE":                    "x",
	})
	require.NoError(t, err)
	ws := cfg.Warnings()
	require.Len(t, ws, 2, "%q", ws)
	all := strings.Join(ws, "\n")
	require.Contains(t, all, "FFE_ALPHAVANTAGE_APIKEY")
	require.Contains(t, all, "FFE_ALPHAVANTAGE_API_KEY")
	require.Contains(t, all, "FFE_RISK_MAX_POSITON_SHARE")
	require.Contains(t, all, "FFE_RISK_MAX_POSITION_SHARE")
	require.NotContains(t, all, "k3y-value")
	require.Equal(t, ws, cfg.Clone().Warnings())
}

func TestYAMLTypeErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{name: "float", yaml: "risk:\n  max_position_share: lots\n",
			want: []string{"line 2", `risk.max_position_share: cannot parse "lots" as a number`}},
		{name: "int", yaml: "data:\n  interval: 1d\n  history_bars: many\n",
			want: []string{"line 3", `data.history_bars: cannot parse "many" as a whole number`}},
		{name: "bool", yaml: "sentiment:\n  enabled: perhaps\n",
			want: []string{"line 2", `sentiment.enabled: cannot parse "perhaps" as true or false`}},
		{name: "provider bool", yaml: "providers:\n  polygon:\n    enabled: sometimes\n",
			want: []string{"line 3", `providers.polygon.enabled: cannot parse "sometimes" as true or false`}},
		{name: "server int", yaml: "server:\n  workers: 1.5\n",
			want: []string{"line 2", `server.workers: cannot parse "1.5" as a whole number`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadWith(t, tt.yaml, nil)
			var ce *Error
			require.ErrorAs(t, err, &ce)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}
