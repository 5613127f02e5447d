package harness

import (
	"context"
	"testing"
	"time"
)

func TestOverheadBreakdown(t *testing.T) {
	sc := Scenario{Name: "10ms", Run: func(context.Context, int) error { time.Sleep(10 * time.Millisecond); return nil }}
	for range 3 {
		res, _ := Run(context.Background(), sc)
		t.Logf("wall %.3f scen %.3f harness %.3f gc %.3f (%d) settle %.4f p50 %.4f", res.Seconds, res.Timing.ScenarioSeconds, res.Timing.HarnessSeconds, res.Timing.GCSeconds, res.Timing.ForcedGCs, res.Timing.SettleSeconds, res.Timing.P50Seconds)
	}
}
