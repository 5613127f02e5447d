package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSecretInBodyHint checks the hint at a secret written into the YAML
// body: the variable that holds it, and none made up for a provider that
// takes no such secret.
func TestSecretInBodyHint(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "provider secret", body: "providers:\n  oanda:\n    token: abc\n", want: "set FFE_OANDA_TOKEN or"},
		{name: "second secret", body: "providers:\n  reddit:\n    client_secret: abc\n", want: "set FFE_REDDIT_CLIENT_SECRET or"},
		{name: "secret the provider does not take", body: "providers:\n  yahoo:\n    api_key: abc\n",
			want: "set the matching FFE_ environment variable or"},
		{name: "server token", body: "server:\n  token: abc\n", want: "set FFE_SERVER_TOKEN or"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeFile(t, "config.yaml", tt.body, 0o600)
			_, err := Load(LoadOptions{Path: file, LookupEnv: envOf(map[string]string{"HOME": "/h"})})
			require.ErrorContains(t, err, tt.want)
			require.NotContains(t, err.Error(), "abc")
		})
	}
}
