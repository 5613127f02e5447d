package load

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Kinds of pace.
const (
	PaceConstant = "constant"
	PaceLinear   = "linear"
	PaceSine     = "sine"
)

// Pace is the requested rate of an attack: vegeta's constant, linear or
// sine pacer, in a form that can be split into shards and written into a
// results file (see Shard and the attack name).
type Pace struct {
	Kind string // PaceConstant, PaceLinear or PaceSine
	// Rate is the constant rate, the linear ramp's start, or the sine's mean.
	Rate vegeta.Rate
	// Slope is the linear ramp's change of rate, requests per second per
	// second.
	Slope float64
	// Amp and Period are the sine's amplitude and period; it starts at its
	// mean, rising.
	Amp    vegeta.Rate
	Period time.Duration
}

// Constant returns a constant pace of perSecond requests per second.
func Constant(perSecond int) Pace {
	return Pace{Kind: PaceConstant, Rate: vegeta.Rate{Freq: perSecond, Per: time.Second}}
}

// Pacer returns the vegeta pacer of p.
func (p Pace) Pacer() (vegeta.Pacer, error) {
	if p.Rate.Freq <= 0 || p.Rate.Per <= 0 {
		return nil, fmt.Errorf("load: rate %s: want a positive number of requests per a positive time", p.Rate)
	}
	switch p.Kind {
	case PaceConstant, "":
		return p.Rate, nil
	case PaceLinear:
		return vegeta.LinearPacer{StartAt: p.Rate, Slope: p.Slope}, nil
	case PaceSine:
		if p.Period <= 0 || p.Amp.Per <= 0 || p.Amp.Freq < 0 || perSecond(p.Amp) >= perSecond(p.Rate) {
			return nil, fmt.Errorf("load: sine pace: want a positive period and an amplitude below the mean rate")
		}
		return vegeta.SinePacer{Period: p.Period, Mean: p.Rate, Amp: p.Amp, StartAt: vegeta.MeanUp}, nil
	}
	return nil, fmt.Errorf("load: pace %q: want %s, %s or %s", p.Kind, PaceConstant, PaceLinear, PaceSine)
}

// Shard returns the pace of one of n attackers that share p: each sends
// 1/n of the rate (and of a ramp's slope and a sine's amplitude).
func (p Pace) Shard(n int) Pace {
	if n <= 1 {
		return p
	}
	p.Rate.Per *= time.Duration(n)
	p.Amp.Per *= time.Duration(n)
	p.Slope /= float64(n)
	return p
}

// String describes the pace: "constant 100/s", "linear 10/s +5/s²",
// "sine 100/s ±50/s over 1m0s".
func (p Pace) String() string {
	r := fmtRate(perSecond(p.Rate))
	switch p.Kind {
	case PaceLinear:
		return fmt.Sprintf("linear %s %+g/s²", r, p.Slope)
	case PaceSine:
		return fmt.Sprintf("sine %s ±%s over %s", r, fmtRate(perSecond(p.Amp)), p.Period)
	}
	return "constant " + r
}

func perSecond(r vegeta.Rate) float64 {
	if r.Per <= 0 {
		return 0
	}
	return float64(r.Freq) / r.Per.Seconds()
}

func fmtRate(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "/s" }

// ParseRate reads a rate: "100" or "100/s" (per second), "50/100ms",
// "3/1m".
func ParseRate(s string) (vegeta.Rate, error) {
	num, per, hasPer := strings.Cut(strings.TrimSpace(s), "/")
	freq, err := strconv.Atoi(num)
	if err != nil || freq <= 0 {
		return vegeta.Rate{}, fmt.Errorf("rate %q: want a positive whole number of requests, optionally /DURATION", s)
	}
	r := vegeta.Rate{Freq: freq, Per: time.Second}
	if hasPer {
		if per != "" && (per[0] < '0' || per[0] > '9') {
			per = "1" + per
		}
		d, err := time.ParseDuration(per)
		if err != nil || d <= 0 {
			return vegeta.Rate{}, fmt.Errorf("rate %q: %q is not a positive duration", s, per)
		}
		r.Per = d
	}
	return r, nil
}

// schedule is the send time of every hit of an attack, relative to its
// start, as vegeta's attack loop paces them when it keeps up: the pacer is
// asked for the wait before hit n at the time hit n-1 was due. It is
// computed lazily, up to the highest sequence number asked for.
type schedule struct {
	pacer vegeta.Pacer
	dur   time.Duration
	max   uint64
	at    []time.Duration
	done  bool // the pacer, the duration or max ended the attack
}

// requested counts the hits the attack was asked for: those scheduled
// before its duration ran out, at most max.
func (s *schedule) requested() uint64 {
	for !s.done {
		s.extend()
	}
	return uint64(len(s.at))
}

// sendAt returns when hit seq was due; ok is false past the schedule's end.
func (s *schedule) sendAt(seq uint64) (time.Duration, bool) {
	for uint64(len(s.at)) <= seq && !s.done {
		s.extend()
	}
	if seq < uint64(len(s.at)) {
		return s.at[seq], true
	}
	return 0, false
}

func (s *schedule) extend() {
	var t time.Duration
	if n := len(s.at); n > 0 {
		t = s.at[n-1]
	}
	hits := uint64(len(s.at))
	if hits >= s.max {
		s.done = true
		return
	}
	wait, stop := s.pacer.Pace(t, hits)
	// The attack asks for the hits due by the end of its duration. (vegeta's
	// loop may send one more: it stops when the clock, read a moment after
	// the previous hit, is past the duration.)
	if next := t + max(wait, 0); stop || (s.dur > 0 && next > s.dur) {
		s.done = true
	} else {
		s.at = append(s.at, next)
	}
}

// maxPacer stops a pacer after max hits.
type maxPacer struct {
	vegeta.Pacer
	max uint64
}

func (p maxPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.max {
		return 0, true
	}
	return p.Pacer.Pace(elapsed, hits)
}

// Shard is one attacker's part of a load shared by N: I of N, from 1.
type Shard struct{ I, N int }

// ParseShard reads "I/N".
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("shard %q: want I/N with 1 <= I <= N", s)
	}
	return Shard{I: i, N: n}, nil
}

func (s Shard) String() string {
	if s.N == 0 {
		return "1/1"
	}
	return strconv.Itoa(s.I) + "/" + strconv.Itoa(s.N)
}

// attackPrefix starts the name leakgate gives its attacks. vegeta stores an
// attack's name in every result of the results file (and sends it in the
// X-Vegeta-Attack header), so the name carries what merging needs: the
// pace, bounds, start and shard.
const attackPrefix = "leakgate-load/v1?"

// attackInfo is what an attack's name records.
type attackInfo struct {
	Pace     Pace
	Duration time.Duration
	Max      uint64
	Began    time.Time
	Shard    Shard
}

func (a attackInfo) name() string {
	v := url.Values{}
	v.Set("pace", a.Pace.Kind)
	v.Set("rate", strconv.Itoa(a.Pace.Rate.Freq)+"/"+a.Pace.Rate.Per.String())
	if a.Pace.Kind == PaceLinear {
		v.Set("slope", strconv.FormatFloat(a.Pace.Slope, 'g', -1, 64))
	}
	if a.Pace.Kind == PaceSine {
		v.Set("amp", strconv.Itoa(a.Pace.Amp.Freq)+"/"+a.Pace.Amp.Per.String())
		v.Set("period", a.Pace.Period.String())
	}
	v.Set("duration", a.Duration.String())
	v.Set("max", strconv.FormatUint(a.Max, 10))
	v.Set("began", strconv.FormatInt(a.Began.UnixNano(), 10))
	v.Set("shard", a.Shard.String())
	return attackPrefix + v.Encode()
}

var errNotLeakgate = errors.New("not a leakgate attack")

func parseAttackName(name string) (attackInfo, error) {
	q, ok := strings.CutPrefix(name, attackPrefix)
	if !ok {
		return attackInfo{}, errNotLeakgate
	}
	v, err := url.ParseQuery(q)
	if err != nil {
		return attackInfo{}, fmt.Errorf("attack name %q: %w", name, err)
	}
	var a attackInfo
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	a.Pace.Kind = v.Get("pace")
	var e error
	a.Pace.Rate, e = ParseRate(v.Get("rate"))
	check(e)
	if a.Pace.Kind == PaceLinear {
		a.Pace.Slope, e = strconv.ParseFloat(v.Get("slope"), 64)
		check(e)
	}
	if a.Pace.Kind == PaceSine {
		a.Pace.Amp, e = ParseRate(v.Get("amp"))
		check(e)
		a.Pace.Period, e = time.ParseDuration(v.Get("period"))
		check(e)
	}
	a.Duration, e = time.ParseDuration(v.Get("duration"))
	check(e)
	a.Max, e = strconv.ParseUint(v.Get("max"), 10, 64)
	check(e)
	ns, e := strconv.ParseInt(v.Get("began"), 10, 64)
	check(e)
	a.Began = time.Unix(0, ns)
	a.Shard, e = ParseShard(v.Get("shard"))
	check(e)
	if err := errors.Join(errs...); err != nil {
		return attackInfo{}, fmt.Errorf("attack name %q: %w", name, err)
	}
	return a, nil
}

// nan is a number not measured.
var nan = math.NaN()
