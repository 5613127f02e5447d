package export

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestParseRangeBounds holds absolute ranges to the bounds of relative
// ones: nothing before max reaches, no span over 100 years, no end far
// past now.
func TestParseRangeBounds(t *testing.T) {
	tests := []struct {
		give       string
		wantErr    string
		wantFromOK time.Time
	}{
		{give: "0001-01-01/9999-12-31", wantErr: "1917-01-02"},
		{give: "0001-01-01/2016-12-31", wantErr: "100 years"},
		{give: "1900-01-01/2016-12-31", wantErr: "100 years"},
		{give: "2016-01-01/9999-12-31", wantErr: "2018-01-02"},
		{give: "1917-01-02/2016-12-31", wantFromOK: time.Date(1917, 1, 2, 0, 0, 0, 0, time.UTC)},
		{give: "2016-01-01/2017-06-30", wantFromOK: time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			from, _, err := ParseRange(tt.give, now)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantFromOK, from)
		})
	}
}

// TestResolveEmptySymbols refuses an explicit empty symbol list, which
// would otherwise export the whole watchlist.
func TestResolveEmptySymbols(t *testing.T) {
	d := Defaults{Symbols: []string{"AAPL"}, Range: "1y"}
	_, err := Request{Symbols: []string{}}.Resolve(d, now)
	fe := FieldErrors(err)
	require.Len(t, fe, 1)
	require.Equal(t, "symbols", fe[0].Field)
	require.Equal(t, "empty; omit the field to export the watchlist", fe[0].Detail)

	spec, err := Request{}.Resolve(d, now)
	require.NoError(t, err)
	require.Equal(t, []string{"AAPL"}, spec.Symbols)
}

// TestResolveCapsEchoedValues keeps problem details short whatever the
// input.
func TestResolveCapsEchoedValues(t *testing.T) {
	huge := strings.Repeat("y", 100<<10)
	_, err := Request{Symbols: []string{huge}, Range: huge, Interval: huge, Formats: []string{huge}}.Resolve(Defaults{}, now)
	require.Error(t, err)
	for _, fe := range FieldErrors(err) {
		require.Less(t, len(fe.Detail), 400, "%s: %.200s", fe.Field, fe.Detail)
	}
}
