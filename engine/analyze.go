package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leakgate/leakgate/engine/bars"
	"github.com/leakgate/leakgate/engine/indicator"
	"github.com/leakgate/leakgate/engine/store"
	"github.com/leakgate/leakgate/engine/strategy"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/sandbox"
)

// Num is a float64 that encodes NaN and infinities as JSON null (an
// indicator still warming up has no value).
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// Indicators are the latest values of the technical indicators analyze
// reports.
type Indicators struct {
	// Simple and exponential moving averages of the close.
	SMA20 Num `json:"sma_20"`
	SMA50 Num `json:"sma_50"`
	EMA12 Num `json:"ema_12"`
	EMA26 Num `json:"ema_26"`
	// MACD(12,26,9): line, signal and histogram.
	MACD          Num `json:"macd"`
	MACDSignal    Num `json:"macd_signal"`
	MACDHistogram Num `json:"macd_histogram"`
	// RSI14 is Wilder's RSI over 14 bars.
	RSI14 Num `json:"rsi_14"`
	// Bollinger Bands (20, 2).
	BollingerUpper Num `json:"bollinger_upper"`
	BollingerMid   Num `json:"bollinger_middle"`
	BollingerLower Num `json:"bollinger_lower"`
	// ATR14 is Wilder's average true range over 14 bars.
	ATR14 Num `json:"atr_14"`
}

// Analysis is the result of Analyze.
type Analysis struct {
	// Decision is the stored decision; its ID is what Execute takes.
	Decision store.Decision  `json:"decision"`
	Quote    providers.Quote `json:"quote"`
	// Bars is the number of bars analysed, from First to Last.
	Bars       int        `json:"bars"`
	First      time.Time  `json:"first_bar"`
	Last       time.Time  `json:"last_bar"`
	Indicators Indicators `json:"indicators"`
	// Sentiment is the Reddit sentiment, when enabled.
	Sentiment *strategy.Sentiment `json:"sentiment,omitempty"`
	// Position is the quantity held before the decision; Equity the account
	// value positions are sized against.
	Position float64 `json:"position"`
	Equity   float64 `json:"equity"`
	// Warnings are data quirks found by validation that do not stop
	// trading (calendar gaps, spikes), and provider trouble worked around.
	Warnings []string `json:"warnings,omitempty"`
}

// normalize parses a symbol given on the command line.
func normalize(raw string) (string, providers.AssetClass, error) {
	sym, class, err := providers.NormalizeSymbol(raw)
	if err != nil {
		return "", "", &UsageError{Err: fmt.Errorf("%w; use a ticker such as AAPL, a crypto pair such as BTC-USD or a forex pair such as EUR_USD", err)}
	}
	return sym, class, nil
}

// dataError turns a provider error about a symbol into a usage error when
// the symbol is unknown or its class unserved.
func (e *Engine) dataError(sym string, class providers.AssetClass, err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, providers.ErrNotFound) || errors.Is(err, providers.ErrNoData):
		hint := "check the symbol"
		if e.src != nil && e.src.base != "" {
			hint = "the sandbox serves " + strings.Join(sandbox.Symbols(), ", ")
		}
		return Usagef("no market data for %s: %w; %s", sym, err, hint)
	case errors.Is(err, providers.ErrUnsupported) && !providers.Serves(e.md, class):
		return Usagef("no provider serves %s data (%s): add one to routing.%s in the config", class, sym, class)
	}
	return fmt.Errorf("market data for %s: %w", sym, err)
}

// barSpan is the calendar time n bars of interval cover for class.
func barSpan(class providers.AssetClass, interval providers.Interval, n int) time.Duration {
	factor := 1.0
	if interval == providers.Day {
		switch class {
		case providers.Equity:
			factor = 7.0 / 5 * 1.05 // weekends and holidays
		case providers.Forex:
			factor = 7.0 / 5.5
		}
	}
	return time.Duration(float64(n)*factor*float64(interval.Duration())) + 7*24*time.Hour
}

// fetchBars returns up to want of the latest bars of sym up to end (the
// time of the latest quote). Ranges are anchored at end rather than at the
// clock, since recorded data ends in the past. When the bars end well
// before end (a quote newer than the series), or there is no end, the range
// is anchored again at the last bar. The bars are a copy.
func (e *Engine) fetchBars(ctx context.Context, sym string, class providers.AssetClass, interval providers.Interval, want int, end time.Time) ([]providers.Bar, error) {
	get := func(anchor time.Time) ([]providers.Bar, error) {
		q := providers.BarQuery{Symbol: sym, Interval: interval}
		if !anchor.IsZero() {
			q.From, q.To = anchor.Add(-barSpan(class, interval, want)), anchor
		}
		return e.md.Bars(ctx, q)
	}
	bs, err := get(end)
	if err != nil && errors.Is(err, providers.ErrNoData) && !end.IsZero() && ctx.Err() == nil {
		bs, err = get(time.Time{}) // the provider's default range
		end = time.Time{}
	}
	if err != nil {
		return nil, e.dataError(sym, class, err)
	}
	if n := len(bs); n > 0 && n < want {
		last := bs[n-1].Time
		if end.IsZero() || last.Before(end.Add(-7*24*time.Hour)) {
			more, err := get(last)
			switch {
			case err == nil && len(more) > n:
				bs = more
			case err != nil && ctx.Err() != nil:
				return nil, ctx.Err()
			case err != nil:
				e.log.Warn("longer history unavailable", "symbol", sym, "bars", n, "err", err)
			}
		}
	}
	if len(bs) > want {
		bs = bs[len(bs)-want:]
	}
	return slices.Clone(bs), nil
}

// quote returns the latest quote of sym, refusing one that is not a
// positive price.
func (e *Engine) quote(ctx context.Context, sym string, class providers.AssetClass) (providers.Quote, error) {
	q, err := e.md.Quote(ctx, sym)
	if err != nil {
		return q, e.dataError(sym, class, err)
	}
	if err := checkQuote(q); err != nil {
		return q, err
	}
	return q, nil
}

// MinBars is the fewest bars analyze decides on.
const MinBars = 30

// MaxGapSessions is the longest run of missing sessions analyze accepts
// in a series; a longer gap means the provider lost data, and no decision
// is made on it.
const MaxGapSessions = 5

// validate checks bars and returns their warnings, or a *BadDataError for
// hard errors (NaN, non-positive prices, unsorted or duplicate bars) and
// for gaps longer than MaxGapSessions.
func validate(sym string, class providers.AssetClass, interval providers.Interval, source string, bs []providers.Bar) ([]string, error) {
	rep, err := bars.Validate(bs, bars.Options{Class: class, Interval: interval, MaxMissing: MaxGapSessions, MaxIssues: 1000})
	if err != nil {
		return nil, err
	}
	if err := rep.Err(); err != nil {
		return nil, &BadDataError{Symbol: sym, Source: source, Report: rep, Err: err}
	}
	for _, is := range rep.Issues {
		if is.Kind == bars.Gap {
			return nil, &BadDataError{Symbol: sym, Source: source, Report: rep,
				Err: fmt.Errorf("%w: %s; more than %d sessions are missing, so the provider lost data", bars.ErrBadData, is, MaxGapSessions)}
		}
	}
	var warns []string
	for _, is := range rep.Issues {
		if is.Severity == bars.Warning && len(warns) < 5 {
			warns = append(warns, is.String())
		}
	}
	if rep.Warnings > len(warns) {
		warns = append(warns, fmt.Sprintf("… %d data warnings in all", rep.Warnings))
	}
	return warns, nil
}

// checkQuote refuses a quote that is not a positive finite price.
func checkQuote(q providers.Quote) error {
	if q.Symbol == "" {
		q.Symbol = "quote"
	}
	if math.IsNaN(q.Price) || math.IsInf(q.Price, 0) || q.Price <= 0 {
		return &BadDataError{Symbol: q.Symbol, Source: q.Provider, Report: &bars.Report{},
			Err: fmt.Errorf("%w: quote price %v is not a positive number", bars.ErrBadData, q.Price)}
	}
	return nil
}

func indicators(bs []providers.Bar) Indicators {
	n := len(bs)
	nan := Num(math.NaN())
	in := Indicators{SMA20: nan, SMA50: nan, EMA12: nan, EMA26: nan, MACD: nan, MACDSignal: nan, MACDHistogram: nan,
		RSI14: nan, BollingerUpper: nan, BollingerMid: nan, BollingerLower: nan, ATR14: nan}
	if n == 0 {
		return in
	}
	c, h, l := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, b := range bs {
		c[i], h[i], l[i] = b.Close, b.High, b.Low
	}
	last := func(v []float64, err error) Num {
		if err != nil || len(v) == 0 {
			return nan
		}
		return Num(v[len(v)-1])
	}
	in.SMA20 = last(indicator.SMA(c, 20))
	in.SMA50 = last(indicator.SMA(c, 50))
	in.EMA12 = last(indicator.EMA(c, 12))
	in.EMA26 = last(indicator.EMA(c, 26))
	if m, err := indicator.MACD(c, 12, 26, 9); err == nil {
		in.MACD, in.MACDSignal, in.MACDHistogram = last(m.Line, nil), last(m.Signal, nil), last(m.Hist, nil)
	}
	in.RSI14 = last(indicator.RSI(c, 14))
	if b, err := indicator.Bollinger(c, 20, 2); err == nil {
		in.BollingerUpper, in.BollingerMid, in.BollingerLower = last(b.Upper, nil), last(b.Middle, nil), last(b.Lower, nil)
	}
	in.ATR14 = last(indicator.ATR(h, l, c, 14))
	return in
}

// ensemble returns the default strategies with the learned weights.
func (e *Engine) ensemble(ctx context.Context) (strategy.Ensemble, error) {
	w, err := e.st.Weights(ctx)
	if err != nil {
		return strategy.Ensemble{}, err
	}
	return strategy.Ensemble{Strategies: strategy.DefaultStrategies(), Weights: w}, nil
}

// decideParams maps the risk settings onto the decision parameters.
func (e *Engine) decideParams(equity float64) strategy.Params {
	r := e.cfg.Risk
	p := strategy.DefaultParams()
	p.Equity = equity
	p.RiskPerTrade = r.RiskPerTrade
	p.StopATR = r.ATRStopMultiple
	p.TakeProfitATR = r.ATRStopMultiple * r.RewardRisk
	p.MaxExposure = r.MaxPositionShare
	return p
}

// Analyze fetches bars and a quote for symbol (and Reddit sentiment when
// enabled), validates them, computes the indicators, lets the strategies
// vote with their learned weights, and stores the resulting decision. Bad
// data fails with a *BadDataError; an unknown symbol with a *UsageError.
func (e *Engine) Analyze(ctx context.Context, symbol string) (*Analysis, error) {
	sym, class, err := normalize(symbol)
	if err != nil {
		return nil, err
	}
	interval, err := providers.ParseInterval(e.cfg.Data.Interval)
	if err != nil {
		return nil, err
	}
	q, err := e.quote(ctx, sym, class)
	if err != nil {
		return nil, err
	}
	bs, err := e.fetchBars(ctx, sym, class, interval, e.cfg.Data.HistoryBars, q.Time)
	if err != nil {
		return nil, err
	}
	if len(bs) < MinBars {
		last := "the provider's range"
		if len(bs) > 0 {
			last = bs[len(bs)-1].Time.Format(time.DateOnly)
		}
		return nil, fmt.Errorf("%s has only %d bars up to %s; analyze needs at least %d for the indicators to warm up",
			sym, len(bs), last, MinBars)
	}
	warns, err := validate(sym, class, interval, e.md.Name(), bs)
	if err != nil {
		return nil, err
	}
	a := &Analysis{Quote: q, Bars: len(bs), First: bs[0].Time, Last: bs[len(bs)-1].Time, Indicators: indicators(bs), Warnings: warns}

	var sent strategy.Sentiment
	if e.cfg.Sentiment.Enabled && e.posts != nil {
		s, err := e.sentiment(ctx, sym)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			a.Warnings = append(a.Warnings, "sentiment unavailable: "+err.Error())
		default:
			sent = s
			a.Sentiment = &s
		}
	}

	acct, err := e.broker.Account(ctx)
	if err != nil {
		return nil, fmt.Errorf("account of %s: %w", e.platform(), err)
	}
	if a.Equity, err = e.equity(ctx, acct); err != nil {
		return nil, err
	}
	pos, _, err := e.st.Position(ctx, e.platform(), sym)
	if err != nil {
		return nil, err
	}
	a.Position = pos.Quantity
	ens, err := e.ensemble(ctx)
	if err != nil {
		return nil, err
	}
	d, err := strategy.Decide(strategy.Input{Symbol: sym, Class: class, Bars: bs, Sentiment: sent, Position: pos.Quantity},
		ens, e.decideParams(a.Equity))
	if err != nil {
		if errors.Is(err, bars.ErrBadData) {
			return nil, &BadDataError{Symbol: sym, Source: e.md.Name(), Err: err}
		}
		return nil, fmt.Errorf("decide %s: %w", sym, err)
	}
	votes := make([]store.Vote, len(d.Votes))
	for i, v := range d.Votes {
		w, ok := ens.Weights[v.Strategy]
		if !ok {
			w = strategy.DefaultWeight
		}
		votes[i] = store.Vote{Strategy: v.Strategy, Signal: v.Signal, Weight: w, Abstain: v.Abstain, Reasons: v.Reasons}
	}
	a.Decision = store.Decision{
		Symbol: sym, Class: class, Action: string(d.Action), Confidence: d.Confidence, Score: d.Score,
		Quantity: d.Quantity, Price: d.Price, ATR: d.ATR, StopLoss: d.StopLoss, TakeProfit: d.TakeProfit,
		Reasons: d.Reasons, Votes: votes, BarTime: d.Time, CreatedAt: e.now().UTC(),
	}
	if err := e.st.InsertDecision(ctx, &a.Decision); err != nil {
		return nil, err
	}
	return a, nil
}

// History returns stored decisions matching f, newest first.
func (e *Engine) History(ctx context.Context, f store.DecisionFilter) ([]store.Decision, error) {
	if f.Symbol != "" {
		sym, _, err := normalize(f.Symbol)
		if err != nil {
			return nil, err
		}
		f.Symbol = sym
	}
	if f.Action != "" {
		a := strings.ToUpper(f.Action)
		if a != string(strategy.Buy) && a != string(strategy.Sell) && a != string(strategy.Hold) {
			return nil, Usagef("action %q: use BUY, SELL or HOLD", f.Action)
		}
		f.Action = a
	}
	if f.Limit < 0 {
		return nil, Usagef("limit %d: use a positive number", f.Limit)
	}
	return e.st.Decisions(ctx, f)
}
