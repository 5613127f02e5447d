package bars

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/leakgate/leakgate/providers"
)

// CSVError is a problem at one place in a CSV input. Line and Column are
// 1-based; Column is 0 when the problem concerns a whole line.
type CSVError struct {
	// Line is the 1-based line of the problem.
	Line int
	// Column is the 1-based column, 0 for a whole line.
	Column int
	// Name is the header name of the column, if known.
	Name string
	// Err says what is wrong.
	Err error
}

// Error formats the error as "csv line 12, column 5 (close): ...".
func (e *CSVError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "csv line %d", e.Line)
	if e.Column > 0 {
		fmt.Fprintf(&b, ", column %d", e.Column)
	}
	if e.Name != "" {
		fmt.Fprintf(&b, " (%s)", e.Name)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *CSVError) Unwrap() error { return e.Err }

// columns maps the fields a bar needs to CSV column indexes (-1: absent).
type columns struct {
	time                   int
	open, high, low, close int
	volume                 int
	// bid and ask OHLC, used when the plain columns are missing.
	bid, ask [4]int
	mid      bool
	names    []string
}

var timeNames = []string{"date", "time", "timestamp", "datetime", "date_time"}

func normalise(h string) string {
	h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(h)
}

func parseHeader(header []string) (columns, error) {
	c := columns{time: -1, open: -1, high: -1, low: -1, close: -1, volume: -1,
		bid: [4]int{-1, -1, -1, -1}, ask: [4]int{-1, -1, -1, -1}}
	c.names = make([]string, len(header))
	ohlc := []string{"open", "high", "low", "close"}
	for i, h := range header {
		n := normalise(h)
		c.names[i] = n
		set := func(p *int) {
			if *p < 0 {
				*p = i
			}
		}
		switch n {
		case "open":
			set(&c.open)
		case "high":
			set(&c.high)
		case "low":
			set(&c.low)
		case "close":
			set(&c.close)
		case "volume":
			set(&c.volume)
		}
		for _, tn := range timeNames {
			if n == tn {
				set(&c.time)
			}
		}
		for k, f := range ohlc {
			if n == "bid_"+f {
				set(&c.bid[k])
			}
			if n == "ask_"+f {
				set(&c.ask[k])
			}
		}
	}
	have := strings.Join(header, ",")
	if c.time < 0 {
		return c, &CSVError{Line: 1, Err: fmt.Errorf("no date or time column in header %q; name it Date, Time or Timestamp", have)}
	}
	plain := [4]*int{&c.open, &c.high, &c.low, &c.close}
	var missing []string
	for k, p := range plain {
		if *p < 0 {
			missing = append(missing, ohlc[k])
		}
	}
	if len(missing) == 0 {
		return c, nil
	}
	// No complete plain OHLC: fall back to bid/ask mid prices.
	for k := range ohlc {
		if c.bid[k] < 0 || c.ask[k] < 0 {
			return c, &CSVError{Line: 1, Err: fmt.Errorf(
				"header %q has no %s column: expected Date,Open,High,Low,Close[,Volume] or bid_open..bid_close with ask_open..ask_close",
				have, strings.Join(missing, ", "))}
		}
	}
	c.mid = true
	return c, nil
}

// LoadCSV reads daily or intraday bars from CSV with a header line. Columns
// are found by header name, case-insensitively and in any order:
//
//   - time: Date, Time, Timestamp or Datetime; values like 2006-01-02,
//     2006-01-02 15:04[:05], RFC 3339, 20060102[ 15:04], or Unix seconds
//     or milliseconds. Times without a zone are UTC.
//   - prices: Open, High, Low, Close. Other columns (Adj Close) are
//     ignored: bars hold the traded close, not the dividend-adjusted one.
//   - Volume, optional (zero when absent).
//   - Without plain OHLC columns, bid_open..bid_close and
//     ask_open..ask_close (OANDA quote bars): each price is the mid,
//     (bid+ask)/2.
//
// Every value must parse as a finite number; an empty or "null" field is
// an error naming its line and column (a *CSVError), never a silent skip.
// LoadCSV does not sort or validate the bars: run Validate on the result.
// It reads with the default Limits; see LoadCSVContext.
func LoadCSV(r io.Reader) ([]providers.Bar, error) {
	return LoadCSVContext(context.Background(), r, Limits{})
}

// LoadCSVContext is LoadCSV with bounds: it reads at most lim.MaxBytes
// and lines of at most lim.MaxLineBytes (a *LimitError wrapping
// ErrTooLarge or ErrLineTooLong beyond), and stops with ctx's error once
// ctx is done. A read blocked inside r is not interrupted: for a file,
// set a read deadline when ctx is done.
func LoadCSVContext(ctx context.Context, r io.Reader, lim Limits) ([]providers.Bar, error) {
	lim = lim.withDefaults()
	br := &boundedReader{ctx: ctx, r: r, max: lim.MaxBytes, maxLine: lim.MaxLineBytes, line: 1}
	bs, err := loadCSV(br)
	if err != nil && br.err != nil && !errors.Is(br.err, io.EOF) {
		return nil, br.err // the bound or the cancellation, not what csv made of it
	}
	return bs, err
}

func loadCSV(r io.Reader) ([]providers.Bar, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &CSVError{Line: 1, Err: errors.New("empty input: expected a header line such as Date,Open,High,Low,Close,Volume")}
	}
	if err != nil {
		return nil, csvReadError(err)
	}
	cols, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	var out []providers.Bar
	var tp timeParser
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvReadError(err)
		}
		line, _ := cr.FieldPos(0)
		b, err := cols.bar(rec, line, &tp)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, &CSVError{Line: 2, Err: errors.New("no data rows after the header")}
	}
	return out, nil
}

func csvReadError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &CSVError{Line: pe.Line, Column: pe.Column, Err: pe.Err}
	}
	return fmt.Errorf("csv: %w", err)
}

func (c *columns) bar(rec []string, line int, tp *timeParser) (providers.Bar, error) {
	var b providers.Bar
	var err error
	if b.Time, err = tp.parse(rec[c.time]); err != nil {
		return b, &CSVError{Line: line, Column: c.time + 1, Name: c.names[c.time], Err: err}
	}
	num := func(i int) (float64, error) {
		s := strings.TrimSpace(rec[i])
		if s == "" || strings.EqualFold(s, "null") || strings.EqualFold(s, "nan") {
			return 0, &CSVError{Line: line, Column: i + 1, Name: c.names[i],
				Err: fmt.Errorf("missing value %q: remove the row or fill the value in", s)}
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			return 0, &CSVError{Line: line, Column: i + 1, Name: c.names[i],
				Err: fmt.Errorf("%q is not a finite number", s)}
		}
		return v, nil
	}
	dst := [4]*float64{&b.Open, &b.High, &b.Low, &b.Close}
	if c.mid {
		for k, p := range dst {
			bid, err := num(c.bid[k])
			if err != nil {
				return b, err
			}
			ask, err := num(c.ask[k])
			if err != nil {
				return b, err
			}
			*p = (bid + ask) / 2
		}
	} else {
		for k, i := range [4]int{c.open, c.high, c.low, c.close} {
			if *dst[k], err = num(i); err != nil {
				return b, err
			}
		}
	}
	if c.volume >= 0 {
		if b.Volume, err = num(c.volume); err != nil {
			return b, err
		}
	}
	return b, nil
}

var timeLayouts = []string{
	time.DateOnly,
	time.DateTime,
	time.RFC3339Nano,
	"2006-01-02 15:04",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"20060102 15:04",
	"20060102 15:04:05",
	"20060102",
}

// timeParser remembers the layout that last worked, since a file uses one.
type timeParser struct{ last string }

func (p *timeParser) parse(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if p.last != "" {
		if t, err := time.Parse(p.last, s); err == nil {
			return t.UTC(), nil
		}
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			p.last = l
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch len(s) {
		case 10:
			return time.Unix(n, 0).UTC(), nil
		case 13:
			return time.UnixMilli(n).UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read time %q: use 2006-01-02, 2006-01-02 15:04:05, RFC 3339 or Unix seconds", s)
}
