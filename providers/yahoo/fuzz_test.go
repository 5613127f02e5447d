package yahoo_test

import (
	"errors"
	"testing"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/providertest"
	"github.com/leakgate/leakgate/providers/yahoo"
)

// FuzzParseChart feeds ParseChart every recorded chart answer and
// mutations of them: it must return bars in order or a typed error, never
// panic.
func FuzzParseChart(f *testing.F) {
	for _, name := range []string{
		"v8_chart_AAPL_1d_2020-01-01_2020-01-03.json",
		"v8_chart_AAPL_1d_2020-08-31_2020-11-07_with_split_dividend.json",
		"v8_chart_AAPL_1m_2025-02-01_weekend_empty.json",
		"v8_chart_BTC-USD_1d_2020-01-01_2020-01-03.json",
		"v8_chart_EURUSDX_1d_2020-01-01_2020-01-03.json",
		"v8_chart_error_400_data_doesnt_exist.json",
		"v8_chart_error_404_no_data_found.json",
	} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"chart":{"result":[{"meta":{"dataGranularity":"1d"},"timestamp":[3,2,1,2],"indicators":{"quote":[{"open":[1,null,3,4],"high":[1,2,3,4],"low":[1,2,3,4],"close":[1,2,3,4]}],"adjclose":[{"adjclose":[1,2,null,4]}]}}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ch, err := yahoo.ParseChart(body)
		if err != nil {
			var se *providers.StatusError
			if !errors.Is(err, providers.ErrDecode) && !errors.Is(err, providers.ErrNoData) && !errors.As(err, &se) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if len(ch.Bars) == 0 {
			t.Fatal("success without bars")
		}
		if ch.AdjClose != nil && len(ch.AdjClose) != len(ch.Bars) {
			t.Fatalf("%d adjclose for %d bars", len(ch.AdjClose), len(ch.Bars))
		}
		providertest.RequireSaneBars(t, ch.Bars)
	})
}
