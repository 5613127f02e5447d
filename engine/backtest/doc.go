// Package backtest replays trading rules over historical bars and measures
// the result: single-symbol backtests of any signal series, an
// allocation-free SMA-cross fast path, static-weight portfolios with
// rebalancing, and walk-forward optimisation. Monte-carlo bootstrap of the
// resulting returns lives in the montecarlo subpackage.
//
// # Execution model
//
// A signal computed from bar i (its close included) is executed at the
// open of bar i+1: no decision ever sees a price it could not have known.
// Changing bar k therefore never changes the equity of bars before k.
// Fills pay SlippageBps against the trader (buys fill above the open,
// sells below) plus FeeBps of the traded notional, on every side. A
// position takes the whole equity (long, or short when AllowShort is set);
// signals between -Threshold and +Threshold keep the current position, and
// NaN signals (indicator warm-up) keep it too, so a run starts flat.
// Positions still open at the end are marked to market at the last close
// without exit costs. A run whose equity reaches zero stops trading.
//
// # Metrics
//
// Equity is recorded at each bar's close; the first point is the initial
// capital at the close of the first bar, so n bars give n-1 returns.
// Sharpe and Sortino are annualised by BarsPerYear (252 for equities, 365
// for crypto, 260 for forex unless set) and use the sample standard
// deviation, and the downside deviation over all returns, of the per-bar
// returns in excess of the per-bar risk-free rate
// (1+RiskFree)^(1/BarsPerYear)-1; they are 0 when the deviation is 0.
// CAGR compounds over (n-1)/BarsPerYear years. See Metrics for the rest.
//
// # Concurrency
//
// Series and results are safe to share once built. A Backtester reuses
// its buffers between runs and must not be used by two goroutines at once.
// WalkForward runs a bounded pool of workers and joins every one before it
// returns.
package backtest
