package crew

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/leakgate/leakgate/engine/indicator"
	"github.com/leakgate/leakgate/providers"
)

// Input is what one crew run analyses: bars per symbol and, optionally,
// the social-media sentiment per symbol. Tools must not modify it.
type Input struct {
	Symbols   []string                   `json:"symbols"`
	Interval  providers.Interval         `json:"interval"`
	Bars      map[string][]providers.Bar `json:"-"`
	Sentiment map[string]Sentiment       `json:"-"`
}

// Sentiment is the social-media mood about one symbol.
type Sentiment struct {
	// Score is in [-1, 1]: negative bearish, positive bullish.
	Score   float64 `json:"score"`
	Posts   int     `json:"posts"`
	Bullish int     `json:"bullish"`
	Bearish int     `json:"bearish"`
}

// ErrNoData is returned by a tool that has nothing to say about a symbol
// (no bars, no sentiment). The crew records the fact as unavailable and
// goes on.
var ErrNoData = errors.New("no data")

// Tool gives an agent facts about one symbol of the input.
type Tool interface {
	// Name names the tool in prompts and reports.
	Name() string
	// Run returns one line of facts about symbol.
	Run(ctx context.Context, in *Input, symbol string) (string, error)
}

// NewTool returns a Tool named name that runs fn.
func NewTool(name string, fn func(ctx context.Context, in *Input, symbol string) (string, error)) Tool {
	return toolFunc{name: name, fn: fn}
}

type toolFunc struct {
	name string
	fn   func(context.Context, *Input, string) (string, error)
}

func (t toolFunc) Name() string { return t.name }

func (t toolFunc) Run(ctx context.Context, in *Input, symbol string) (string, error) {
	return t.fn(ctx, in, symbol)
}

// PriceTool summarises the provider data of a symbol: last close, change
// over the series, range and bar count.
func PriceTool() Tool { return NewTool("price", priceFacts) }

// IndicatorTool computes technical indicators of a symbol's closes: SMA 20
// and 50, RSI 14, MACD (12, 26, 9) histogram, Bollinger %B (20, 2) and
// ATR 14.
func IndicatorTool() Tool { return NewTool("indicators", indicatorFacts) }

// SentimentTool reports the sentiment score and post counts of a symbol.
func SentimentTool() Tool { return NewTool("sentiment", sentimentFacts) }

// RiskTool reports annualised volatility, maximum drawdown, one-bar 95%
// historical value at risk and a stance combining trend, momentum and
// sentiment.
func RiskTool() Tool { return NewTool("risk", riskFacts) }

func closes(bars []providers.Bar) []float64 {
	out := make([]float64, len(bars))
	for i, b := range bars {
		out[i] = b.Close
	}
	return out
}

func priceFacts(_ context.Context, in *Input, sym string) (string, error) {
	bars := in.Bars[sym]
	if len(bars) == 0 {
		return "", ErrNoData
	}
	first, last := bars[0], bars[len(bars)-1]
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, b := range bars {
		lo, hi = math.Min(lo, b.Low), math.Max(hi, b.High)
	}
	change := 0.0
	if first.Close != 0 {
		change = (last.Close/first.Close - 1) * 100
	}
	return fmt.Sprintf("last close %s on %s, %+.2f%% over %d bars, range %s–%s",
		num(last.Close), last.Time.UTC().Format("2006-01-02"), change, len(bars), num(lo), num(hi)), nil
}

// lastValue returns the last element of s, NaN if s is empty.
func lastValue(s []float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	return s[len(s)-1]
}

type indicators struct {
	close, sma20, sma50, rsi, macdHist, pctB, atr float64
}

func computeIndicators(bars []providers.Bar) (indicators, error) {
	cl := closes(bars)
	ind := indicators{close: lastValue(cl)}
	sma20, err := indicator.SMA(cl, 20)
	if err != nil {
		return ind, err
	}
	sma50, err := indicator.SMA(cl, 50)
	if err != nil {
		return ind, err
	}
	rsi, err := indicator.RSI(cl, 14)
	if err != nil {
		return ind, err
	}
	macd, err := indicator.MACD(cl, 12, 26, 9)
	if err != nil {
		return ind, err
	}
	bb, err := indicator.Bollinger(cl, 20, 2)
	if err != nil {
		return ind, err
	}
	hi, lo := make([]float64, len(bars)), make([]float64, len(bars))
	for i, b := range bars {
		hi[i], lo[i] = b.High, b.Low
	}
	atr, err := indicator.ATR(hi, lo, cl, 14)
	if err != nil {
		return ind, err
	}
	ind.sma20, ind.sma50, ind.rsi = lastValue(sma20), lastValue(sma50), lastValue(rsi)
	ind.macdHist, ind.atr = lastValue(macd.Hist), lastValue(atr)
	if u, l := lastValue(bb.Upper), lastValue(bb.Lower); u > l {
		ind.pctB = (ind.close - l) / (u - l)
	} else {
		ind.pctB = math.NaN()
	}
	return ind, nil
}

// symbolIndicators returns the bars of sym and their indicators, or
// ErrNoData when there are no bars.
func symbolIndicators(in *Input, sym string) ([]providers.Bar, indicators, error) {
	bars := in.Bars[sym]
	if len(bars) == 0 {
		return nil, indicators{}, ErrNoData
	}
	ind, err := computeIndicators(bars)
	return bars, ind, err
}

func indicatorFacts(_ context.Context, in *Input, sym string) (string, error) {
	_, ind, err := symbolIndicators(in, sym)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("SMA20 %s, SMA50 %s, RSI14 %s, MACD hist %s, Bollinger %%B %s, ATR14 %s",
		num(ind.sma20), num(ind.sma50), num(ind.rsi), num(ind.macdHist), num(ind.pctB), num(ind.atr)), nil
}

func sentimentFacts(_ context.Context, in *Input, sym string) (string, error) {
	s, ok := in.Sentiment[sym]
	if !ok || s.Posts == 0 {
		return "", ErrNoData
	}
	return fmt.Sprintf("score %+.2f (%s) from %d posts, %d bullish, %d bearish",
		s.Score, mood(s.Score), s.Posts, s.Bullish, s.Bearish), nil
}

func mood(score float64) string {
	switch {
	case score > 0.2:
		return "bullish"
	case score < -0.2:
		return "bearish"
	}
	return "neutral"
}

// risk figures of a close series.
type risk struct {
	volatility, drawdown, var95 float64
}

func computeRisk(cl []float64, interval providers.Interval) risk {
	rets := make([]float64, 0, len(cl))
	for i := 1; i < len(cl); i++ {
		if cl[i-1] > 0 && cl[i] > 0 {
			rets = append(rets, math.Log(cl[i]/cl[i-1]))
		}
	}
	r := risk{volatility: math.NaN(), var95: math.NaN()}
	if len(rets) >= 2 {
		mean := 0.0
		for _, x := range rets {
			mean += x
		}
		mean /= float64(len(rets))
		ss := 0.0
		for _, x := range rets {
			ss += (x - mean) * (x - mean)
		}
		r.volatility = math.Sqrt(ss/float64(len(rets)-1)) * math.Sqrt(periodsPerYear(interval)) * 100
		sorted := slices.Clone(rets)
		slices.Sort(sorted)
		r.var95 = -(math.Exp(sorted[int(0.05*float64(len(sorted)-1))]) - 1) * 100
	}
	peak := 0.0
	for _, c := range cl {
		peak = math.Max(peak, c)
		if peak > 0 {
			r.drawdown = math.Max(r.drawdown, (1-c/peak)*100)
		}
	}
	return r
}

func periodsPerYear(i providers.Interval) float64 {
	switch i {
	case providers.Minute:
		return 252 * 390
	case providers.Hour:
		return 252 * 7
	case providers.Week:
		return 52
	}
	return 252
}

// stance scores trend, momentum and sentiment: each bullish sign adds one,
// each bearish sign takes one away.
func stance(ind indicators, s Sentiment, hasSentiment bool) (string, int) {
	score := 0
	sign := func(cond bool, neg bool) {
		if cond {
			score++
		} else if neg {
			score--
		}
	}
	if !math.IsNaN(ind.sma50) {
		sign(ind.close > ind.sma50, ind.close < ind.sma50)
	}
	if !math.IsNaN(ind.macdHist) {
		sign(ind.macdHist > 0, ind.macdHist < 0)
	}
	if !math.IsNaN(ind.rsi) {
		sign(ind.rsi < 30, ind.rsi > 70)
	}
	if hasSentiment {
		sign(s.Score > 0.2, s.Score < -0.2)
	}
	switch {
	case score >= 2:
		return "bullish", score
	case score <= -2:
		return "bearish", score
	}
	return "neutral", score
}

func riskFacts(_ context.Context, in *Input, sym string) (string, error) {
	bars, ind, err := symbolIndicators(in, sym)
	if err != nil {
		return "", err
	}
	r := computeRisk(closes(bars), in.Interval)
	s, ok := in.Sentiment[sym]
	st, score := stance(ind, s, ok && s.Posts > 0)
	return fmt.Sprintf("volatility %s%% a year, max drawdown %.2f%%, 1-bar VaR95 %s%%, stance %s (%+d)",
		num(r.volatility), r.drawdown, num(r.var95), st, score), nil
}

// num formats v with two decimals, or "n/a" for NaN and infinities.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
