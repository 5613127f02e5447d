package scenarios

import (
	"context"
	"sync"
	"testing"

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
			runLeaky(t, sc, clientProbes(), harness.MetricGoroutines)
		})
	}
}
