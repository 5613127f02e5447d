package harness

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// TestingT is the part of testing.TB that Check uses.
type TestingT interface {
	Helper()
	Errorf(format string, args ...any)
}

// Check runs the scenario with Run and fails t, with the text report, when
// the run does not pass: a leak, a scenario or measurement error, or
// cancellation. When t has a Context method (testing.TB does), the run uses
// that context. It returns the Result, nil only when the options are
// invalid.
//
// Like goleak, Check measures the whole process: tests that run in
// parallel with it (t.Parallel) add their goroutines and descriptors to its
// counts.
func Check(t TestingT, sc Scenario, opts ...Option) *Result {
	t.Helper()
	ctx := context.Background()
	if c, ok := t.(interface{ Context() context.Context }); ok {
		ctx = c.Context()
	}
	res, err := Run(ctx, sc, opts...)
	if res == nil {
		t.Errorf("%v", err)
		return nil
	}
	if !res.Passed() {
		var b strings.Builder
		res.WriteText(&b)
		t.Errorf("%s", strings.TrimRight(b.String(), "\n"))
	}
	return res
}

// Measure takes one snapshot of the target: every count before a forced
// garbage collection, then the heap and counters after it (for this
// process). Iteration, threshold and settle options are ignored.
func Measure(ctx context.Context, opts ...Option) (Snapshot, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return Snapshot{}, err
	}
	s, err := newSampler(ctx, o)
	if err != nil {
		return Snapshot{}, err
	}
	defer s.close()
	v := make([]float64, len(s.defs))
	taken := time.Now()
	if err := s.sample(ctx, gcForce, true, v); err != nil {
		return Snapshot{}, fmt.Errorf("harness: measure: %w", err)
	}
	return snapshotOf(s.defs, taken, v), nil
}
