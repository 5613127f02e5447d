package scenarios

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/engine/monitor"
	"github.com/leakgate/leakgate/harness"
)

func TestComponentScenarios(t *testing.T) {
	for _, mode := range AllModes {
		for _, name := range []string{"engine/open-close", "crew/run", "monitor/start-stop"} {
			t.Run(name+"/"+string(mode), func(t *testing.T) {
				res := runRegistered(t, name, mode)
				if name == "crew/run" {
					m, ok := res.Metric("crew_memory_entries")
					require.True(t, ok)
					require.Equal(t, float64(crewMemoryEntries), m.Baseline, "the memory is full before the baseline")
					require.LessOrEqual(t, m.Max, float64(crewMemoryEntries))
				}
			})
		}
	}
}

// A monitor that is started and never stopped leaks its polling goroutine.
//
// The twin runs longer than shortRun. In Live mode every iteration's poll
// opens a loopback connection, whose three goroutines (the transport's read
// and write loops, the server's connection) end a moment after the
// iteration: every sample after an iteration counts them, while the final
// value, settled, does not. The tail is therefore one per iteration of the
// window minus those three, and shortRun's window of three iterations read
// 0 for this leak in most runs.
func TestComponentLeakyTwinSkipsMonitorStop(t *testing.T) {
	for _, mode := range AllModes {
		t.Run(string(mode), func(t *testing.T) {
			var mu sync.Mutex
			var running []*monitor.Monitor
			stopAll := func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				for _, mon := range running {
					mon.Stop()
				}
				running = nil
				return nil
			}
			env := &Env{Mode: mode, Dir: t.TempDir()}
			sc := marketScenario(env, "monitor/start-without-stop", nil, nil, stopAll,
				func(ctx context.Context, m *Market, _ int) error {
					return monitorOnce(context.WithoutCancel(ctx), m, func(mon *monitor.Monitor) {
						mu.Lock()
						running = append(running, mon) // no Stop
						mu.Unlock()
					})
				})
			res, err := harness.Run(t.Context(), sc, append(clientProbes(), monitorTwinRun...)...)
			require.NoError(t, err)
			var b bytes.Buffer
			require.NoError(t, res.WriteText(&b))
			require.Equal(t, harness.StatusLeak, res.Status, b.String())
			m, ok := res.Metric(harness.MetricGoroutines)
			require.True(t, ok)
			require.Equal(t, harness.VerdictFail, m.Verdict, "want a failure on goroutines:\n%s", b.String())
			t.Logf("leaky twin caught:\n%s", b.String())
		})
	}
}

// monitorTwinRun are the options of the leaky monitor twin's run: a tail
// window of ten iterations, well above the three goroutines that each
// iteration leaves for a moment in Live mode, and a short settle.
var monitorTwinRun = []harness.Option{
	harness.WithIterations(20), harness.WithWarmup(2), harness.WithSettleTimeout(100 * time.Millisecond),
}
