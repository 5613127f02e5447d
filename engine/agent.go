package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/leakgate/leakgate/engine/store"
)

// AgentOptions configures RunAgent. Zero fields take the configuration's
// agent settings and watchlist.
type AgentOptions struct {
	// Interval is the time between the starts of cycles.
	Interval time.Duration
	// MaxCycles stops after so many cycles; 0 runs until ctx is done.
	MaxCycles int
	// Threshold is the confidence a BUY or SELL needs to be executed, in
	// [0, 1]; zero takes agent.confidence_threshold, ZeroThreshold means
	// 0 (execute every BUY and SELL). NaN is refused.
	Threshold float64
	// Watchlist is the symbols each cycle analyzes.
	Watchlist []string
	// OnCycle, when set, is called after each cycle with its report.
	OnCycle func(CycleReport)
}

// ZeroThreshold as AgentOptions.Threshold executes every BUY and SELL,
// whatever the configured threshold (the field's zero value takes the
// configuration's).
const ZeroThreshold = -1.0

// meetsThreshold is the agent's risk gate: whether a decision of the given
// confidence may be executed. A NaN confidence or threshold never passes.
func meetsThreshold(confidence, threshold float64) bool {
	return !math.IsNaN(threshold) && confidence >= threshold
}

// SymbolResult is what one cycle did for one symbol.
type SymbolResult struct {
	// Symbol is the symbol analyzed; DecisionID, Action and Confidence
	// describe the decision; Executed and OrderID say whether it was
	// executed and as which order.
	Symbol     string  `json:"symbol"`
	DecisionID string  `json:"decision_id,omitempty"`
	Action     string  `json:"action,omitempty"`
	Confidence float64 `json:"confidence"`
	Executed   bool    `json:"executed"`
	OrderID    string  `json:"order_id,omitempty"`
	// Skipped says why a BUY or SELL was not executed.
	Skipped string `json:"skipped,omitempty"`
	// Exit, when set, says which exit of an open position was reached;
	// the decision closes that position.
	Exit  string `json:"exit,omitempty"`
	Error string `json:"error,omitempty"`
}

// CycleReport is one cycle of the agent.
type CycleReport struct {
	// Cycle numbers the cycle from 1; Started and Duration time it;
	// Results hold one entry per symbol analyzed.
	Cycle    int            `json:"cycle"`
	Started  time.Time      `json:"started"`
	Duration time.Duration  `json:"duration_ns"`
	Results  []SymbolResult `json:"results"`
}

// AgentReport is the result of RunAgent.
type AgentReport struct {
	// Cycles are the cycles run; Decisions, Executions and Errors count
	// over them; Interrupted is set when the loop stopped on cancellation.
	Cycles      []CycleReport `json:"cycles"`
	Decisions   int           `json:"decisions"`
	Executions  int           `json:"executions"`
	Errors      int           `json:"errors"`
	Interrupted bool          `json:"interrupted"`
}

// RunAgent runs the autonomous loop: every interval it first closes the
// open positions whose stop-loss or take-profit the quote has reached, then
// analyzes each symbol of the watchlist and executes the BUY and SELL
// decisions whose confidence reaches the threshold. It stops after MaxCycles cycles, or
// when ctx is done, promptly even mid-cycle; an interruption is not an
// error (the report says Interrupted). Per-symbol failures are recorded in
// the report and the loop goes on.
func (e *Engine) RunAgent(ctx context.Context, o AgentOptions) (*AgentReport, error) {
	if o.Interval == 0 {
		o.Interval = e.cfg.Agent.Interval
	}
	switch o.Threshold {
	case 0:
		o.Threshold = e.cfg.Agent.ConfidenceThreshold
	case ZeroThreshold:
		o.Threshold = 0
	}
	if len(o.Watchlist) == 0 {
		o.Watchlist = e.cfg.Watchlist
	}
	switch {
	case o.Interval < 0:
		return nil, Usagef("interval %s: use a positive duration such as 15m", o.Interval)
	case o.MaxCycles < 0:
		return nil, Usagef("max cycles %d: use 0 (until interrupted) or more", o.MaxCycles)
	case !(o.Threshold >= 0 && o.Threshold <= 1): // NaN too
		return nil, Usagef("threshold %v: use a confidence in [0, 1]", o.Threshold)
	case len(o.Watchlist) == 0:
		return nil, Usagef("the watchlist is empty: set watchlist in the config or pass --watchlist")
	}
	for _, s := range o.Watchlist {
		if _, _, err := normalize(s); err != nil {
			return nil, err
		}
	}
	rep := &AgentReport{Cycles: []CycleReport{}}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for cycle := 1; o.MaxCycles == 0 || cycle <= o.MaxCycles; cycle++ {
		if cycle > 1 {
			timer.Reset(o.Interval)
			select {
			case <-ctx.Done():
				rep.Interrupted = true
				return rep, nil
			case <-timer.C:
			}
		}
		cr := e.cycle(ctx, cycle, o)
		rep.Cycles = append(rep.Cycles, cr)
		for _, r := range cr.Results {
			if r.DecisionID != "" {
				rep.Decisions++
			}
			if r.Executed {
				rep.Executions++
			}
			if r.Error != "" {
				rep.Errors++
			}
		}
		if o.OnCycle != nil {
			o.OnCycle(cr)
		}
		if ctx.Err() != nil {
			rep.Interrupted = true
			return rep, nil
		}
	}
	return rep, nil
}

func (e *Engine) cycle(ctx context.Context, n int, o AgentOptions) (cr CycleReport) {
	cr = CycleReport{Cycle: n, Started: e.now().UTC(), Results: []SymbolResult{}}
	start := time.Now()
	defer func() { cr.Duration = time.Since(start) }()
	cr.Results = append(cr.Results, e.exits(ctx)...)
	for _, sym := range o.Watchlist {
		if ctx.Err() != nil {
			break
		}
		r := SymbolResult{Symbol: sym}
		a, err := e.Analyze(ctx, sym)
		if err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				break
			}
			r.Error = err.Error()
			cr.Results = append(cr.Results, r)
			e.log.Warn("agent: analyze failed", "symbol", sym, "err", err)
			continue
		}
		d := a.Decision
		r.Symbol, r.DecisionID, r.Action, r.Confidence = d.Symbol, d.ID, d.Action, d.Confidence
		switch {
		case d.Action == "HOLD":
		case !meetsThreshold(d.Confidence, o.Threshold):
			r.Skipped = fmt.Sprintf("confidence %.2f below threshold %.2f", d.Confidence, o.Threshold)
		default:
			ex, err := e.Execute(ctx, d.ID)
			if err != nil {
				if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
					cr.Results = append(cr.Results, r)
					return cr
				}
				if errors.Is(err, ErrRiskLimit) || errors.Is(err, ErrRejected) {
					r.Skipped = err.Error()
				} else {
					r.Error = err.Error()
				}
				break
			}
			r.Executed, r.OrderID = true, ex.Order.ID
		}
		cr.Results = append(cr.Results, r)
	}
	return cr
}

// exits closes the open positions whose quote has reached their stop-loss
// or take-profit: for each it stores a closing decision and executes it,
// so the closed trade reaches the memory and the weights.
func (e *Engine) exits(ctx context.Context) []SymbolResult {
	ps, err := e.st.Positions(ctx, e.platform())
	if err != nil {
		return []SymbolResult{{Error: "positions: " + err.Error()}}
	}
	var out []SymbolResult
	for _, p := range ps {
		if ctx.Err() != nil {
			break
		}
		q, err := e.quote(ctx, p.Symbol, p.Class)
		if err != nil {
			continue // analyze reports the symbol's data problems
		}
		long := p.Quantity > 0
		var why string
		switch {
		case p.StopLoss > 0 && (long && q.Price <= p.StopLoss || !long && q.Price >= p.StopLoss):
			why = fmt.Sprintf("stop-loss %.6g reached: quote %.6g", p.StopLoss, q.Price)
		case p.TakeProfit > 0 && (long && q.Price >= p.TakeProfit || !long && q.Price <= p.TakeProfit):
			why = fmt.Sprintf("take-profit %.6g reached: quote %.6g", p.TakeProfit, q.Price)
		default:
			continue
		}
		action := "SELL"
		if !long {
			action = "BUY"
		}
		d := store.Decision{Symbol: p.Symbol, Class: p.Class, Action: action, Confidence: 1, Quantity: math.Abs(p.Quantity),
			Price: q.Price, Reasons: []string{why, "closing the position opened by decision " + p.DecisionID},
			BarTime: q.Time, CreatedAt: e.now().UTC()}
		r := SymbolResult{Symbol: p.Symbol, Action: action, Confidence: 1, Exit: why}
		if err := e.st.InsertDecision(ctx, &d); err != nil {
			r.Error = err.Error()
			out = append(out, r)
			continue
		}
		r.DecisionID = d.ID
		ex, err := e.Execute(ctx, d.ID)
		if err != nil {
			r.Error = err.Error()
		} else {
			r.Executed, r.OrderID = true, ex.Order.ID
		}
		out = append(out, r)
	}
	return out
}
