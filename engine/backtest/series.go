package backtest

import (
	"errors"
	"fmt"

	"github.com/leakgate/leakgate/engine/bars"
	"github.com/leakgate/leakgate/providers"
)

// ErrParam is wrapped by errors about invalid backtest parameters.
var ErrParam = errors.New("invalid parameter")

// Series is a validated bar series in column form, ready for repeated
// backtests. Build it with NewSeries; do not modify it afterwards.
type Series struct {
	// Symbol names the instrument in errors and reports.
	Symbol string
	// Class sets the calendar for validation and BarsPerYear.
	Class providers.AssetClass
	// Bars are the bars the series was built from.
	Bars []providers.Bar
	// Open, High, Low and Close are the price columns of Bars.
	Open, High, Low, Close []float64
	// Report is the validation report; it holds warnings only.
	Report *bars.Report
	// cum[i] is the sum of Close[:i], for O(1) moving averages.
	cum []float64
}

// NewSeries validates bs with bars.Validate for class and returns it in
// column form. A series with hard errors (unsorted or duplicate times,
// NaN, non-positive prices, high below low) is refused with an error
// wrapping bars.ErrBadData; warnings are kept in Series.Report. At least
// two bars are needed.
func NewSeries(symbol string, class providers.AssetClass, bs []providers.Bar) (*Series, error) {
	if class == "" {
		class = providers.Equity
	}
	if len(bs) < 2 {
		return nil, fmt.Errorf("backtest %s: %d bars; a backtest needs at least 2: %w", symbol, len(bs), ErrParam)
	}
	rep, err := bars.Validate(bs, bars.Options{Class: class})
	if err != nil {
		return nil, fmt.Errorf("backtest %s: %w", symbol, err)
	}
	if err := rep.Err(); err != nil {
		return nil, fmt.Errorf("backtest %s: %w", symbol, err)
	}
	n := len(bs)
	buf := make([]float64, 5*n+1)
	s := &Series{
		Symbol: symbol, Class: class, Bars: bs, Report: rep,
		Open: buf[:n:n], High: buf[n : 2*n : 2*n], Low: buf[2*n : 3*n : 3*n], Close: buf[3*n : 4*n : 4*n],
		cum: buf[4*n:],
	}
	for i, b := range bs {
		s.Open[i], s.High[i], s.Low[i], s.Close[i] = b.Open, b.High, b.Low, b.Close
		s.cum[i+1] = s.cum[i] + b.Close
	}
	return s, nil
}

// Len returns the number of bars.
func (s *Series) Len() int { return len(s.Close) }

// BarsPerYear returns the number of bars in a year for daily bars of
// class: 252 for equities, 365 for crypto, 260 for forex.
func BarsPerYear(class providers.AssetClass) float64 {
	switch class {
	case providers.Crypto:
		return 365
	case providers.Forex:
		return 260
	}
	return 252
}
