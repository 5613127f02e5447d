package harness

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Defaults of the run options.
const (
	DefaultIterations    = 50
	DefaultWarmup        = 5
	DefaultSettleTimeout = 2 * time.Second
	DefaultGCBudget      = 0.01
)

// Option configures Run, Check and Measure.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	iterations    int
	warmup        int
	settleTimeout time.Duration
	gcBudget      float64
	target        Target
	probes        []Probe
	disabled      map[string]bool
	thresholds    map[string][]string // explicit, by metric; replace the defaults
	duration      time.Duration       // 0: iterations alone end the run
	progress      func(Progress)
	profileRate   int         // heap profile sampling, bytes; 0 leaves the runtime's
	attribution   attribution // WithAttribution, or Check in a parallel test
	errs          []error
}

func buildOptions(opts []Option) (options, error) {
	o := options{
		iterations:    DefaultIterations,
		warmup:        DefaultWarmup,
		settleTimeout: DefaultSettleTimeout,
		gcBudget:      DefaultGCBudget,
		profileRate:   DefaultHeapProfileRate,
		disabled:      map[string]bool{},
		thresholds:    map[string][]string{},
	}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.iterations < 2 {
		o.errs = append(o.errs, fmt.Errorf("harness: iterations %d: need at least 2 for a slope", o.iterations))
	}
	if o.warmup < 0 {
		o.errs = append(o.errs, fmt.Errorf("harness: warm-up %d: must not be negative", o.warmup))
	}
	if o.settleTimeout < 0 {
		o.errs = append(o.errs, fmt.Errorf("harness: settle timeout %v: must not be negative", o.settleTimeout))
	}
	if o.duration < 0 {
		o.errs = append(o.errs, fmt.Errorf("harness: duration %v: must not be negative", o.duration))
	}
	if err := o.target.validate(); err != nil {
		o.errs = append(o.errs, err)
	}
	if o.gcBudget < 0 || math.IsNaN(o.gcBudget) {
		o.errs = append(o.errs, fmt.Errorf("harness: GC budget %v: want a fraction of the scenario's time, 0 or more", o.gcBudget))
	}
	return o, errors.Join(o.errs...)
}

// WithIterations sets the number of measured iterations (default 50, at
// least 2).
func WithIterations(n int) Option { return optionFunc(func(o *options) { o.iterations = n }) }

// WithWarmup sets the number of iterations run before the baseline and not
// measured (default 5). Warm-up fills caches and pools and starts lazily
// created goroutines and descriptors (the network poller, say), so that
// they count in the baseline rather than as growth.
func WithWarmup(n int) Option { return optionFunc(func(o *options) { o.warmup = n }) }

// WithSettleTimeout bounds the wait after the last iteration for
// goroutines, descriptors and connections to return to the baseline
// (default 2s). The wait ends as soon as they do.
func WithSettleTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) { o.settleTimeout = d })
}

// WithGCBudget sets the fraction of the scenario's time that forced garbage
// collections for heap samples may take (default 0.01). 0 forces a
// collection only after the first and middle iterations and at the end;
// math.Inf(1) forces one after every iteration but the last, and values
// above 1 let the collections take longer than the iterations, for short
// iterations whose heap slope needs many points. See "Heap" in the package
// documentation.
func WithGCBudget(fraction float64) Option {
	return optionFunc(func(o *options) { o.gcBudget = fraction })
}

// WithTarget sets the measured process (default Self()).
func WithTarget(t Target) Option { return optionFunc(func(o *options) { o.target = t }) }

// WithProbes adds probes: custom gauges and counters (Gauge, Counter,
// Unclosed) or any Probe. Their names must differ from each other and from
// the built-in metrics, except Unclosed's "unclosed".
func WithProbes(probes ...Probe) Option {
	return optionFunc(func(o *options) { o.probes = append(o.probes, probes...) })
}

// WithoutProbes switches off metrics by name: built-in ones ("threads",
// "children", ...) or added probes. An unknown name is an error.
func WithoutProbes(names ...string) Option {
	return optionFunc(func(o *options) {
		for _, n := range names {
			o.disabled[n] = true
		}
	})
}

// WithThreshold sets the thresholds of one metric, replacing its defaults.
// Each expression must hold for the metric to pass; none means the metric
// is reported but never fails. Expressions are checked when the run starts:
// a syntax error, or a metric that does not exist or cannot be measured on
// the target, makes Run return an error. See "Thresholds" in the package
// documentation for the grammar.
func WithThreshold(metric string, exprs ...string) Option {
	return optionFunc(func(o *options) { o.thresholds[metric] = append([]string{}, exprs...) })
}

// WithDuration makes the measured iterations go on until d has passed since
// the baseline, for soak runs; WithIterations is then the most that run.
// The run still measures at least 2 iterations. Zero (the default) means
// the iterations alone end the run.
func WithDuration(d time.Duration) Option { return optionFunc(func(o *options) { o.duration = d }) }

// WithProgress calls f, from the goroutine that called Run, after every
// warm-up iteration, after every measured iteration's sample and when
// settling starts. f must return quickly: its time counts as the
// harness's.
func WithProgress(f func(Progress)) Option { return optionFunc(func(o *options) { o.progress = f }) }

// Phases of a run, as Progress reports them.
const (
	PhaseWarmup  = "warmup"
	PhaseMeasure = "measure"
	PhaseSettle  = "settle"
)

// Progress is where a run is, for a live display.
type Progress struct {
	Phase string
	// Iteration counts the iterations of the phase done so far; Of is how
	// many the phase has at most (with WithDuration, the cap).
	Iteration, Of int
	// Elapsed is the time since the run started; Duration is WithDuration's.
	Elapsed, Duration time.Duration
	// Delta is each count's growth since the baseline in the latest sample
	// (PhaseMeasure only).
	Delta Delta
}

// WithHeapProfileRate sets how often the heap profile samples allocations
// while this process is measured (runtime.MemProfileRate, bytes; default
// DefaultHeapProfileRate, never less often than the process already
// does); 0 leaves the runtime's rate. The heap findings name the
// allocation sites that grew from these samples. The rate is restored
// when the run ends.
func WithHeapProfileRate(bytes int) Option {
	return optionFunc(func(o *options) { o.profileRate = bytes })
}
