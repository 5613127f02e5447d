package sandbox

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckDate refuses a date outside the recorded data and names the
// range recorded.
func TestCheckDate(t *testing.T) {
	first, last := Recorded()
	require.Equal(t, day("1998-01-02"), first)
	require.Equal(t, day("2021-03-31"), last)
	tests := []struct {
		give    string
		wantErr bool
	}{
		{give: "1990-01-01", wantErr: true},
		{give: "1998-01-01", wantErr: true},
		{give: "1998-01-02"},
		{give: "2016-03-01"},
		{give: "2021-03-31"},
		{give: "2021-04-01", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			err := CheckDate(day(tt.give))
			if !tt.wantErr {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrDateOutside)
			require.ErrorContains(t, err, "1998-01-02 to 2021-03-31")
		})
	}
}
