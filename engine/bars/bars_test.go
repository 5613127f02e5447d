package bars

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func pricesPath(name string) string {
	return filepath.Join("..", "..", "providers", "sandbox", "data", "prices", name)
}

func loadFile(t *testing.T, name string) []providers.Bar {
	t.Helper()
	f, err := os.Open(pricesPath(name))
	require.NoError(t, err)
	defer f.Close()
	bs, err := LoadCSV(f)
	require.NoError(t, err)
	return bs
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestLoadCSVRealFiles(t *testing.T) {
	tests := []struct {
		file      string
		wantBars  int
		wantFirst providers.Bar
		wantLast  time.Time
	}{
		{
			file:      "SPY_daily_2007-12-31_2017-12-29_yahoo.csv",
			wantBars:  2519,
			wantFirst: providers.Bar{Time: day("2007-12-31"), Open: 147.100006, High: 147.610001, Low: 146.059998, Close: 146.210007, Volume: 108126800},
			wantLast:  day("2017-12-29"),
		},
		{
			file:      "AAPL_daily_2004-08-19_2018-01-19_yahoo.csv",
			wantBars:  3379,
			wantFirst: providers.Bar{Time: day("2004-08-19"), Open: 2.250714, High: 2.275714, Low: 2.168571, Close: 2.193571, Volume: 97230000},
			wantLast:  day("2018-01-19"),
		},
		{
			file:      "BTC-USD_daily_2014-12-01_2018-08-13_coinbase.csv",
			wantBars:  1318,
			wantFirst: providers.Bar{Time: day("2014-12-01"), Open: 300, High: 370, Low: 300, Close: 370, Volume: 0.05655554},
			wantLast:  day("2018-08-13"),
		},
		{
			// Mid of bid 1.31927/ask 1.32027 etc.; no volume column.
			file:     "EUR_USD_daily_2007-01-01_2018-12-31_oanda.csv",
			wantBars: 3738,
			wantFirst: providers.Bar{Time: day("2007-01-01"),
				Open: (1.31927 + 1.32027) / 2, High: (1.32125 + 1.32225) / 2,
				Low: (1.3187 + 1.3197) / 2, Close: (1.32095 + 1.32195) / 2},
			wantLast: day("2018-12-31"),
		},
		{
			file:      "SPY_daily_1998-01-02_2021-03-31_raw.csv",
			wantBars:  5849,
			wantFirst: providers.Bar{Time: day("1998-01-02"), Open: 97.31, High: 97.53, Low: 96.53, Close: 97.36, Volume: 2150000},
			wantLast:  day("2021-03-31"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			bs := loadFile(t, tt.file)
			require.Equal(t, tt.wantBars, len(bs))
			require.Equal(t, tt.wantFirst, bs[0])
			require.Equal(t, tt.wantLast, bs[len(bs)-1].Time)
		})
	}
}

func TestValidateRealFiles(t *testing.T) {
	tests := []struct {
		file  string
		class providers.AssetClass
		// wantKinds must each appear among the warnings, at wantAt if set.
		wantKinds []Kind
		wantAt    map[Kind]string
		// noKinds must not appear.
		noKinds []Kind
	}{
		{
			file:      "SPY_daily_2007-12-31_2017-12-29_yahoo.csv",
			class:     providers.Equity,
			wantKinds: []Kind{OutsideRange},
			wantAt:    map[Kind]string{OutsideRange: "2015-03-05"},
			noKinds:   []Kind{OffSession, Spike},
		},
		{
			// 9/11: the market was shut from Tuesday to Friday.
			file:      "SPY_daily_1998-01-02_2021-03-31_raw.csv",
			class:     providers.Equity,
			wantKinds: []Kind{Gap},
			wantAt:    map[Kind]string{Gap: "2001-09-17"},
			noKinds:   []Kind{OffSession},
		},
		{
			// The source is missing about 34 days.
			file:      "BTC-USD_daily_2014-12-01_2018-08-13_coinbase.csv",
			class:     providers.Crypto,
			wantKinds: []Kind{Gap},
			noKinds:   []Kind{OffSession},
		},
		{
			// Sunday bars are normal for forex; Saturdays would not be.
			file:    "EUR_USD_daily_2007-01-01_2018-12-31_oanda.csv",
			class:   providers.Forex,
			noKinds: []Kind{OffSession, Spike},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			bs := loadFile(t, tt.file)
			rep, err := Validate(bs, Options{Class: tt.class})
			require.NoError(t, err)
			require.NoError(t, rep.Err())
			require.True(t, rep.OK())
			kinds := map[Kind][]Issue{}
			for _, is := range rep.Issues {
				require.Equal(t, Warning, is.Severity, is.String())
				kinds[is.Kind] = append(kinds[is.Kind], is)
			}
			for _, k := range tt.wantKinds {
				require.NotEmpty(t, kinds[k], "want a %s warning", k)
			}
			for k, at := range tt.wantAt {
				found := false
				for _, is := range kinds[k] {
					if is.Time.Equal(day(at)) && bs[is.Index].Time.Equal(day(at)) {
						found = true
					}
				}
				require.Truef(t, found, "want a %s warning on %s in %v", k, at, kinds[k])
			}
			for _, k := range tt.noKinds {
				require.Empty(t, kinds[k], "want no %s warning", k)
			}
		})
	}
}

// mon is a Monday; series built from it have bars on consecutive weekdays.
var mon = day("2024-01-08")

func good(n int) []providers.Bar {
	bs := make([]providers.Bar, n)
	for i := range bs {
		p := 100 + float64(i)
		bs[i] = providers.Bar{Time: mon.AddDate(0, 0, i), Open: p, High: p + 1, Low: p - 1, Close: p + 0.5, Volume: 10}
	}
	return bs
}

func TestValidateFindings(t *testing.T) {
	tests := []struct {
		name     string
		class    providers.AssetClass
		edit     func(bs []providers.Bar) []providers.Bar
		wantKind Kind
		wantSev  Severity
		wantIdx  int
	}{
		{name: "NaN close", edit: func(bs []providers.Bar) []providers.Bar { bs[2].Close = math.NaN(); return bs },
			wantKind: NonFinite, wantSev: Error, wantIdx: 2},
		{name: "infinite high", edit: func(bs []providers.Bar) []providers.Bar { bs[1].High = math.Inf(1); return bs },
			wantKind: NonFinite, wantSev: Error, wantIdx: 1},
		{name: "zero open", edit: func(bs []providers.Bar) []providers.Bar { bs[3].Open = 0; return bs },
			wantKind: NonPositive, wantSev: Error, wantIdx: 3},
		{name: "negative low", edit: func(bs []providers.Bar) []providers.Bar { bs[0].Low = -1; return bs },
			wantKind: NonPositive, wantSev: Error, wantIdx: 0},
		{name: "high below low", edit: func(bs []providers.Bar) []providers.Bar { bs[2].High, bs[2].Low = 90, 95; return bs },
			wantKind: HighBelowLow, wantSev: Error, wantIdx: 2},
		{name: "negative volume", edit: func(bs []providers.Bar) []providers.Bar { bs[1].Volume = -5; return bs },
			wantKind: NegativeVolume, wantSev: Error, wantIdx: 1},
		{name: "duplicate time", edit: func(bs []providers.Bar) []providers.Bar { bs[3].Time = bs[2].Time; return bs },
			wantKind: Duplicate, wantSev: Error, wantIdx: 3},
		{name: "unsorted", edit: func(bs []providers.Bar) []providers.Bar { bs[1], bs[2] = bs[2], bs[1]; return bs },
			wantKind: Unsorted, wantSev: Error, wantIdx: 2},
		{name: "missing time", edit: func(bs []providers.Bar) []providers.Bar { bs[4].Time = time.Time{}; return bs },
			wantKind: MissingTime, wantSev: Error, wantIdx: 4},
		{name: "open below low", edit: func(bs []providers.Bar) []providers.Bar { bs[2].Open = bs[2].Low - 0.01; return bs },
			wantKind: OutsideRange, wantSev: Warning, wantIdx: 2},
		{name: "close above high", edit: func(bs []providers.Bar) []providers.Bar { bs[2].Close = bs[2].High + 0.01; return bs },
			wantKind: OutsideRange, wantSev: Warning, wantIdx: 2},
		{name: "spike", edit: func(bs []providers.Bar) []providers.Bar {
			bs[3].Close, bs[3].High = 200, 200
			return bs
		}, wantKind: Spike, wantSev: Warning, wantIdx: 3},
		{name: "equity bar on a Saturday", edit: func(bs []providers.Bar) []providers.Bar {
			bs[4].Time = mon.AddDate(0, 0, 5)
			return bs[:5]
		}, wantKind: OffSession, wantSev: Warning, wantIdx: 4},
		{name: "equity: two weekdays missing", edit: func(bs []providers.Bar) []providers.Bar {
			// Monday, Tuesday, then Friday: Wednesday and Thursday are missing.
			bs[2].Time = mon.AddDate(0, 0, 4)
			return bs[:3]
		}, wantKind: Gap, wantSev: Warning, wantIdx: 2},
		{name: "crypto: one day missing", class: providers.Crypto, edit: func(bs []providers.Bar) []providers.Bar {
			bs[2].Time = mon.AddDate(0, 0, 3)
			return bs[:3]
		}, wantKind: Gap, wantSev: Warning, wantIdx: 2},
		{name: "forex bar on a Saturday", class: providers.Forex, edit: func(bs []providers.Bar) []providers.Bar {
			bs[4].Time = mon.AddDate(0, 0, 5)
			return bs[:5]
		}, wantKind: OffSession, wantSev: Warning, wantIdx: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Validate(tt.edit(good(5)), Options{Class: tt.class})
			require.NoError(t, err)
			require.NotEmpty(t, rep.Issues)
			got := rep.Issues[0]
			require.Equal(t, tt.wantKind, got.Kind, got.String())
			require.Equal(t, tt.wantSev, got.Severity)
			require.Equal(t, tt.wantIdx, got.Index)
			require.Equal(t, tt.wantSev == Error, errors.Is(rep.Err(), ErrBadData))
		})
	}
}

func TestValidateCalendarsAcceptNormalWeeks(t *testing.T) {
	fri := mon.AddDate(0, 0, 4)
	tests := []struct {
		name  string
		class providers.AssetClass
		days  []time.Time
	}{
		{name: "equity over a weekend", class: providers.Equity, days: []time.Time{fri, fri.AddDate(0, 0, 3)}},
		{name: "equity over a long weekend", class: providers.Equity, days: []time.Time{fri, fri.AddDate(0, 0, 4)}},
		{name: "forex Friday to Sunday", class: providers.Forex, days: []time.Time{fri, fri.AddDate(0, 0, 2)}},
		{name: "crypto every day", class: providers.Crypto, days: []time.Time{fri, fri.AddDate(0, 0, 1), fri.AddDate(0, 0, 2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := good(len(tt.days))
			for i := range bs {
				bs[i].Time = tt.days[i]
			}
			rep, err := Validate(bs, Options{Class: tt.class})
			require.NoError(t, err)
			require.Empty(t, rep.Issues)
		})
	}
}

func TestValidateOptions(t *testing.T) {
	bs := good(3)
	bs[2].Time = mon.AddDate(0, 0, 5) // Saturday, and Wednesday to Friday missing
	rep, err := Validate(bs, Options{NoGaps: true})
	require.NoError(t, err)
	require.Empty(t, rep.Issues)

	_, err = Validate(bs, Options{Class: "bonds"})
	require.ErrorContains(t, err, `unknown asset class "bonds"`)
	_, err = Validate(bs, Options{Interval: "3d"})
	require.ErrorContains(t, err, `unknown interval "3d"`)

	many := good(50)
	for i := range many {
		many[i].Close = math.NaN()
	}
	rep, err = Validate(many, Options{MaxIssues: 10})
	require.NoError(t, err)
	require.Len(t, rep.Issues, 10)
	require.Equal(t, 50, rep.Errors)
	require.ErrorContains(t, rep.Err(), "50 of 50 bars fail validation: bar 0 (2024-01-08): close is NaN")
	require.ErrorContains(t, rep.Err(), "and 47 more")
}

func TestLoadCSVFormats(t *testing.T) {
	tests := []struct {
		name string
		give string
		want []providers.Bar
	}{
		{
			name: "columns in any order, mixed case, no volume",
			give: "Close,DATE,low,High,open\n10,2024-01-02,9,11,9.5\n",
			want: []providers.Bar{{Time: day("2024-01-02"), Open: 9.5, High: 11, Low: 9, Close: 10}},
		},
		{
			name: "intraday times and a BOM",
			give: "\ufefftimestamp,open,high,low,close,volume\n2024-01-02 14:30:00,1,2,0.5,1.5,100\n",
			want: []providers.Bar{{Time: time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC), Open: 1, High: 2, Low: 0.5, Close: 1.5, Volume: 100}},
		},
		{
			name: "RFC 3339 with a zone becomes UTC",
			give: "time,open,high,low,close\n2024-01-02T09:30:00-05:00,1,2,0.5,1.5\n",
			want: []providers.Bar{{Time: time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC), Open: 1, High: 2, Low: 0.5, Close: 1.5}},
		},
		{
			name: "Lean compact dates",
			give: "date,open,high,low,close,volume\n20240102 00:00,1,2,0.5,1.5,7\n",
			want: []providers.Bar{{Time: day("2024-01-02"), Open: 1, High: 2, Low: 0.5, Close: 1.5, Volume: 7}},
		},
		{
			name: "Unix seconds",
			give: "timestamp,open,high,low,close\n1704153600,1,2,0.5,1.5\n",
			want: []providers.Bar{{Time: day("2024-01-02"), Open: 1, High: 2, Low: 0.5, Close: 1.5}},
		},
		{
			name: "bid/ask mid",
			give: "date,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close\n2024-01-02,1,3,0.5,2,2,4,1.5,3\n",
			want: []providers.Bar{{Time: day("2024-01-02"), Open: 1.5, High: 3.5, Low: 1, Close: 2.5}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadCSV(strings.NewReader(tt.give))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestLoadCSVErrors(t *testing.T) {
	const head = "Date,Open,High,Low,Close,Volume\n"
	tests := []struct {
		name       string
		give       string
		wantLine   int
		wantColumn int
		wantMsg    string
	}{
		{name: "empty", give: "", wantLine: 1, wantMsg: "empty input"},
		{name: "header only", give: head, wantLine: 2, wantMsg: "no data rows"},
		{name: "no date column", give: "Open,High,Low,Close\n1,2,0.5,1\n", wantLine: 1, wantMsg: "no date or time column"},
		{name: "no close column", give: "Date,Open,High,Low\n2024-01-02,1,2,0.5\n", wantLine: 1, wantMsg: "has no close column"},
		{name: "bad number", give: head + "2024-01-02,1,2,0.5,1,7\n2024-01-03,1,2,abc,1,7\n",
			wantLine: 3, wantColumn: 4, wantMsg: `csv line 3, column 4 (low): "abc" is not a finite number`},
		{name: "Yahoo null row", give: head + "2024-01-02,null,null,null,null,null\n",
			wantLine: 2, wantColumn: 2, wantMsg: `missing value "null"`},
		{name: "NaN", give: head + "2024-01-02,1,2,0.5,NaN,7\n", wantLine: 2, wantColumn: 5, wantMsg: "missing value"},
		{name: "infinite", give: head + "2024-01-02,1,2,0.5,+Inf,7\n", wantLine: 2, wantColumn: 5, wantMsg: "not a finite number"},
		{name: "bad date", give: head + "02/01/2024,1,2,0.5,1,7\n", wantLine: 2, wantColumn: 1, wantMsg: `cannot read time "02/01/2024"`},
		{name: "short row", give: head + "2024-01-02,1,2,0.5,1\n", wantLine: 2, wantColumn: 1, wantMsg: "wrong number of fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadCSV(strings.NewReader(tt.give))
			var ce *CSVError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tt.wantLine, ce.Line)
			require.Equal(t, tt.wantColumn, ce.Column)
			require.ErrorContains(t, err, tt.wantMsg)
		})
	}
}
