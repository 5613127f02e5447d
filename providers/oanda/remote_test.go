package oanda_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/oanda"
)

// TestRemote talks to the real API, read-only (no order is placed). It runs
// only when OANDA_API_TOKEN and OANDA_ACCOUNT_ID are set; OANDA_LIVE=1
// selects fxTrade instead of fxTrade Practice.
func TestRemote(t *testing.T) {
	env := providertest.EnvOrSkip(t, "OANDA_API_TOKEN", "OANDA_ACCOUNT_ID")
	token, account := env[0], env[1]
	c, err := oanda.New(oanda.Config{Token: token, AccountID: account, Live: os.Getenv("OANDA_LIVE") == "1"})
	require.NoError(t, err)
	defer c.Close()
	ctx := t.Context()

	bars, err := c.Bars(ctx, providers.BarQuery{Symbol: "EUR_USD", Interval: providers.Day})
	require.NoError(t, err)
	require.NotEmpty(t, bars)

	q, err := c.Quote(ctx, "EUR_USD")
	require.NoError(t, err)
	require.Positive(t, q.Bid)
	require.Positive(t, q.Ask)

	acct, err := c.Account(ctx)
	require.NoError(t, err)
	require.Equal(t, account, acct.ID)
}
