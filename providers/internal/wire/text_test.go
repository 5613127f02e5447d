package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
)

// TestTruncateMasksOpenSecretsFirst: input quoted in a decode error is cut
// only after the secrets of open clients are masked, so no prefix of a key
// survives the cut.
func TestTruncateMasksOpenSecretsFirst(t *testing.T) {
	const key = "K7Q2Z9W4V8X3J6B5N1M0"
	c, err := providers.NewClient("p", "http://127.0.0.1:1", nil, nil, providers.WithSecrets(key))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	for n := 50; n <= 90; n++ {
		got := Truncate(strings.Repeat("e", n) + key)
		for i := 0; i+4 <= len(key); i++ {
			require.NotContains(t, got, key[i:i+4])
		}
	}
}
