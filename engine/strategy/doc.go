// Package strategy turns price bars (and an outside sentiment score) into
// trading signals and decisions.
//
// A Strategy produces a signal in [-1, 1] per bar (positive: go long,
// negative: go short or stay out, NaN: abstain) and explains its vote at
// the latest bar. The built-in strategies are Trend (EMA cross plus MACD),
// MeanReversion (RSI plus Bollinger %B), Momentum (rate of change), SMACross
// (the classic fast/slow cross, ±1) and Sentiment (a score from outside,
// such as a Reddit scan).
//
// An Ensemble combines strategies by per-strategy weights; UpdateWeights
// learns those weights from closed-trade outcomes. Decide turns the
// ensemble's vote into a Decision: BUY, SELL or HOLD, with a confidence, a
// position size from a risk budget and the ATR, stop-loss and take-profit
// prices, and one reason per strategy.
//
// Everything here is pure computation on its arguments: no I/O, no clocks,
// no goroutines. Signal i depends only on bars 0..i, so the same code
// serves live decisions and backtests without look-ahead.
package strategy
