package yahoo_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/yahoo"
)

// TestRemote reads a month of AAPL from the real API. Yahoo needs no key,
// so it runs only when YAHOO_LIVE=1: no test may need the internet.
func TestRemote(t *testing.T) {
	providertest.EnvOrSkip(t, "YAHOO_LIVE=1")
	c, err := yahoo.New(yahoo.Config{})
	require.NoError(t, err)
	defer c.Close()
	to := time.Now().UTC()
	bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "AAPL", Interval: providers.Day, From: to.AddDate(0, -1, 0), To: to})
	require.NoError(t, err)
	require.NotEmpty(t, bars)
	q, err := c.Quote(t.Context(), "EUR_USD")
	require.NoError(t, err)
	require.Positive(t, q.Price)
}
