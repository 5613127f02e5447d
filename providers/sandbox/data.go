package sandbox

import (
	"bytes"
	"embed"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/leakgate/leakgate/providers"
)

//go:embed data/prices/*.csv
var pricesFS embed.FS

// ohlc is one side (bid or ask) of a forex quote bar.
type ohlc struct{ o, h, l, c float64 }

// series is one embedded daily price history. It is built once and never
// modified afterwards, so it is shared by every Handler without locking.
type series struct {
	symbol string
	class  providers.AssetClass
	// bars are ascending, one per day, Time at 00:00 UTC of the trading day.
	bars []providers.Bar
	// dates holds each bar's "2006-01-02" spelling, for the APIs that key
	// bars by date.
	dates []string
	// adj is the dividend- and split-adjusted close of equities (equal to
	// the close where the source has none).
	adj []float64
	// bid and ask are the quote sides of forex bars; bars hold their mid.
	bid, ask []ohlc
	// source names the embedded file the series was read from.
	source string
	// midnight and open are each bar's Unix time at the start of its day
	// and at the market open, in the exchange's time zone (New York for
	// equities, UTC otherwise), as the APIs stamp daily bars.
	midnight, open []int64
}

// stamp fills midnight and open.
func (s *series) stamp() {
	s.midnight = make([]int64, len(s.bars))
	s.open = make([]int64, len(s.bars))
	for i, b := range s.bars {
		if s.class == providers.Equity {
			s.midnight[i], s.open[i] = nyMidnight(b.Time).Unix(), nyOpen(b.Time).Unix()
		} else {
			s.midnight[i], s.open[i] = b.Time.Unix(), b.Time.Unix()
		}
	}
}

// last returns the date of the last bar.
func (s *series) last() time.Time { return s.bars[len(s.bars)-1].Time }

// search returns the index of the first bar at or after t.
func (s *series) search(t time.Time) int {
	i, _ := slices.BinarySearchFunc(s.bars, t, func(b providers.Bar, t time.Time) int { return b.Time.Compare(t) })
	return i
}

// sourceFiles maps each sandbox symbol to its embedded CSV and format.
var sourceFiles = []struct {
	symbol string
	class  providers.AssetClass
	file   string
	format csvFormat
	// adjFile, when set, supplies adjusted closes for the dates it covers.
	adjFile string
}{
	{"AAPL", providers.Equity, "AAPL_daily_2004-08-19_2018-01-19_yahoo.csv", yahooCSV, ""},
	{"SPY", providers.Equity, "SPY_daily_1998-01-02_2021-03-31_raw.csv", plainCSV, "SPY_daily_2007-12-31_2017-12-29_yahoo.csv"},
	{"BTC-USD", providers.Crypto, "BTC-USD_daily_2014-12-01_2018-08-13_coinbase.csv", plainCSV, ""},
	{"EUR_USD", providers.Forex, "EUR_USD_daily_2007-01-01_2018-12-31_oanda.csv", bidAskCSV, ""},
}

type csvFormat int

const (
	yahooCSV  csvFormat = iota // Date,Open,High,Low,Close,Adj Close,Volume
	plainCSV                   // date,open,high,low,close,volume
	bidAskCSV                  // date,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close
)

var (
	loadOnce sync.Once
	loaded   map[string]*series
	loadErr  error
)

// dataset returns the embedded series, parsing them on first use.
func dataset() (map[string]*series, error) {
	loadOnce.Do(func() { loaded, loadErr = loadAll() })
	return loaded, loadErr
}

func loadAll() (map[string]*series, error) {
	out := make(map[string]*series, len(sourceFiles))
	for _, f := range sourceFiles {
		raw, err := pricesFS.ReadFile("data/prices/" + f.file)
		if err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		s, err := parseCSV(raw, f.format)
		if err != nil {
			return nil, fmt.Errorf("sandbox: %s: %w", f.file, err)
		}
		s.symbol, s.class, s.source = f.symbol, f.class, f.file
		if f.adjFile != "" {
			raw, err := pricesFS.ReadFile("data/prices/" + f.adjFile)
			if err != nil {
				return nil, fmt.Errorf("sandbox: %w", err)
			}
			adj, err := parseCSV(raw, yahooCSV)
			if err != nil {
				return nil, fmt.Errorf("sandbox: %s: %w", f.adjFile, err)
			}
			s.mergeAdjusted(adj)
		}
		s.stamp()
		out[f.symbol] = s
	}
	return out, nil
}

// mergeAdjusted derives adjusted closes from other, a Yahoo export of the
// same symbol: each shared day gets the export's adjustment factor (Adj
// Close over Close) applied to its own close. Days before the export take
// its first factor and days after it its last, so the adjusted series has
// no jumps at the export's edges.
func (s *series) mergeAdjusted(other *series) {
	factor := func(j int) float64 { return other.adj[j] / other.bars[j].Close }
	j := 0
	for i, b := range s.bars {
		for j < len(other.bars)-1 && other.bars[j].Time.Before(b.Time) {
			j++
		}
		f := factor(j)
		if b.Time.After(other.last()) {
			f = factor(len(other.bars) - 1)
		}
		s.adj[i] = round6(b.Close * f)
	}
}

// parseCSV reads one of the embedded price files. Every row must be complete
// and dates strictly ascending.
func parseCSV(raw []byte, format csvFormat) (*series, error) {
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	if len(lines) < 2 {
		return nil, fmt.Errorf("no rows")
	}
	rows := lines[1:]
	s := &series{
		bars:  make([]providers.Bar, 0, len(rows)),
		dates: make([]string, 0, len(rows)),
		adj:   make([]float64, 0, len(rows)),
	}
	want := map[csvFormat]int{yahooCSV: 7, plainCSV: 6, bidAskCSV: 9}[format]
	var vals [9]float64
	for n, line := range rows {
		fields := bytes.Split(bytes.TrimRight(line, "\r"), []byte(","))
		if len(fields) != want {
			return nil, fmt.Errorf("row %d: %d fields, want %d", n+2, len(fields), want)
		}
		date := string(fields[0])
		t, err := time.Parse(time.DateOnly, date)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", n+2, err)
		}
		for i := 1; i < want; i++ {
			v, err := strconv.ParseFloat(string(fields[i]), 64)
			if err != nil {
				return nil, fmt.Errorf("row %d column %d: %w", n+2, i+1, err)
			}
			vals[i-1] = v
		}
		if k := len(s.bars); k > 0 && !s.bars[k-1].Time.Before(t) {
			return nil, fmt.Errorf("row %d: date %s not after %s", n+2, date, s.dates[k-1])
		}
		var b providers.Bar
		b.Time = t
		switch format {
		case yahooCSV:
			b.Open, b.High, b.Low, b.Close, b.Volume = vals[0], vals[1], vals[2], vals[3], vals[5]
			s.adj = append(s.adj, vals[4])
		case plainCSV:
			b.Open, b.High, b.Low, b.Close, b.Volume = vals[0], vals[1], vals[2], vals[3], vals[4]
			s.adj = append(s.adj, vals[3])
		case bidAskCSV:
			bid := ohlc{vals[0], vals[1], vals[2], vals[3]}
			ask := ohlc{vals[4], vals[5], vals[6], vals[7]}
			s.bid = append(s.bid, bid)
			s.ask = append(s.ask, ask)
			b.Open, b.High, b.Low, b.Close = mid(bid.o, ask.o), mid(bid.h, ask.h), mid(bid.l, ask.l), mid(bid.c, ask.c)
			s.adj = append(s.adj, b.Close)
		}
		s.bars = append(s.bars, b)
		s.dates = append(s.dates, date)
	}
	return s, nil
}

// mid is the mid price of a bid and an ask quoted to at most five decimals,
// rounded to six (half a pip), the precision OANDA gives mid prices.
func mid(bid, ask float64) float64 {
	return round6((bid + ask) / 2)
}

// Symbols returns the symbols the sandbox serves, in their normalised
// spelling (see providers.NormalizeSymbol), sorted: AAPL, BTC-USD, EUR_USD,
// SPY.
func Symbols() []string {
	out := make([]string, 0, len(sourceFiles))
	for _, f := range sourceFiles {
		out = append(out, f.symbol)
	}
	slices.Sort(out)
	return out
}

// History returns the complete embedded daily history of symbol (any
// spelling providers.NormalizeSymbol accepts), ascending, each bar's Time at
// 00:00 UTC of its trading day. EUR_USD bars are the mid of OANDA's bid and
// ask bars, with zero volume. The slice is a copy the caller may modify.
//
// History ignores the sandbox clock: it is the whole recorded series, from
// which every route serves a window. An unknown symbol is an error matching
// providers.ErrNotFound.
func History(symbol string) ([]providers.Bar, error) {
	norm, _, err := providers.NormalizeSymbol(symbol)
	if err != nil {
		return nil, err
	}
	all, err := dataset()
	if err != nil {
		return nil, err
	}
	s, ok := all[norm]
	if !ok {
		return nil, fmt.Errorf("sandbox: history %s: %w", norm, providers.ErrNotFound)
	}
	return slices.Clone(s.bars), nil
}
