package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
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
// In a test that runs in parallel with others (t.Parallel was called on t
// or on a test it is a subtest of), Check attributes goroutines to the run
// (WithAttribution): the goroutine metrics and findings count only the
// goroutines that the scenario's Setup, iterations and Teardown started,
// directly or not, so that parallel tests do not blame each other.
// Descriptors, connections, threads, children, RSS, the heap and "unclosed"
// are process-wide and cannot be attributed: in such a test they are
// reported with a note saying so ("process-wide: not attributable to this
// run"), their verdict is "none" and their default thresholds do not apply;
// thresholds set with WithThreshold do, knowing that other tests add to
// them. WithAttribution(false) measures the whole process, as goleak does,
// and WithAttribution(true) attributes in any test. The parallel test is
// recognised for *testing.T and *testing.B; a TestingT of one's own is
// taken as not parallel.
func Check(t TestingT, sc Scenario, opts ...Option) *Result {
	t.Helper()
	ctx := context.Background()
	if c, ok := t.(interface{ Context() context.Context }); ok {
		ctx = c.Context()
	}
	if inParallel(t) {
		opts = append([]Option{attributeIfParallel}, opts...)
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
// process). Iteration, threshold and settle options are ignored. Errors are
// as for Sampler.Sample. To sample repeatedly, use a Sampler.
func Measure(ctx context.Context, opts ...Option) (Snapshot, error) {
	s, err := NewSampler(ctx, opts...)
	if err != nil {
		return Snapshot{}, err
	}
	defer s.Close()
	return s.Sample(ctx)
}

// Sampler takes snapshots of one target on demand, for callers that drive
// their own timing (a load run sampling a server, say). It keeps /proc files
// and the metrics connection open between samples. Sample is not safe for
// concurrent use; Close is idempotent and safe to call concurrently. Call
// Close when done.
type Sampler struct {
	s    *sampler
	v    []float64
	once sync.Once
}

// NewSampler prepares to sample the target of the options (WithTarget,
// WithProbes, WithoutProbes; the others are ignored).
func NewSampler(ctx context.Context, opts ...Option) (*Sampler, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	s, err := newSampler(ctx, o)
	if err != nil {
		return nil, err
	}
	return &Sampler{s: s, v: make([]float64, len(s.defs))}, nil
}

// Sample takes one snapshot: every count before a forced garbage
// collection, then the heap and counters after it (for this process). In a
// binary built with GOEXPERIMENT=goroutineleakprofile it also collects the
// goroutine leak profile for goroutines_leaked, a second full collection.
//
// When some metrics could not be read (a probe failed, the metrics URL did
// not answer), Sample returns the snapshot with the others, those at -1
// (absent from Gauges), and an error that names them. When the target has
// exited, the error matches ErrTargetExited and the snapshot is empty.
func (s *Sampler) Sample(ctx context.Context) (Snapshot, error) {
	taken := time.Now()
	if err := s.s.sample(ctx, gcForce, true, s.v); err != nil {
		return Snapshot{}, fmt.Errorf("harness: sample: %w", err)
	}
	snap := snapshotOf(s.s.defs, taken, s.v)
	if err := errors.Join(s.s.errs...); err != nil {
		return snap, fmt.Errorf("harness: sample: %w", err)
	}
	return snap, nil
}

// Close releases the files and the connection the Sampler keeps open. It is
// idempotent and safe to call concurrently.
func (s *Sampler) Close() error {
	s.once.Do(s.s.close)
	return nil
}
