package sandbox

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
)

func TestSymbolsAndHistory(t *testing.T) {
	require.Equal(t, []string{"AAPL", "BTC-USD", "EUR_USD", "SPY"}, Symbols())
	tests := []struct {
		give        string
		n           int
		first, last string
	}{
		{"AAPL", 3379, "2004-08-19", "2018-01-19"},
		{"spy", 5849, "1998-01-02", "2021-03-31"},
		{"BTC/USD", 1318, "2014-12-01", "2018-08-13"},
		{"EURUSD=X", 3738, "2007-01-01", "2018-12-31"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			bars, err := History(tt.give)
			require.NoError(t, err)
			require.Len(t, bars, tt.n)
			require.Equal(t, tt.first, bars[0].Time.Format(time.DateOnly))
			require.Equal(t, tt.last, bars[len(bars)-1].Time.Format(time.DateOnly))
			for i, b := range bars {
				require.Equal(t, time.UTC, b.Time.Location())
				require.Zero(t, b.Time.Hour())
				if i > 0 {
					require.True(t, bars[i-1].Time.Before(b.Time))
				}
			}
		})
	}
	_, err := History("MSFT")
	require.ErrorIs(t, err, providers.ErrNotFound)
	_, err = History("")
	require.ErrorIs(t, err, providers.ErrBadSymbol)
}

func TestHistoryIsACopy(t *testing.T) {
	a, err := History("AAPL")
	require.NoError(t, err)
	a[0].Close = -1
	b, err := History("AAPL")
	require.NoError(t, err)
	require.Equal(t, 2.193571, b[0].Close)
}

func TestRecordedValues(t *testing.T) {
	// First and last rows of the CSVs, read from the files.
	eur, err := History("EUR_USD")
	require.NoError(t, err)
	require.Equal(t, providers.Bar{Time: day("2007-01-01"), Open: 1.31977, High: 1.32175, Low: 1.3192, Close: 1.32145}, eur[0],
		"mid of bid 1.31927/1.32125/1.3187/1.32095 and ask 1.32027/1.32225/1.3197/1.32195")
	btc, err := History("BTC-USD")
	require.NoError(t, err)
	require.Equal(t, providers.Bar{Time: day("2018-08-13"), Open: 6316, High: 6544.99, Low: 6139.57, Close: 6253.67, Volume: 10178.43146644}, btc[len(btc)-1])
	spy, err := History("SPY")
	require.NoError(t, err)
	require.Equal(t, providers.Bar{Time: day("1998-01-02"), Open: 97.31, High: 97.53, Low: 96.53, Close: 97.36, Volume: 2150000}, spy[0])
}

// The raw SPY series (last trades) and Yahoo's export (official closes)
// agree on the days they share to within a few percent, and the adjusted
// closes follow Yahoo's adjustment factors.
func TestSPYSourcesAgree(t *testing.T) {
	s := New().core.data["SPY"]
	raw, err := pricesFS.ReadFile("data/prices/SPY_daily_2007-12-31_2017-12-29_yahoo.csv")
	require.NoError(t, err)
	y, err := parseCSV(raw, yahooCSV)
	require.NoError(t, err)
	matched := 0
	for j, yb := range y.bars {
		i := s.search(yb.Time)
		if i < len(s.bars) && s.bars[i].Time.Equal(yb.Time) {
			matched++
			require.InEpsilon(t, yb.Close, s.bars[i].Close, 0.03, yb.Time.Format(time.DateOnly))
			require.InEpsilon(t, y.adj[j]/yb.Close, s.adj[i]/s.bars[i].Close, 1e-5)
		}
	}
	require.Greater(t, matched, 2500)
	last := len(s.bars) - 1
	require.Equal(t, s.bars[last].Close, s.adj[last], "after the export the factor is its last, 1")
	require.InEpsilon(t, y.adj[0]/y.bars[0].Close, s.adj[0]/s.bars[0].Close, 1e-5, "before it, its first")
}

func TestParseCSVErrors(t *testing.T) {
	tests := []struct{ name, give string }{
		{"empty", ""},
		{"header only", "date,open,high,low,close,volume\n"},
		{"short row", "date,open,high,low,close,volume\n2020-01-01,1,2,3\n"},
		{"bad date", "date,open,high,low,close,volume\n01/01/2020,1,2,3,4,5\n"},
		{"bad number", "date,open,high,low,close,volume\n2020-01-01,1,x,3,4,5\n"},
		{"not ascending", "date,open,high,low,close,volume\n2020-01-02,1,2,3,4,5\n2020-01-01,1,2,3,4,5\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseCSV([]byte(tt.give), plainCSV)
			require.Error(t, err)
		})
	}
}

func TestNewYorkTime(t *testing.T) {
	tests := []struct {
		date string
		give func(time.Time) time.Time
		want int64
	}{
		{"2005-04-01", nyMidnight, 1112331600}, // Polygon's recording, EST
		{"2005-04-04", nyMidnight, 1112587200}, // EDT from 2005-04-03
		{"2019-09-24", nyMidnight, 1569297600}, // Finnhub's example
		{"2020-01-02", nyOpen, 1577975400},     // Yahoo's recording
		{"2020-08-31", nyOpen, 1598880600},     // Yahoo's split event
		{"2018-03-11", nyOpen, 1520775000},     // DST starts at 02:00 that day
		{"2018-11-04", nyMidnight, 1541304000}, // DST still on at 00:00
		{"2018-11-04", nyOpen, 1541341800},     // and off by 09:30
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.give(day(tt.date)).Unix(), tt.date)
	}
}

func TestAppendDec(t *testing.T) {
	tests := []struct {
		v    float64
		dec  int
		want string
	}{
		{122.67, 4, "122.6700"}, {2.250714, 4, "2.250714"}, {100, 4, "100.0000"}, {31269600, 0, "31269600"},
		{0.5, 0, "0.5"}, {1.14657, 5, "1.14657"}, {-0.8, 2, "-0.80"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, string(appendDec(nil, tt.v, tt.dec)))
	}
	require.Equal(t, `"a\"b\\c\n\u0001é"`, string(appendStr(nil, "a\"b\\c\n\x01é")))
}
