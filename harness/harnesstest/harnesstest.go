// Package harnesstest helps tests prove that a leak check can fail: a
// Recorder takes the place of the *testing.T given to harness.Check and
// keeps the failures instead of failing the test, and RequireCaught asserts
// that a run failed on the metrics expected with a report that names the
// leak.
//
// It imports the harness and testify; nothing imports it but tests.
package harnesstest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// Recorder is a harness.TestingT that keeps the failures it is given. It is
// safe for concurrent use. Unlike a *testing.T it is never taken as a
// parallel test, so harness.Check does not turn attribution on by itself.
type Recorder struct {
	ctx  context.Context
	mu   sync.Mutex
	msgs []string
}

// NewRecorder returns a Recorder whose Context is ctx (a test's Context,
// so that the check stops with the test).
func NewRecorder(ctx context.Context) *Recorder { return &Recorder{ctx: ctx} }

// Helper does nothing.
func (r *Recorder) Helper() {}

// Context returns the context the Recorder was made with, or
// context.Background.
func (r *Recorder) Context() context.Context {
	if r.ctx == nil {
		return context.Background()
	}
	return r.ctx
}

// Errorf records a failure.
func (r *Recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

// Failures returns the failures recorded so far.
func (r *Recorder) Failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// RequireCaught asserts that a check recorded by r found a leak in res:
// exactly one failure, the run's status a leak, every metric of metrics
// failing, and the failure's report containing every text of want. It
// logs the report on t.
func RequireCaught(t testing.TB, r *Recorder, res *harness.Result, metrics, want []string) {
	t.Helper()
	require.NotNil(t, res, "the check did not run")
	msgs := r.Failures()
	require.Len(t, msgs, 1, "the check passed: the leak was not caught")
	t.Logf("the check failed, as it must:\n%s", msgs[0])
	require.Equal(t, harness.StatusLeak, res.Status)
	for _, m := range metrics {
		mr, ok := res.Metric(m)
		require.True(t, ok, "no metric %s", m)
		require.Equal(t, harness.VerdictFail, mr.Verdict, "metric %s", m)
	}
	for _, w := range want {
		require.Contains(t, msgs[0], w)
	}
}
