package sandbox

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every prefix in Prefixes, each spelled by its exported constant, has a
// venue behind the router that the router can call, and the router has no
// venue under another name.
func TestRouterHasOneVenuePerPrefix(t *testing.T) {
	tests := []struct {
		give string
		want string
	}{
		{give: PrefixAlphaVantage, want: "alphavantage"},
		{give: PrefixCoinbaseExchange, want: "coinbase-exchange"},
		{give: PrefixCoinbase, want: "coinbase"},
		{give: PrefixOANDA, want: "oanda"},
		{give: PrefixPolygon, want: "polygon"},
		{give: PrefixFinnhub, want: "finnhub"},
		{give: PrefixYahoo, want: "yahoo"},
		{give: PrefixRedditWWW, want: "reddit-www"},
		{give: PrefixReddit, want: "reddit"},
		{give: PrefixLLM, want: "llm"},
	}
	h := New()
	var consts []string
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			require.Equal(t, tt.want, tt.give)
			require.NotNil(t, h.venues[tt.give], "no venue serves %s", tt.give)
			require.NotPanics(t, func() { call(t, h, "GET", "/"+tt.give+"/", nil) }, "the router reaches the venue")
		})
		consts = append(consts, tt.give)
	}
	require.ElementsMatch(t, consts, Prefixes, "the constants are the Prefixes")
	require.ElementsMatch(t, Prefixes, slices.Collect(maps.Keys(h.venues)), "one venue per prefix")
}

// Venues answer the faults the router injects in their own API's shape, and
// a path outside every prefix in the generic one.
func TestRouterFaultAnswersByVenue(t *testing.T) {
	tests := []struct {
		prefix     string
		wantType   string
		wantStatus int
	}{
		{prefix: PrefixAlphaVantage, wantType: ctHTML, wantStatus: 500},
		{prefix: PrefixCoinbaseExchange, wantType: ctJSONCharset, wantStatus: 500},
		{prefix: PrefixOANDA, wantType: ctJSON, wantStatus: 500},
		{prefix: PrefixYahoo, wantType: ctYahoo, wantStatus: 500},
		{prefix: PrefixReddit, wantType: ctReddit, wantStatus: 500},
		{prefix: "nowhere", wantType: ctHTML, wantStatus: 500},
	}
	h := New(WithFaultHeader())
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			res, _ := call(t, h, "GET", "/"+tt.prefix+"/x", nil, FaultHeader, "500")
			require.Equal(t, tt.wantStatus, res.StatusCode)
			require.Equal(t, tt.wantType, res.Header.Get("Content-Type"))
		})
	}
}
