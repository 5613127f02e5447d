package harness

import (
	"encoding/json"
	"io"
	"math"
	"time"
)

// Schema is the value of the "schema" field of a Result's JSON. It changes
// only when a field changes meaning or goes away; new fields may be added
// within a version.
const Schema = "leakgate.result/v1"

// Status is the outcome of a run.
type Status string

// Statuses of a run. Only StatusPass passes.
const (
	StatusPass      Status = "pass"      // every threshold held
	StatusLeak      Status = "leak"      // a threshold failed
	StatusError     Status = "error"     // the scenario or the measurement failed
	StatusCancelled Status = "cancelled" // the context was done before the run finished
)

// Verdict is the outcome of one metric.
type Verdict string

// Verdicts of a metric. Only VerdictFail fails a run as a leak.
const (
	VerdictPass        Verdict = "pass"        // every threshold held
	VerdictFail        Verdict = "fail"        // a threshold failed
	VerdictNone        Verdict = "none"        // no thresholds: reported only
	VerdictUnsupported Verdict = "unsupported" // not measurable on this platform or target
	VerdictUnknown     Verdict = "unknown"     // too few samples to evaluate a threshold
	VerdictError       Verdict = "error"       // sampling failed
)

// Result is the outcome of a run. It is JSON-serialisable: see "Result
// JSON" in the package documentation for the schema.
type Result struct {
	Schema          string         `json:"schema"`
	Scenario        string         `json:"scenario"`
	Status          Status         `json:"status"`
	Error           string         `json:"error,omitempty"`
	Target          TargetInfo     `json:"target"`
	Started         time.Time      `json:"started"`
	DurationSeconds float64        `json:"duration_seconds"`
	Iterations      Iterations     `json:"iterations"`
	Timing          Timing         `json:"timing"`
	Metrics         []MetricResult `json:"metrics"`
	Findings        []Finding      `json:"findings"`
	Baseline        Snapshot       `json:"baseline"`
	Final           Snapshot       `json:"final"`
}

// TargetInfo identifies the measured process.
type TargetInfo struct {
	PID        int    `json:"pid"`
	Self       bool   `json:"self"`
	MetricsURL string `json:"metrics_url,omitempty"`
}

// Iterations counts the iterations of a run.
type Iterations struct {
	Requested int `json:"requested"`
	Completed int `json:"completed"` // measured iterations that ran without error
	Warmup    int `json:"warmup"`
}

// Timing is where the time of a run went.
type Timing struct {
	P50Seconds      float64 `json:"iteration_p50_seconds"` // over measured iterations
	P95Seconds      float64 `json:"iteration_p95_seconds"`
	MeanSeconds     float64 `json:"iteration_mean_seconds"`
	MaxSeconds      float64 `json:"iteration_max_seconds"`
	ScenarioSeconds float64 `json:"scenario_seconds"` // setup, warm-up, iterations, teardown
	HarnessSeconds  float64 `json:"harness_seconds"`  // the rest: sampling, collections, settling
	SettleSeconds   float64 `json:"settle_seconds"`
	Settled         bool    `json:"settled"` // goroutines, fds and conns were back to the baseline
	ForcedGCs       int     `json:"forced_gcs"`
	GCSeconds       float64 `json:"gc_seconds"`
}

// MetricResult is the measurement and verdict of one metric. Numbers the
// run could not measure are NaN (null in JSON).
type MetricResult struct {
	Name       string            `json:"name"`
	Unit       string            `json:"unit"` // count, bytes, or "" for probes
	Supported  bool              `json:"supported"`
	Reason     string            `json:"reason,omitempty"` // why unsupported, or the sampling error
	Note       string            `json:"note,omitempty"`   // attributed runs: the goroutines counted, or that the metric is process-wide
	Baseline   float64           `json:"baseline"`
	Final      float64           `json:"final"`
	Delta      float64           `json:"delta"`
	Max        float64           `json:"max"`
	Min        float64           `json:"min"`
	Slope      float64           `json:"slope"` // per iteration
	Steady     bool              `json:"steady"`
	Tail       float64           `json:"tail"`            // growth over the last half of the run: final - max(baseline, value at the half)
	TailSlope  float64           `json:"tail_slope"`      // tail per iteration of the last half
	Shape      Shape             `json:"shape,omitempty"` // flat, levels off or grows
	Series     []float64         `json:"series"`          // one value per measured iteration
	Thresholds []ThresholdResult `json:"thresholds"`
	Verdict    Verdict           `json:"verdict"`
	// FirstFail is, for a failing metric, the first measured iteration
	// (1-based) after which its thresholds failed on the series so far,
	// and kept failing: how soon the leak showed. 0 when the metric did
	// not fail.
	FirstFail int            `json:"first_fail,omitempty"`
	Breakdown []BreakdownRow `json:"breakdown,omitempty"`
}

// ThresholdResult is one evaluated threshold: Actual is the left-hand
// statistic, Limit the right-hand side.
type ThresholdResult struct {
	Expr   string  `json:"expr"`
	Actual float64 `json:"actual"`
	Limit  float64 `json:"limit"`
	Passed bool    `json:"passed"`
}

// BreakdownRow splits a metric at the baseline and the end: descriptors by
// kind, connections by state.
type BreakdownRow struct {
	Key      string `json:"key"`
	Baseline int    `json:"baseline"`
	Final    int    `json:"final"`
}

// Passed reports whether the run completed and every threshold held.
func (r *Result) Passed() bool { return r != nil && r.Status == StatusPass }

// Metric returns the result of one metric.
func (r *Result) Metric(name string) (MetricResult, bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return MetricResult{}, false
}

// FindingsFor returns the findings of one metric.
func (r *Result) FindingsFor(metric string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Metric == metric {
			out = append(out, f)
		}
	}
	return out
}

// WriteJSON writes the result as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// num is a float64 that is null in JSON when NaN or infinite.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

func (n *num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = num(math.NaN())
		return nil
	}
	var f float64
	err := json.Unmarshal(b, &f)
	*n = num(f)
	return err
}

func toNums(fs []float64) []num {
	out := make([]num, len(fs))
	for i, f := range fs {
		out[i] = num(f)
	}
	return out
}

func fromNums(ns []num) []float64 {
	out := make([]float64, len(ns))
	for i, n := range ns {
		out[i] = float64(n)
	}
	return out
}

type metricJSON struct {
	Name       string            `json:"name"`
	Unit       string            `json:"unit"`
	Supported  bool              `json:"supported"`
	Reason     string            `json:"reason,omitempty"`
	Note       string            `json:"note,omitempty"`
	Baseline   num               `json:"baseline"`
	Final      num               `json:"final"`
	Delta      num               `json:"delta"`
	Max        num               `json:"max"`
	Min        num               `json:"min"`
	Slope      num               `json:"slope"`
	Steady     bool              `json:"steady"`
	Tail       *num              `json:"tail,omitempty"` // absent in results written before it existed
	TailSlope  *num              `json:"tail_slope,omitempty"`
	Shape      Shape             `json:"shape,omitempty"`
	Series     []num             `json:"series"`
	Thresholds []ThresholdResult `json:"thresholds"`
	Verdict    Verdict           `json:"verdict"`
	FirstFail  int               `json:"first_fail,omitempty"`
	Breakdown  []BreakdownRow    `json:"breakdown,omitempty"`
}

// MarshalJSON writes NaN numbers as null.
func (m MetricResult) MarshalJSON() ([]byte, error) {
	th := m.Thresholds
	if th == nil {
		th = []ThresholdResult{}
	}
	tail, tailSlope := num(m.Tail), num(m.TailSlope)
	return json.Marshal(metricJSON{
		Name: m.Name, Unit: m.Unit, Supported: m.Supported, Reason: m.Reason, Note: m.Note,
		Baseline: num(m.Baseline), Final: num(m.Final), Delta: num(m.Delta),
		Max: num(m.Max), Min: num(m.Min), Slope: num(m.Slope), Steady: m.Steady,
		Tail: &tail, TailSlope: &tailSlope, Shape: m.Shape,
		Series: toNums(m.Series), Thresholds: th, Verdict: m.Verdict, FirstFail: m.FirstFail, Breakdown: m.Breakdown,
	})
}

// UnmarshalJSON reads null numbers as NaN.
func (m *MetricResult) UnmarshalJSON(b []byte) error {
	var j metricJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*m = MetricResult{
		Name: j.Name, Unit: j.Unit, Supported: j.Supported, Reason: j.Reason, Note: j.Note,
		Baseline: float64(j.Baseline), Final: float64(j.Final), Delta: float64(j.Delta),
		Max: float64(j.Max), Min: float64(j.Min), Slope: float64(j.Slope), Steady: j.Steady,
		Tail: optNum(j.Tail), TailSlope: optNum(j.TailSlope), Shape: j.Shape,
		Series: fromNums(j.Series), Thresholds: j.Thresholds, Verdict: j.Verdict, FirstFail: j.FirstFail, Breakdown: j.Breakdown,
	}
	return nil
}

// optNum is an optional number: NaN when absent.
func optNum(n *num) float64 {
	if n == nil {
		return math.NaN()
	}
	return float64(*n)
}

type thresholdJSON struct {
	Expr   string `json:"expr"`
	Actual num    `json:"actual"`
	Limit  num    `json:"limit"`
	Passed bool   `json:"passed"`
}

// MarshalJSON writes NaN numbers as null.
func (t ThresholdResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(thresholdJSON{Expr: t.Expr, Actual: num(t.Actual), Limit: num(t.Limit), Passed: t.Passed})
}

// UnmarshalJSON reads null numbers as NaN.
func (t *ThresholdResult) UnmarshalJSON(b []byte) error {
	var j thresholdJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*t = ThresholdResult{Expr: j.Expr, Actual: float64(j.Actual), Limit: float64(j.Limit), Passed: j.Passed}
	return nil
}
