package load

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/leakgate/leakgate/harness"
)

// Schema identifies the JSON of a Report.
const Schema = "leakgate.load/v1"

// Statuses of a load run.
const (
	StatusPass  = "pass"  // every threshold held
	StatusFail  = "fail"  // a threshold failed
	StatusError = "error" // the run did not complete
)

// Report is the outcome of a load run, or of several attackers' results
// merged. It marshals to JSON (schema leakgate.load/v1); durations are in
// seconds, times relative to the earliest attack start.
type Report struct {
	Schema  string    `json:"schema"`
	Name    string    `json:"name"`
	Status  string    `json:"status"`
	Error   string    `json:"error,omitempty"`
	Started time.Time `json:"started"`

	Attacks    []AttackSummary   `json:"attacks"`
	Thresholds []ThresholdResult `json:"thresholds"`

	// Requested is how many requests the paces asked for within their
	// durations, Sent how many were sent; the rates are per second of the
	// attacks' durations, summed over the shards.
	Requested     uint64  `json:"requested"`
	Sent          uint64  `json:"sent"`
	RequestedRate float64 `json:"requested_rate"`
	AchievedRate  float64 `json:"achieved_rate"`
	RateRatio     float64 `json:"rate_ratio"`

	// Vegeta is vegeta's own metrics over every result (as `vegeta report`
	// prints them), Corrected the latency from each request's scheduled
	// send time.
	Vegeta    *vegeta.Metrics `json:"vegeta"`
	Corrected Latency         `json:"corrected"`

	// Windows: the attack from 0 to AttackEnd, the drain to DrainEnd.
	AttackEnd float64 `json:"attack_end_seconds"`
	DrainEnd  float64 `json:"drain_end_seconds"`

	Timeline []Bucket `json:"timeline"`
	Server   *Server  `json:"server,omitempty"`
}

// AttackSummary is one attacker's part.
type AttackSummary struct {
	Shard         string  `json:"shard"`
	Pace          string  `json:"pace"`
	Began         float64 `json:"began_seconds"`
	Duration      float64 `json:"duration_seconds"`
	MaxRequests   uint64  `json:"max_requests"`
	Requested     uint64  `json:"requested"`
	Sent          uint64  `json:"sent"`
	RequestedRate float64 `json:"requested_rate"`
	AchievedRate  float64 `json:"achieved_rate"`
}

// Latency is a latency distribution, in seconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Bucket is one slice of the run's time line: requests sent in it (by
// send time), how many succeeded, and their latencies.
type Bucket struct {
	T       float64 `json:"t"` // start, seconds
	Sent    int     `json:"sent"`
	OK      int     `json:"ok"`
	P50     float64 `json:"p50"`
	P99     float64 `json:"p99"`
	CP99    float64 `json:"cp99"`
	Seconds float64 `json:"seconds"` // width
}

// Server is what was measured of the server: samples before, during and
// after the attack.
type Server struct {
	PID          int      `json:"pid"`
	MetricsURL   string   `json:"metrics_url,omitempty"`
	Baseline     Sample   `json:"baseline"`
	Final        Sample   `json:"final"`
	Samples      []Sample `json:"samples"`
	Drained      bool     `json:"drained"`
	DrainSeconds float64  `json:"drain_seconds"`
	Errors       []string `json:"errors,omitempty"`
}

// Sample is one reading of the server: the harness's snapshot (goroutines,
// fds, threads, RSS, heap; gauges, cpu_seconds among them) and, when the
// connection tables were read, its connections by state.
type Sample struct {
	T        float64          `json:"t"`
	Phase    string           `json:"phase"` // baseline, attack, drain, settle, final
	Snapshot harness.Snapshot `json:"snapshot"`
	Conns    map[string]int   `json:"conns,omitempty"`
}

// ConnCount is the total of the connections by state, or -1 when they were
// not read.
func (s Sample) ConnCount() int {
	if s.Conns == nil {
		return -1
	}
	n := 0
	for _, c := range s.Conns {
		n += c
	}
	return n
}

// CPU is the server's CPU seconds so far, NaN when not read.
func (s Sample) CPU() float64 {
	if v, ok := s.Snapshot.Gauges[GaugeCPU]; ok {
		return v
	}
	return nan
}

// Passed reports whether the run completed and every threshold held.
func (r *Report) Passed() bool { return r.Status == StatusPass }

// ExitCode is 0 passed, 1 a threshold failed, 3 an error: the leakgate
// command line's codes.
func (r *Report) ExitCode() int {
	switch r.Status {
	case StatusPass:
		return 0
	case StatusFail:
		return 1
	}
	return 3
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// MarshalJSON writes NaN numbers as null.
func (t ThresholdResult) MarshalJSON() ([]byte, error) {
	type plain struct {
		Expr   string   `json:"expr"`
		Name   string   `json:"name"`
		Kind   string   `json:"kind"`
		Actual *float64 `json:"actual"`
		Limit  float64  `json:"limit"`
		Passed bool     `json:"passed"`
	}
	p := plain{Expr: t.Expr, Name: t.Name, Kind: t.Kind, Limit: t.Limit, Passed: t.Passed}
	if !math.IsNaN(t.Actual) && !math.IsInf(t.Actual, 0) {
		p.Actual = &t.Actual
	}
	return json.Marshal(p)
}

// hit is what a report keeps of one result.
type hit struct {
	at   time.Duration // send time, from the earliest attack start
	lat  time.Duration // measured by the worker
	clat time.Duration // from the scheduled send time
	ok   bool
}

// attackData collects one attack's results.
type attackData struct {
	info      attackInfo
	leakgate  bool // the results carry leakgate's attack name
	sched     *schedule
	hits      []hit
	sent      uint64
	lastStart time.Time
}

func newAttackData(info attackInfo, leakgate bool) (*attackData, error) {
	a := &attackData{info: info, leakgate: leakgate}
	if leakgate {
		p, err := info.Pace.Pacer()
		if err != nil {
			return nil, err
		}
		a.sched = &schedule{pacer: p, dur: info.Duration, max: info.Max}
	}
	return a, nil
}

// add records one result; began is the attack's start.
func (a *attackData) add(r *vegeta.Result) {
	a.sent++
	h := hit{at: r.Timestamp.Sub(a.info.Began), lat: r.Latency, ok: r.Code >= 200 && r.Code < 400 && r.Error == ""}
	h.clat = h.lat
	if a.sched != nil {
		if due, ok := a.sched.sendAt(r.Seq); ok {
			if c := r.End().Sub(a.info.Began.Add(due)); c > h.clat {
				h.clat = c
			}
		}
	}
	if r.Timestamp.After(a.lastStart) {
		a.lastStart = r.Timestamp
	}
	a.hits = append(a.hits, h)
}

func (a *attackData) summary(origin time.Time) AttackSummary {
	s := AttackSummary{
		Shard: a.info.Shard.String(), Began: a.info.Began.Sub(origin).Seconds(),
		Duration: a.info.Duration.Seconds(), MaxRequests: a.info.Max, Sent: a.sent,
		Pace: "unknown (not a leakgate results file)", RequestedRate: nan,
	}
	dur := a.info.Duration.Seconds()
	if !a.leakgate {
		dur = a.lastStart.Sub(a.info.Began).Seconds()
	}
	if dur > 0 {
		s.AchievedRate = float64(a.sent) / dur
	}
	if a.leakgate {
		s.Pace = a.info.Pace.String()
		s.Requested = a.sched.requested()
		s.RequestedRate = float64(s.Requested) / dur
	}
	return s
}

// build makes the report of attacks (with the vegeta metrics m, already
// filled) and evaluates thresholds. A nil server means none was watched.
func build(name string, attacks []*attackData, m *vegeta.Metrics, srv *Server, attackEnd, drainEnd time.Time, checks []Threshold) *Report {
	origin := attacks[0].info.Began
	for _, a := range attacks {
		if a.info.Began.Before(origin) {
			origin = a.info.Began
		}
	}
	r := &Report{Schema: Schema, Name: name, Started: origin, Vegeta: m, Server: srv}
	var hits []hit
	known := true
	for _, a := range attacks {
		s := a.summary(origin)
		r.Attacks = append(r.Attacks, s)
		r.Sent += s.Sent
		r.Requested += s.Requested
		r.AchievedRate += s.AchievedRate
		r.RequestedRate += s.RequestedRate
		known = known && a.leakgate
		shift := a.info.Began.Sub(origin)
		for _, h := range a.hits {
			h.at += shift
			hits = append(hits, h)
		}
	}
	r.RateRatio = nan
	if known && r.Requested > 0 {
		r.RateRatio = float64(r.Sent) / float64(r.Requested)
	}
	if !known {
		r.RequestedRate = nan
	}
	r.Corrected = latencyOf(hits, func(h hit) time.Duration { return h.clat })
	if attackEnd.IsZero() {
		for _, h := range hits {
			attackEnd = laterOf(attackEnd, origin.Add(h.at+h.lat))
		}
	}
	r.AttackEnd = attackEnd.Sub(origin).Seconds()
	r.DrainEnd = r.AttackEnd
	if !drainEnd.IsZero() {
		r.DrainEnd = drainEnd.Sub(origin).Seconds()
	}
	end := r.DrainEnd
	if srv != nil && len(srv.Samples) > 0 {
		end = max(end, srv.Samples[len(srv.Samples)-1].T)
	}
	r.Timeline = timeline(hits, end)
	r.evaluate(checks)
	return r
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func latencyOf(hits []hit, f func(hit) time.Duration) Latency {
	if len(hits) == 0 {
		return Latency{nan, nan, nan, nan, nan, nan}
	}
	ls := make([]time.Duration, len(hits))
	var sum time.Duration
	for i, h := range hits {
		ls[i] = f(h)
		sum += ls[i]
	}
	slices.Sort(ls)
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ls)))) - 1
		return ls[min(max(i, 0), len(ls)-1)].Seconds()
	}
	return Latency{P50: q(0.5), P90: q(0.9), P95: q(0.95), P99: q(0.99), Max: ls[len(ls)-1].Seconds(),
		Mean: (sum / time.Duration(len(ls))).Seconds()}
}

// maxBuckets bounds the time line's length; buckets are at least half a
// second wide.
const maxBuckets = 600

func timeline(hits []hit, end float64) []Bucket {
	if end <= 0 {
		return nil
	}
	width := max(0.5, end/maxBuckets)
	n := int(math.Ceil(end/width)) + 1
	groups := make([][]hit, n)
	for _, h := range hits {
		i := min(max(int(h.at.Seconds()/width), 0), n-1)
		groups[i] = append(groups[i], h)
	}
	out := make([]Bucket, n)
	for i, g := range groups {
		b := Bucket{T: float64(i) * width, Seconds: width, Sent: len(g), P50: nan, P99: nan, CP99: nan}
		for _, h := range g {
			if h.ok {
				b.OK++
			}
		}
		if len(g) > 0 {
			l := latencyOf(g, func(h hit) time.Duration { return h.lat })
			c := latencyOf(g, func(h hit) time.Duration { return h.clat })
			b.P50, b.P99, b.CP99 = l.P50, l.P99, c.P99
		}
		out[i] = b
	}
	return out
}

// MarshalJSON writes NaN numbers as null.
func (b Bucket) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"t": b.T, "seconds": b.Seconds, "sent": b.Sent, "ok": b.OK,
		"p50": nullable(b.P50), "p99": nullable(b.P99), "cp99": nullable(b.CP99)})
}

// MarshalJSON writes NaN numbers as null.
func (l Latency) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"p50": nullable(l.P50), "p90": nullable(l.P90), "p95": nullable(l.P95),
		"p99": nullable(l.P99), "max": nullable(l.Max), "mean": nullable(l.Mean)})
}

func nullable(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// actual returns a quantity's value in this report, NaN when it was not
// measured.
func (r *Report) actual(name string) float64 {
	l := r.Vegeta.Latencies
	s := r.Server
	var base, fin Sample
	if s != nil {
		base, fin = s.Baseline, s.Final
	}
	grow := func(a, b float64) float64 {
		if s == nil || a < 0 || b < 0 {
			return nan
		}
		return b - a
	}
	switch name {
	case "rate":
		return r.RateRatio
	case "success":
		return r.Vegeta.Success
	case "p50":
		return l.P50.Seconds()
	case "p90":
		return l.P90.Seconds()
	case "p95":
		return l.P95.Seconds()
	case "p99":
		return l.P99.Seconds()
	case "max":
		return l.Max.Seconds()
	case "mean":
		return l.Mean.Seconds()
	case "cp50":
		return r.Corrected.P50
	case "cp90":
		return r.Corrected.P90
	case "cp95":
		return r.Corrected.P95
	case "cp99":
		return r.Corrected.P99
	case "cmax":
		return r.Corrected.Max
	case "goroutines":
		return grow(float64(base.Snapshot.Goroutines), float64(fin.Snapshot.Goroutines))
	case "fds":
		return grow(float64(base.Snapshot.FDs), float64(fin.Snapshot.FDs))
	case "conns":
		return grow(float64(base.ConnCount()), float64(fin.ConnCount()))
	case "threads":
		return grow(float64(base.Snapshot.Threads), float64(fin.Snapshot.Threads))
	case "rss":
		return grow(float64(base.Snapshot.RSS), float64(fin.Snapshot.RSS))
	case "heap_slope":
		return r.heapSlope()
	case "cpu_per_1k":
		if s == nil || r.Sent == 0 {
			return nan
		}
		return (fin.CPU() - base.CPU()) / float64(r.Sent) * 1000
	case "drain":
		if s == nil || !s.Drained {
			return math.Inf(1)
		}
		return s.DrainSeconds
	}
	return nan
}

// heapSlope is the least-squares slope of the server's heap over the
// samples of the attack and the drain, bytes per second.
func (r *Report) heapSlope() float64 {
	if r.Server == nil {
		return nan
	}
	var xs, ys []float64
	for _, s := range r.Server.Samples {
		if (s.Phase == phaseAttack || s.Phase == phaseDrain) && s.Snapshot.Heap > 0 {
			xs = append(xs, s.T)
			ys = append(ys, float64(s.Snapshot.Heap))
		}
	}
	if len(xs) < 2 {
		return nan
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(xs))
	var num, den float64
	for i := range xs {
		num += (xs[i] - mx) * (ys[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	if den == 0 {
		return 0
	}
	return num / den
}

func (r *Report) evaluate(checks []Threshold) {
	r.Thresholds = r.Thresholds[:0]
	if r.Status == "" {
		r.Status = StatusPass
	}
	for _, t := range checks {
		a := r.actual(t.name)
		res := ThresholdResult{Expr: t.Expr, Name: t.name, Kind: t.q.kind, Actual: a, Limit: t.limit, Passed: t.holds(a)}
		r.Thresholds = append(r.Thresholds, res)
		if !res.Passed && r.Status == StatusPass {
			r.Status = StatusFail
		}
	}
}

// ReadResults reads one attacker's results file (vegeta's binary, JSON or
// CSV encoding) for Merge.
func ReadResults(rd io.Reader) (*Results, error) {
	dec := vegeta.DecoderFor(rd)
	if dec == nil {
		return nil, errors.New("load: not a vegeta results file (binary, JSON or CSV)")
	}
	var out Results
	for {
		var res vegeta.Result
		err := dec.Decode(&res)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("load: results: %w", err)
		}
		res.Body = nil
		out.results = append(out.results, res)
	}
	if len(out.results) == 0 {
		return nil, errors.New("load: the results file is empty")
	}
	return &out, nil
}

// Results are one attacker's results, read by ReadResults.
type Results struct{ results []vegeta.Result }

// Merge makes one report of several attackers' results (each `leakgate
// load --shard I/N`): their requests and rates add up; thresholds (merged
// with the defaults, as ParseThresholds does) are judged on the whole.
// Results of leakgate's attacks carry their pace, so the rate check and
// the corrected latency work; plain vegeta results have neither. Two files
// of one shard, or shards of different splits, are an error.
func Merge(name string, thresholds []string, files ...*Results) (*Report, error) {
	if len(files) == 0 {
		return nil, errors.New("load: nothing to merge")
	}
	checks, err := ParseThresholds(thresholds, false)
	if err != nil {
		return nil, err
	}
	var attacks []*attackData
	m := &vegeta.Metrics{}
	seen := map[string]bool{}
	for _, f := range files {
		// One file may hold several attacks (vegeta's own merge).
		byName := map[string]*attackData{}
		var order []string
		for i := range f.results {
			res := &f.results[i]
			a, ok := byName[res.Attack]
			if !ok {
				info, err := parseAttackName(res.Attack)
				leakgate := err == nil
				if err != nil && !errors.Is(err, errNotLeakgate) {
					return nil, fmt.Errorf("load: %w", err)
				}
				if !leakgate {
					info = attackInfo{Began: res.Timestamp}
				}
				if a, err = newAttackData(info, leakgate); err != nil {
					return nil, err
				}
				byName[res.Attack] = a
				order = append(order, res.Attack)
			}
			if !a.leakgate && res.Timestamp.Before(a.info.Began) {
				a.info.Began = res.Timestamp
			}
			m.Add(res)
		}
		for _, n := range order {
			a := byName[n]
			if a.leakgate {
				key := a.info.Shard.String()
				if a.info.Shard.N > 1 && seen[key] {
					return nil, fmt.Errorf("load: shard %s appears twice", a.info.Shard)
				}
				seen[key] = true
			}
			attacks = append(attacks, a)
		}
		for i := range f.results {
			byName[f.results[i].Attack].add(&f.results[i])
		}
	}
	if err := checkShards(attacks); err != nil {
		return nil, err
	}
	plain := slices.ContainsFunc(attacks, func(a *attackData) bool { return !a.leakgate })
	if plain {
		explicit := map[string]bool{}
		for _, e := range thresholds {
			if t, err := ParseThreshold(e); err == nil {
				explicit[t.name] = true
			}
		}
		paced := func(t Threshold) bool { return t.name == "rate" || t.name[0] == 'c' }
		for _, t := range checks {
			if paced(t) && explicit[t.name] {
				return nil, &ThresholdError{Expr: t.Expr, Reason: "plain vegeta results carry no pace; only leakgate load's results files can be judged on it"}
			}
		}
		checks = slices.DeleteFunc(checks, paced)
	}
	m.Close()
	sort.SliceStable(attacks, func(i, j int) bool { return attacks[i].info.Shard.I < attacks[j].info.Shard.I })
	return build(name, attacks, m, nil, time.Time{}, time.Time{}, checks), nil
}

// checkShards refuses a split with shards missing or of different sizes.
func checkShards(attacks []*attackData) error {
	n := 0
	have := map[int]bool{}
	for _, a := range attacks {
		if !a.leakgate || a.info.Shard.N <= 1 {
			continue
		}
		if n != 0 && a.info.Shard.N != n {
			return fmt.Errorf("load: shards of different splits (%d and %d)", n, a.info.Shard.N)
		}
		n = a.info.Shard.N
		have[a.info.Shard.I] = true
	}
	for i := 1; i <= n; i++ {
		if !have[i] {
			return fmt.Errorf("load: shard %d/%d is missing", i, n)
		}
	}
	return nil
}
