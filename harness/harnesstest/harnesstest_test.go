package harnesstest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/harness/harnesstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRecorderCatchesALeak(t *testing.T) {
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	rec := harnesstest.NewRecorder(t.Context())
	res := harness.Check(rec, harness.Scenario{Name: "leaky", Run: func(context.Context, int) error {
		go func() { <-stop }()
		return nil
	}}, harness.WithIterations(6), harness.WithWarmup(1), harness.WithSettleTimeout(0))
	harnesstest.RequireCaught(t, rec, res, []string{harness.MetricGoroutines}, []string{"leaky: LEAK", "created by"})
}

func TestRecorderOfACleanRun(t *testing.T) {
	rec := harnesstest.NewRecorder(t.Context())
	res := harness.Check(rec, harness.Scenario{Name: "clean", Run: func(context.Context, int) error { return nil }},
		harness.WithIterations(4), harness.WithWarmup(1), harness.WithSettleTimeout(0))
	require.NotNil(t, res)
	require.Empty(t, rec.Failures())
	require.Equal(t, t.Context(), rec.Context())
}
