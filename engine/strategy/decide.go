package strategy

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/leakgate/leakgate/engine/bars"
	"github.com/leakgate/leakgate/engine/indicator"
	"github.com/leakgate/leakgate/providers"
)

// Action is what a Decision asks for.
type Action string

// Actions.
const (
	Buy  Action = "BUY"
	Sell Action = "SELL"
	Hold Action = "HOLD"
)

// Side returns the order side of a BUY or SELL, and false for HOLD.
func (a Action) Side() (providers.Side, bool) {
	switch a {
	case Buy:
		return providers.Buy, true
	case Sell:
		return providers.Sell, true
	}
	return "", false
}

// Params configures Decide. Zero fields take the defaults in brackets,
// except Equity, which is required.
type Params struct {
	// Threshold is the ensemble score magnitude needed to trade [0.2]:
	// score ≥ Threshold targets a long position, score ≤ -Threshold a short
	// one (or flat without AllowShort), anything between holds.
	Threshold float64
	// Equity is the account value that positions are sized against.
	Equity float64
	// RiskPerTrade is the fraction of Equity a trade may lose if its stop
	// is hit [0.01].
	RiskPerTrade float64
	// ATRPeriod is the period of the ATR that sets stops and size [14].
	ATRPeriod int
	// StopATR is the stop-loss distance in ATRs [2].
	StopATR float64
	// TakeProfitATR is the take-profit distance in ATRs [3].
	TakeProfitATR float64
	// MaxExposure caps a position's value as a fraction of Equity [1]
	// (above 1 allows leverage).
	MaxExposure float64
	// AllowShort lets a SELL open a short position; without it a SELL only
	// closes a long one.
	AllowShort bool
}

// DefaultParams returns the defaults, with Equity left to the caller.
func DefaultParams() Params {
	return Params{Threshold: 0.2, RiskPerTrade: 0.01, ATRPeriod: 14, StopATR: 2, TakeProfitATR: 3, MaxExposure: 1}
}

func (p Params) withDefaults() (Params, error) {
	d := DefaultParams()
	set := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	set(&p.Threshold, d.Threshold)
	set(&p.RiskPerTrade, d.RiskPerTrade)
	set(&p.StopATR, d.StopATR)
	set(&p.TakeProfitATR, d.TakeProfitATR)
	set(&p.MaxExposure, d.MaxExposure)
	if p.ATRPeriod == 0 {
		p.ATRPeriod = d.ATRPeriod
	}
	if err := checkPositive("decide", "equity (the account value positions are sized against)", p.Equity); err != nil {
		return p, err
	}
	for _, f := range []struct {
		what string
		v    float64
	}{{"risk per trade", p.RiskPerTrade}, {"stop distance in ATRs", p.StopATR},
		{"take-profit distance in ATRs", p.TakeProfitATR}, {"maximum exposure", p.MaxExposure}} {
		if err := checkPositive("decide", f.what, f.v); err != nil {
			return p, err
		}
	}
	if !(p.Threshold > 0 && p.Threshold <= 1) {
		return p, fmt.Errorf("strategy decide: threshold %v must be in (0, 1]: %w", p.Threshold, ErrParam)
	}
	if p.RiskPerTrade >= 1 {
		return p, fmt.Errorf("strategy decide: risk per trade %v is a fraction of equity and must be below 1 (0.01 is 1%%): %w", p.RiskPerTrade, ErrParam)
	}
	return p, checkPeriods("decide", period{"ATR period", p.ATRPeriod})
}

// Decision is what to do about one symbol now, and why.
type Decision struct {
	// Symbol is Input.Symbol.
	Symbol string `json:"symbol"`
	// Time is the time of the last bar.
	Time time.Time `json:"time"`
	// Action is BUY, SELL or HOLD.
	Action Action `json:"action"`
	// Score is the ensemble score in [-1, 1].
	Score float64 `json:"score"`
	// Confidence is |Score|, in [0, 1].
	Confidence float64 `json:"confidence"`
	// Agreement is the share of voting weight on the side of Score.
	Agreement float64 `json:"agreement"`
	// Price is the last close, the reference for size and stops.
	Price float64 `json:"price"`
	// ATR is the average true range at the last bar (Params.ATRPeriod).
	ATR float64 `json:"atr"`
	// Quantity is the order size in units (0 for HOLD); Action gives the
	// side.
	Quantity float64 `json:"quantity"`
	// Target is the signed position after the order.
	Target float64 `json:"target"`
	// StopLoss and TakeProfit are the exit prices for Target; 0 when
	// Target is flat.
	StopLoss float64 `json:"stop_loss,omitempty"`
	// TakeProfit: see StopLoss.
	TakeProfit float64 `json:"take_profit,omitempty"`
	// Votes are the strategies' votes, in ensemble order.
	Votes []Vote `json:"votes"`
	// Reasons explain the decision: the score, one line per strategy, the
	// sizing and the stops.
	Reasons []string `json:"reasons"`
}

// Decide turns the ensemble's vote on in into a Decision.
//
// The target position follows the score: long when score ≥ Threshold,
// short (or flat without AllowShort) when score ≤ -Threshold, unchanged
// in between. A new position's size is the risk budget divided by the stop
// distance,
//
//	units = Equity·RiskPerTrade / (ATR·StopATR)
//
// capped so that units·price ≤ Equity·MaxExposure. A position already on
// the target's side is held, not resized. The order is the difference
// between target and in.Position.
//
// The bars must pass bars.Validate without hard errors and hold more than
// ATRPeriod bars.
func Decide(in Input, e Ensemble, p Params) (Decision, error) {
	p, err := p.withDefaults()
	if err != nil {
		return Decision{}, err
	}
	if math.IsNaN(in.Position) || math.IsInf(in.Position, 0) {
		return Decision{}, fmt.Errorf("strategy decide: position %v is not a finite number: %w", in.Position, ErrParam)
	}
	rep, err := bars.Validate(in.Bars, bars.Options{Class: in.Class, NoGaps: true, MaxMove: -1})
	if err != nil {
		return Decision{}, fmt.Errorf("strategy decide %s: %w", in.Symbol, err)
	}
	if err := rep.Err(); err != nil {
		return Decision{}, fmt.Errorf("strategy decide %s: %w", in.Symbol, err)
	}
	n := len(in.Bars)
	if n <= p.ATRPeriod {
		return Decision{}, fmt.Errorf("strategy decide %s: %d bars are too few for ATR(%d); load at least %d: %w",
			in.Symbol, n, p.ATRPeriod, p.ATRPeriod+1, ErrParam)
	}
	tally, err := e.Vote(in)
	if err != nil {
		return Decision{}, err
	}
	last := in.Bars[n-1]
	atr, err := lastATR(in.Bars, p.ATRPeriod)
	if err != nil {
		return Decision{}, err
	}
	d := Decision{
		Symbol: in.Symbol, Time: last.Time, Score: tally.Score, Confidence: math.Abs(tally.Score),
		Agreement: tally.Agreement, Price: last.Close, ATR: atr, Votes: tally.Votes,
	}
	d.Reasons = append(d.Reasons, scoreReason(tally, p))
	for _, v := range tally.Votes {
		d.Reasons = append(d.Reasons, voteReason(v, tally.Weights[v.Strategy]))
	}

	size, sizing := positionSize(p, last.Close, atr)
	cur := in.Position
	target := cur
	switch {
	case tally.Score >= p.Threshold:
		if cur <= 0 {
			target = size
		}
	case tally.Score <= -p.Threshold:
		switch {
		case !p.AllowShort:
			target = 0
		case cur >= 0:
			target = -size
		}
	}
	d.Target = target
	delta := target - cur
	switch {
	case delta > 0:
		d.Action, d.Quantity = Buy, delta
	case delta < 0:
		d.Action, d.Quantity = Sell, -delta
	default:
		d.Action = Hold
	}
	d.Reasons = append(d.Reasons, actionReason(d, cur, p))
	if d.Action != Hold && target != 0 {
		d.Reasons = append(d.Reasons, sizing)
	}
	if target != 0 {
		dir := math.Copysign(1, target)
		d.StopLoss = math.Max(0, last.Close-dir*p.StopATR*atr)
		d.TakeProfit = math.Max(0, last.Close+dir*p.TakeProfitATR*atr)
		d.Reasons = append(d.Reasons, fmt.Sprintf("stop-loss %.4g (%.1f ATR), take-profit %.4g (%.1f ATR), ATR(%d) %.4g",
			d.StopLoss, p.StopATR, d.TakeProfit, p.TakeProfitATR, p.ATRPeriod, atr))
	}
	return d, nil
}

func lastATR(bs []providers.Bar, period int) (float64, error) {
	n := len(bs)
	buf := make([]float64, 4*n)
	h, l, c, dst := buf[:n], buf[n:2*n], buf[2*n:3*n], buf[3*n:]
	for i, b := range bs {
		h[i], l[i], c[i] = b.High, b.Low, b.Close
	}
	if err := indicator.ATRInto(dst, h, l, c, period); err != nil {
		return 0, err
	}
	return dst[n-1], nil
}

// positionSize returns the units of a new position and a reason.
func positionSize(p Params, price, atr float64) (float64, string) {
	budget := p.Equity * p.RiskPerTrade
	maxUnits := p.Equity * p.MaxExposure / price
	if atr <= 0 {
		return maxUnits, fmt.Sprintf("ATR is 0 (no price range); size capped at %.0f%% of equity: %.6g units",
			100*p.MaxExposure, maxUnits)
	}
	units := budget / (atr * p.StopATR)
	why := fmt.Sprintf("size %.6g units = risk %.2f%% of %.2f (%.2f) / (ATR %.4g × %.1f)",
		units, 100*p.RiskPerTrade, p.Equity, budget, atr, p.StopATR)
	if units > maxUnits {
		why += fmt.Sprintf(", capped at %.6g units (%.0f%% of equity at %.4g)", maxUnits, 100*p.MaxExposure, price)
		units = maxUnits
	}
	return units, why
}

func scoreReason(t Tally, p Params) string {
	if t.Voters == 0 {
		return "no strategy voted: every strategy abstained or has weight 0"
	}
	return fmt.Sprintf("ensemble score %s from %d of %d strategies (agreement %.0f%%; act at ±%.2f)",
		signed(t.Score), t.Voters, len(t.Votes), 100*t.Agreement, p.Threshold)
}

func voteReason(v Vote, w float64) string {
	head := fmt.Sprintf("%s (weight %.2f): ", v.Strategy, w)
	if v.Abstain {
		head += "abstains"
	} else {
		head += signed(v.Signal)
	}
	if len(v.Reasons) > 0 {
		head += ": " + strings.Join(v.Reasons, "; ")
	}
	return head
}

func actionReason(d Decision, cur float64, p Params) string {
	pos := func(x float64) string {
		switch {
		case x > 0:
			return fmt.Sprintf("long %.6g", x)
		case x < 0:
			return fmt.Sprintf("short %.6g", -x)
		}
		return "flat"
	}
	switch {
	case d.Action != Hold:
		return fmt.Sprintf("%s %.6g: from %s to %s", d.Action, d.Quantity, pos(cur), pos(d.Target))
	case math.Abs(d.Score) < p.Threshold:
		return fmt.Sprintf("HOLD: |score| %.2f is below the threshold %.2f; stay %s", math.Abs(d.Score), p.Threshold, pos(cur))
	case d.Score < 0 && !p.AllowShort:
		return "HOLD: bearish, but shorting is off and there is no long position to close"
	}
	return fmt.Sprintf("HOLD: already %s on the side of the score", pos(cur))
}
