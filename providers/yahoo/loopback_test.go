package yahoo_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/yahoo"
)

// fixtureServer serves the recorded charts the way query2.finance.yahoo.com
// does, under an optional path prefix (as the sandbox does).
func fixtureServer(t *testing.T, prefix string) http.Handler {
	files := map[string]string{
		"AAPL":     "v8_chart_AAPL_1d_2020-08-31_2020-11-07_with_split_dividend.json",
		"BTC-USD":  "v8_chart_BTC-USD_1d_2020-01-01_2020-01-03.json",
		"EURUSD=X": "v8_chart_EURUSDX_1d_2020-01-01_2020-01-03.json",
	}
	notFound := fixture(t, "v8_chart_error_404_no_data_found.json")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		sym, ok := strings.CutPrefix(r.URL.Path, prefix+"/v8/finance/chart/")
		file, known := files[sym]
		if !ok || !known {
			w.WriteHeader(http.StatusNotFound)
			w.Write(notFound)
			return
		}
		w.Write(fixture(t, file))
	})
}

func TestCloseReleasesEverything(t *testing.T) {
	providertest.CheckClose(t, fixtureServer(t, "/yahoo"), func(base string) (io.Closer, error) {
		return yahoo.New(yahoo.Config{BaseURL: base + "/yahoo"}, providertest.Options()...)
	}, func(cl io.Closer) {
		c := cl.(*yahoo.Client)
		ctx := context.Background()
		for _, sym := range []string{"AAPL", "BTC-USD", "EUR_USD"} {
			bars, err := c.Bars(ctx, providers.BarQuery{Symbol: sym, Interval: providers.Day, From: day(2020, 1, 1), To: day(2020, 12, 31)})
			require.NoError(t, err, sym)
			require.NotEmpty(t, bars)
			_, err = c.Quote(ctx, sym)
			require.NoError(t, err, sym)
		}
		_, err := c.Bars(ctx, providers.BarQuery{Symbol: "MDLY"})
		require.ErrorIs(t, err, providers.ErrNotFound)
	})
}

func TestUnclosedClientIsReported(t *testing.T) {
	srv := providertest.NewServer(t, fixtureServer(t, ""))
	providertest.CheckUnclosedTracker(t, "yahoo", func(l *slog.Logger) (io.Closer, error) {
		c, err := yahoo.New(yahoo.Config{BaseURL: srv.URL}, providers.WithLogger(l))
		if err != nil {
			return nil, err
		}
		_, err = c.Bars(context.Background(), providers.BarQuery{Symbol: "BTC-USD", From: day(2020, 1, 1), To: day(2020, 1, 3)})
		return c, err
	})
	srv.RequireNoOpenConns(t) // the tracker closed the dropped client's idle connection
}
