// Package montecarlo estimates the spread of future equity by bootstrapping
// historical per-bar returns: percentiles of final equity, value at risk,
// expected shortfall, drawdowns and the probability of ruin.
//
// Simulation i draws from its own PCG generator seeded from (Seed, i), so
// results depend only on the inputs and Seed, never on the number of
// workers or their scheduling. Run uses every core by default; its workers
// are all joined before it returns, and cancelling its context stops them
// within a few hundred simulations.
package montecarlo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"

	"github.com/leakgate/leakgate/engine/backtest/internal/pool"
)

// ErrParam is wrapped by errors about invalid arguments.
var ErrParam = errors.New("invalid parameter")

// MaxSims bounds Config.Sims: Run keeps three values per path (about 170 MB
// at the bound), and Result.Finals one.
const MaxSims = 10_000_000

// Config configures Run. Zero fields take the defaults in brackets.
type Config struct {
	// Sims is the number of simulated paths [10000], at most MaxSims.
	Sims int
	// Days is the number of returns drawn per path [252].
	Days int
	// Seed makes runs reproducible: the same returns, Config and Seed give
	// the same Result.
	Seed uint64
	// Block is the block length of the bootstrap [1]: 1 draws returns
	// independently (i.i.d.); a longer block draws runs of Block
	// consecutive returns from a random start, wrapping around the end of
	// the history (the circular block bootstrap), which keeps short-range
	// autocorrelation and volatility clusters.
	Block int
	// Workers is the number of goroutines [runtime.GOMAXPROCS].
	Workers int
	// Initial is the starting equity [1].
	Initial float64
	// Ruin is the fraction of Initial at or below which a path counts as
	// ruined, at any point on the path [0.5].
	Ruin float64
}

func (c Config) withDefaults(nReturns int) (Config, error) {
	if c.Sims == 0 {
		c.Sims = 10_000
	}
	if c.Days == 0 {
		c.Days = 252
	}
	if c.Block == 0 {
		c.Block = 1
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Initial == 0 {
		c.Initial = 1
	}
	if c.Ruin == 0 {
		c.Ruin = 0.5
	}
	switch {
	case c.Sims < 1 || c.Days < 1:
		return c, fmt.Errorf("montecarlo: sims %d and days %d must be at least 1: %w", c.Sims, c.Days, ErrParam)
	case c.Sims > MaxSims:
		return c, fmt.Errorf("montecarlo: sims %d is above %d; percentiles settle long before that, so ask for fewer paths: %w", c.Sims, MaxSims, ErrParam)
	case c.Block < 1 || c.Block > nReturns:
		return c, fmt.Errorf("montecarlo: block length %d must be between 1 and the %d returns given: %w", c.Block, nReturns, ErrParam)
	case c.Workers < 1:
		return c, fmt.Errorf("montecarlo: workers %d must be at least 1 (0 uses every core): %w", c.Workers, ErrParam)
	case !(c.Initial > 0) || math.IsInf(c.Initial, 0):
		return c, fmt.Errorf("montecarlo: initial equity %v must be a finite number above 0: %w", c.Initial, ErrParam)
	case !(c.Ruin > 0 && c.Ruin < 1):
		return c, fmt.Errorf("montecarlo: ruin level %v is a fraction of the initial equity and must be in (0, 1): %w", c.Ruin, ErrParam)
	}
	return c, nil
}

// Result summarises the simulated paths.
type Result struct {
	// Sims is the number of paths.
	Sims int `json:"sims"`
	// Days is the number of returns per path.
	Days int `json:"days"`
	// Percentiles of final equity (linear interpolation between order
	// statistics).
	P5 float64 `json:"p5"`
	// P25 is the 25th percentile of final equity.
	P25 float64 `json:"p25"`
	// P50 is the median final equity.
	P50 float64 `json:"p50"`
	// P75 is the 75th percentile of final equity.
	P75 float64 `json:"p75"`
	// P95 is the 95th percentile of final equity.
	P95 float64 `json:"p95"`
	// Mean final equity.
	Mean float64 `json:"mean"`
	// VaR95 and VaR99 are the losses, as fractions of Initial, that the
	// final equity falls below with 5% and 1% probability: VaR95 =
	// -(5th percentile of final/Initial - 1). Negative when even that
	// outcome is a gain.
	VaR95 float64 `json:"var95"`
	// VaR99: see VaR95.
	VaR99 float64 `json:"var99"`
	// CVaR95 and CVaR99 (expected shortfall) are the mean losses of the
	// worst 5% and 1% of paths, ceil(α·Sims) of them.
	CVaR95 float64 `json:"cvar95"`
	// CVaR99: see CVaR95.
	CVaR99 float64 `json:"cvar99"`
	// ProbRuin is the fraction of paths whose equity reached Ruin·Initial
	// or less at any point.
	ProbRuin float64 `json:"prob_ruin"`
	// DrawdownP50 and DrawdownP95 are percentiles of the paths' maximum
	// drawdowns, as positive fractions.
	DrawdownP50 float64 `json:"drawdown_p50"`
	// DrawdownP95: see DrawdownP50.
	DrawdownP95 float64 `json:"drawdown_p95"`
	// Finals holds every path's final equity, sorted ascending.
	Finals []float64 `json:"-"`
}

// Returns converts an equity curve into per-bar simple returns,
// equity[i+1]/equity[i] - 1.
func Returns(equity []float64) ([]float64, error) {
	if len(equity) < 2 {
		return nil, fmt.Errorf("montecarlo: an equity curve of %d points has no returns; pass at least 2: %w", len(equity), ErrParam)
	}
	out := make([]float64, len(equity)-1)
	for i := range out {
		a, b := equity[i], equity[i+1]
		if !(a > 0) || math.IsInf(a, 0) || math.IsNaN(b) || math.IsInf(b, 0) {
			return nil, fmt.Errorf("montecarlo: equity points %d and %d are %v and %v; returns need finite values after a positive one: %w",
				i, i+1, a, b, ErrParam)
		}
		out[i] = b/a - 1
	}
	return out, nil
}

// chunk is how many simulations a worker claims at a time; cancellation
// is checked between chunks.
const chunk = 64

// Run bootstraps returns (per-bar simple returns, such as from Returns)
// into cfg.Sims paths of cfg.Days bars and summarises them. Every return
// must be finite and above -1.
func Run(ctx context.Context, returns []float64, cfg Config) (Result, error) {
	if len(returns) == 0 {
		return Result{}, fmt.Errorf("montecarlo: no returns to resample; pass the per-bar returns of a backtest or price history: %w", ErrParam)
	}
	for i, r := range returns {
		if math.IsNaN(r) || math.IsInf(r, 0) || r <= -1 {
			return Result{}, fmt.Errorf("montecarlo: return %d is %v; returns must be finite and above -1: %w", i, r, ErrParam)
		}
	}
	cfg, err := cfg.withDefaults(len(returns))
	if err != nil {
		return Result{}, err
	}
	growth := make([]float64, len(returns))
	for i, r := range returns {
		growth[i] = 1 + r
	}
	finals := make([]float64, cfg.Sims)
	dds := make([]float64, cfg.Sims)
	ruined := make([]bool, cfg.Sims)
	chunks := (cfg.Sims + chunk - 1) / chunk
	err = pool.Run(ctx, pool.Workers(cfg.Workers, chunks), chunks, func(_, c int) {
		for i := c * chunk; i < min((c+1)*chunk, cfg.Sims); i++ {
			finals[i], dds[i], ruined[i] = simulate(growth, cfg, i)
		}
	})
	if err != nil {
		return Result{}, fmt.Errorf("montecarlo: %w", err)
	}
	return summarise(cfg, finals, dds, ruined), nil
}

// simulate runs path i over growth factors (1 + return) and returns its
// final equity, maximum drawdown and whether it was ruined.
func simulate(growth []float64, cfg Config, i int) (final, maxDD float64, ruined bool) {
	var src rand.PCG
	s1 := splitmix(cfg.Seed ^ splitmix(uint64(i)))
	src.Seed(s1, splitmix(s1))
	n := uint64(len(growth))
	e, peak, floor, low := cfg.Initial, cfg.Initial, cfg.Initial, cfg.Initial
	// step applies one growth factor; the drawdown division runs only on a
	// new maximum drawdown.
	step := func(g float64) {
		e *= g
		if e > peak {
			peak, floor = e, e*(1-maxDD)
		} else if e < floor {
			maxDD, floor = 1-e/peak, e
			if e < low {
				low = e
			}
		}
	}
	if cfg.Block == 1 {
		for range cfg.Days {
			step(growth[bounded(&src, n)])
		}
	} else {
		var j uint64
		left := 0 // draws left in the current block
		for range cfg.Days {
			if left == 0 {
				j, left = bounded(&src, n), cfg.Block
			}
			step(growth[j])
			left--
			if j++; j == n {
				j = 0
			}
		}
	}
	return e, maxDD, low <= cfg.Ruin*cfg.Initial
}

// bounded returns a uniform integer in [0, n) (Lemire's method, with
// rejection so there is no bias).
func bounded(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// splitmix is the SplitMix64 finaliser, used to turn (Seed, i) into
// well-separated PCG seeds.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func summarise(cfg Config, finals, dds []float64, ruined []bool) Result {
	slices.Sort(finals)
	slices.Sort(dds)
	r := Result{Sims: cfg.Sims, Days: cfg.Days, Finals: finals}
	r.P5, r.P25, r.P50 = quantile(finals, 0.05), quantile(finals, 0.25), quantile(finals, 0.50)
	r.P75, r.P95 = quantile(finals, 0.75), quantile(finals, 0.95)
	var sum float64
	for _, f := range finals {
		sum += f
	}
	r.Mean = sum / float64(len(finals))
	r.VaR95 = -(r.P5/cfg.Initial - 1)
	r.VaR99 = -(quantile(finals, 0.01)/cfg.Initial - 1)
	r.CVaR95 = shortfall(finals, 0.05, cfg.Initial)
	r.CVaR99 = shortfall(finals, 0.01, cfg.Initial)
	var n int
	for _, x := range ruined {
		if x {
			n++
		}
	}
	r.ProbRuin = float64(n) / float64(cfg.Sims)
	r.DrawdownP50, r.DrawdownP95 = quantile(dds, 0.50), quantile(dds, 0.95)
	return r
}

// quantile returns the q-quantile of sorted values by linear
// interpolation between the order statistics at (len-1)·q.
func quantile(sorted []float64, q float64) float64 {
	h := float64(len(sorted)-1) * q
	lo := int(math.Floor(h))
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// shortfall returns the mean loss, as a fraction of initial, of the worst
// ceil(alpha·n) sorted finals.
func shortfall(sorted []float64, alpha, initial float64) float64 {
	k := max(1, int(math.Ceil(alpha*float64(len(sorted)))))
	var sum float64
	for _, f := range sorted[:k] {
		sum += f
	}
	return -(sum/float64(k)/initial - 1)
}
