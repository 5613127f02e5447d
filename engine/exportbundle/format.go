package exportbundle

import (
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/leakgate/leakgate/providers"
)

// Content types of the files an export bundle holds.
const (
	ContentTypeCSV      = "text/csv; charset=utf-8"
	ContentTypeJSON     = "application/json"
	ContentTypeMarkdown = "text/markdown; charset=utf-8"
)

// CSVHeader is the header line of a bar CSV file.
const CSVHeader = "time,open,high,low,close,volume\n"

// WriteBarsCSV writes bars as CSV: a CSVHeader line, then one line per bar
// with the time in RFC 3339 (UTC) and prices in the shortest exact decimal
// form.
func WriteBarsCSV(w io.Writer, bars []providers.Bar) error {
	if _, err := io.WriteString(w, CSVHeader); err != nil {
		return err
	}
	buf := make([]byte, 0, 128)
	for _, b := range bars {
		buf = buf[:0]
		buf = b.Time.UTC().AppendFormat(buf, time.RFC3339)
		for _, v := range [...]float64{b.Open, b.High, b.Low, b.Close, b.Volume} {
			buf = append(buf, ',')
			buf = strconv.AppendFloat(buf, v, 'f', -1, 64)
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// BarsDocument is the content of a bar JSON file.
type BarsDocument struct {
	Symbol   string             `json:"symbol"`
	Interval providers.Interval `json:"interval"`
	Count    int                `json:"count"`
	Bars     []providers.Bar    `json:"bars"`
}

// WriteBarsJSON writes the bars of symbol as a BarsDocument.
func WriteBarsJSON(w io.Writer, symbol string, interval providers.Interval, bars []providers.Bar) error {
	if bars == nil {
		bars = []providers.Bar{}
	}
	return json.NewEncoder(w).Encode(BarsDocument{Symbol: symbol, Interval: interval, Count: len(bars), Bars: bars})
}
