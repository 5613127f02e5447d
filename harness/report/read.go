package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leakgate/leakgate/harness"
)

// Read reads a report document (schema leakgate.report/v1), or a single
// harness.Result document (schema leakgate.result/v1), which becomes a
// report of one case with an empty mode and the result's status. Malformed
// JSON, a missing or unknown schema, or a case without a scenario is an
// error.
func Read(r io.Reader) (*Report, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("report: read: %w", err)
	}
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("report: read: malformed JSON: %w", jsonError(data, err))
	}
	switch head.Schema {
	case Schema:
		var rep Report
		if err := strictUnmarshal(data, &rep); err != nil {
			return nil, fmt.Errorf("report: read %s: %w", Schema, err)
		}
		for i, c := range rep.Cases {
			if c.Scenario == "" {
				return nil, fmt.Errorf("report: read %s: case %d has no scenario", Schema, i)
			}
		}
		return &rep, nil
	case harness.Schema:
		var res harness.Result
		if err := strictUnmarshal(data, &res); err != nil {
			return nil, fmt.Errorf("report: read %s: %w", harness.Schema, err)
		}
		return FromResult(&res), nil
	case "":
		return nil, fmt.Errorf("report: read: no \"schema\" field (want %q or %q)", Schema, harness.Schema)
	}
	return nil, fmt.Errorf("report: read: unknown schema %q (want %q or %q)", head.Schema, Schema, harness.Schema)
}

// strictUnmarshal decodes data into v; unknown fields are allowed (a schema
// version may add fields) but trailing data is not.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return jsonError(data, err)
	}
	if dec.More() {
		return errors.New("trailing data after the document")
	}
	return nil
}

// jsonError adds the line and column to a syntax or type error.
func jsonError(data []byte, err error) error {
	var off int64
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	default:
		return err
	}
	off = min(off, int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// FromResult returns a report of one case holding res: its scenario, an
// empty mode, its status, and its error as the reason.
func FromResult(res *harness.Result) *Report {
	return &Report{
		Schema:          Schema,
		Started:         res.Started,
		DurationSeconds: res.DurationSeconds,
		Cases: []Case{{
			Scenario:        res.Scenario,
			Status:          Status(res.Status),
			Reason:          res.Error,
			DurationSeconds: res.DurationSeconds,
			Result:          res,
		}},
	}
}

// Merge merges the reports of shards (CI matrix jobs, say) into one: the
// cases of all, sorted by scenario and mode; Started the earliest; Duration
// the wall span from the earliest start to the latest end; Shards the union,
// sorted. The suite is the inputs' suite, or their distinct names joined
// with "+" when they differ. The same scenario and mode in two inputs is an
// error naming the case. The inputs are not modified; nil inputs are
// ignored, and no input at all is an error.
func Merge(reports ...*Report) (*Report, error) {
	out := &Report{Schema: Schema, Cases: []Case{}}
	seen := map[string]int{} // case ID -> input index
	var suites []string
	var end time.Time
	var longest float64
	n := 0
	for i, r := range reports {
		if r == nil {
			continue
		}
		n++
		if r.Schema != "" && r.Schema != Schema {
			return nil, fmt.Errorf("report: merge: input %d has schema %q, want %q", i+1, r.Schema, Schema)
		}
		if r.Suite != "" && !slices.Contains(suites, r.Suite) {
			suites = append(suites, r.Suite)
		}
		for _, c := range r.Cases {
			if j, dup := seen[c.ID()]; dup {
				return nil, fmt.Errorf("report: merge: case %q is in inputs %d and %d", c.ID(), j+1, i+1)
			}
			seen[c.ID()] = i
			out.Cases = append(out.Cases, c)
		}
		for _, s := range r.Shards {
			if !slices.Contains(out.Shards, s) {
				out.Shards = append(out.Shards, s)
			}
		}
		longest = max(longest, r.DurationSeconds)
		if r.Started.IsZero() {
			continue
		}
		if out.Started.IsZero() || r.Started.Before(out.Started) {
			out.Started = r.Started
		}
		if e := r.Started.Add(seconds(r.DurationSeconds)); e.After(end) {
			end = e
		}
	}
	if n == 0 {
		return nil, errors.New("report: merge: no reports")
	}
	slices.Sort(suites)
	out.Suite = strings.Join(suites, "+")
	out.DurationSeconds = longest
	if !out.Started.IsZero() {
		out.DurationSeconds = max(longest, end.Sub(out.Started).Seconds())
	}
	slices.SortFunc(out.Shards, compareShards)
	out.Sort()
	return out, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// compareShards orders "i/n" shard names numerically by n then i, and
// anything else after them, as strings.
func compareShards(a, b string) int {
	ai, an, aok := parseShard(a)
	bi, bn, bok := parseShard(b)
	switch {
	case aok && bok:
		if an != bn {
			return an - bn
		}
		return ai - bi
	case aok:
		return -1
	case bok:
		return 1
	}
	return strings.Compare(a, b)
}

func parseShard(s string) (i, n int, ok bool) {
	is, ns, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, false
	}
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	return i, n, err1 == nil && err2 == nil
}
