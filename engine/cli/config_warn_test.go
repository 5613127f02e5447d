package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUnknownFFEVariableIsAWarning(t *testing.T) {
	t.Setenv("FFE_ALPHAVANTAGE_APIKEY", "not-a-setting-value")
	home := t.TempDir()
	env := func(k string) (string, bool) {
		if k == "HOME" {
			return home, true
		}
		if strings.HasPrefix(k, "FFE_") {
			return os.LookupEnv(k)
		}
		return "", false
	}
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), []string{"config", "show"}, strings.NewReader(""), &stdout, &stderr, WithEnv(env))
	require.Equal(t, 0, code, stderr.String())
	require.Contains(t, stderr.String(), "ffe: warning: environment variable FFE_ALPHAVANTAGE_APIKEY names no setting")
	require.Contains(t, stderr.String(), "did you mean FFE_ALPHAVANTAGE_API_KEY?")
	require.NotContains(t, stderr.String()+stdout.String(), "not-a-setting-value")
}
