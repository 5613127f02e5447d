package config

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzDecode feeds the config decoder a YAML document and one FFE_*
// variable. Whatever they hold, decoding must not panic, every error must be
// an *Error, and a configuration that validates holds only finite numbers.
func FuzzDecode(f *testing.F) {
	seeds := []struct{ yaml, name, value string }{
		{"", "FFE_AGENT_CONFIDENCE_THRESHOLD", "NaN"},
		{"", "FFE_FEES_FEE_BPS", "+Inf"},
		{"agent:\n  confidence_threshold: .nan\n", "", ""},
		{"fees:\n  fee_bps: .nan\n", "", ""},
		{"platform:\n  starting_cash: .inf\n", "", ""},
		{"risk:\n  max_position_share: lots\n", "", ""},
		{"server:\n  workers: 1.5\n", "", ""},
		{"providers:\n  polygon:\n    rate_limit: -.inf\n    enabled: maybe\n", "", ""},
		{"providers:\n  polygon:\n    api_key: x\n", "", ""},
		{"a: &a [*a]\n", "FFE_ROUTING_EQUITY", "yahoo,polygon"},
		{"watchlist: [AAPL, 'BTC-USD']\nrouting:\n  equity: [yahoo]\n", "FFE_DATA_HISTORY_BARS", "60"},
		{"agent:\n  confidence_threshold: 0\n", "FFE_AGENT_MAX_CYCLES", "-1"},
	}
	for _, s := range seeds {
		f.Add(s.yaml, s.name, s.value)
	}
	f.Fuzz(func(t *testing.T, doc, name, value string) {
		cfg := Default()
		cfg.DataDir = "/data"
		cfg.Server.ExportDir = "/data/exports"
		env := func(k string) (string, bool) {
			if k == name {
				return value, true
			}
			return "", false
		}
		err := decode(cfg, "f.yaml", []byte(doc))
		if err == nil {
			err = applyEnv(cfg, env)
		}
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not a *config.Error", err, err)
			}
			return
		}
		if key, v, ok := firstNonFinite(reflectConfig(cfg), ""); ok {
			t.Fatalf("%s = %v passed validation", key, v)
		}
	})
}

func reflectConfig(c *Config) reflect.Value { return reflect.ValueOf(c).Elem() }
