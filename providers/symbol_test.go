package providers_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
)

func TestNormalizeSymbol(t *testing.T) {
	tests := []struct {
		give      string
		want      string
		wantClass providers.AssetClass
		wantErr   bool
	}{
		{give: "aapl", want: "AAPL", wantClass: providers.Equity},
		{give: " BRK.B ", want: "BRK.B", wantClass: providers.Equity},
		{give: "btc-usd", want: "BTC-USD", wantClass: providers.Crypto},
		{give: "BTC/USD", want: "BTC-USD", wantClass: providers.Crypto},
		{give: "BTCUSD", want: "BTC-USD", wantClass: providers.Crypto},
		{give: "X:BTCUSD", want: "BTC-USD", wantClass: providers.Crypto},
		{give: "ADA-USDT", want: "ADA-USDT", wantClass: providers.Crypto},
		{give: "EURUSD=X", want: "EUR_USD", wantClass: providers.Forex},
		{give: "C:EURUSD", want: "EUR_USD", wantClass: providers.Forex},
		{give: "eur/usd", want: "EUR_USD", wantClass: providers.Forex},
		{give: "GBP_USD", want: "GBP_USD", wantClass: providers.Forex},
		{give: "", wantErr: true},
		{give: "AA PL", wantErr: true},
		{give: "A-B-C", wantErr: true},
		{give: "FOO-BAR", wantErr: true},
		{give: "VERYLONGTICKER", wantErr: true},
		{give: "../etc", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			got, class, err := providers.NormalizeSymbol(tt.give)
			if tt.wantErr {
				require.ErrorIs(t, err, providers.ErrBadSymbol)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantClass, class)
		})
	}
}
