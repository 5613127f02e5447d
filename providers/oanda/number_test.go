package oanda

import (
	"testing"

	"github.com/leakgate/leakgate/providers/internal/wire"
)

func TestMidpoint(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"1.29360", "1.29470", 1.29415},
		{"141.501", "141.518", 141.5095},
		{"1.1", "1.2", 1.15},
		{"1e2", "3", 51.5},
	}
	for _, tt := range tests {
		a, _ := wire.ParseFloat([]byte(tt.a))
		b, _ := wire.ParseFloat([]byte(tt.b))
		places := max(decimals([]byte(tt.a)), decimals([]byte(tt.b)))
		if decimals([]byte(tt.a)) < 0 || decimals([]byte(tt.b)) < 0 {
			places = -1
		}
		if got := midpoint(a, b, places); got != tt.want {
			t.Errorf("midpoint(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
