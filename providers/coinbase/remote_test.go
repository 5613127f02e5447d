package coinbase_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/coinbase"
	"github.com/leakgate/leakgate/providers/internal/providertest"
)

// TestRemote talks to the real APIs, read-only (no order is placed). It runs
// only when COINBASE_API_KEY_NAME and COINBASE_API_PRIVATE_KEY are set.
func TestRemote(t *testing.T) {
	env := providertest.EnvOrSkip(t, "COINBASE_API_KEY_NAME", "COINBASE_API_PRIVATE_KEY")
	c, err := coinbase.New(coinbase.Config{KeyName: env[0], PrivateKey: env[1]})
	require.NoError(t, err)
	defer c.Close()
	ctx := t.Context()

	q, err := c.Quote(ctx, "BTC-USD")
	require.NoError(t, err)
	require.Positive(t, q.Price)

	to := time.Now().UTC().Truncate(24 * time.Hour)
	bars, err := c.Bars(ctx, providers.BarQuery{Symbol: "BTC-USD", Interval: providers.Day, From: to.AddDate(0, 0, -400), To: to})
	require.NoError(t, err)
	require.Greater(t, len(bars), 350, "two requests merged")

	acct, err := c.Account(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, acct.Balances)
}
