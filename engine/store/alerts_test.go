package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/monitor"
)

func TestAlertTable(t *testing.T) {
	s := openTest(t)
	alerts := s.Alerts().Keep(3)
	for i := range 5 {
		sym := "AAPL"
		if i%2 == 1 {
			sym = "SPY"
		}
		require.NoError(t, alerts.RecordAlert(t.Context(), monitor.Alert{Symbol: sym, Price: float64(100 + i), Reference: 100,
			Change: float64(i) / 100, Direction: monitor.Up, Provider: "test", Time: t0.Add(time.Duration(i) * time.Second)}))
	}
	tests := []struct {
		name   string
		symbol string
		limit  int
		want   []float64 // prices, newest first
	}{
		{name: "only the newest keep alerts remain", want: []float64{104, 103, 102}},
		{name: "limit", limit: 2, want: []float64{104, 103}},
		{name: "one symbol", symbol: "SPY", limit: 10, want: []float64{103}},
		{name: "unknown symbol", symbol: "XYZ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := alerts.List(t.Context(), tt.symbol, tt.limit)
			require.NoError(t, err)
			var prices []float64
			for _, a := range got {
				prices = append(prices, a.Price)
			}
			require.Equal(t, tt.want, prices)
		})
	}
	all, err := s.Alerts().List(t.Context(), "", 1)
	require.NoError(t, err)
	require.Equal(t, monitor.Alert{Symbol: "AAPL", Price: 104, Reference: 100, Change: 0.04, Direction: monitor.Up,
		Provider: "test", Time: t0.Add(4 * time.Second)}, all[0])
}
