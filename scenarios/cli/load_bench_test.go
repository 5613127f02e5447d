package cli

import (
	"context"
	"testing"
	"time"

	"github.com/spf13/cobra"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/leakgate/leakgate/harness/load"
)

// Settings of BenchmarkHealthzRate: both generators get the same workers
// and connections, each rate step lasts benchStep.
const (
	benchStep        = 3 * time.Second
	benchWorkers     = 20
	benchMaxWorkers  = 200
	benchConnections = 200
	benchP99         = 25 * time.Millisecond
)

// BenchmarkHealthzRate finds the highest rate against ffe serve's /healthz
// that leakgate load sustains (requests sent ≥ 99% of those asked for, p99
// under 25 ms), and, in the same run against the same server, the highest
// that vegeta's own attacker sustains with the same workers and
// connections. Generator and server share the machine. It reports both.
//
//	go test -run '^$' -bench HealthzRate -benchtime 1x ./scenarios/cli
func BenchmarkHealthzRate(b *testing.B) {
	ctx := b.Context()
	srv, err := spawnFFE(ctx, &cobra.Command{}, "ffe serve")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.stop()
	url := srv.base + "/healthz"
	target := vegeta.Target{Method: "GET", URL: url}
	ok := func(sent uint64, rate int, p99 time.Duration) bool {
		return float64(sent) >= 0.99*float64(rate)*benchStep.Seconds() && p99 < benchP99
	}
	for b.Loop() {
		bestLG, bestVeg := 0, 0
		for rate := 2000; rate <= 20000; rate += 2000 {
			rep, err := load.Run(ctx, load.Config{
				Targeter: vegeta.NewStaticTargeter(target), Pace: load.Constant(rate),
				Duration: benchStep, MaxRequests: uint64(rate) * uint64(benchStep/time.Second) * 2,
				Workers: benchWorkers, MaxWorkers: benchMaxWorkers, Connections: benchConnections,
			})
			if err != nil {
				b.Fatal(err)
			}
			lgOK := ok(rep.Sent, rate, rep.Vegeta.Latencies.P99)
			vm := vegetaAttack(ctx, target, rate)
			vegOK := ok(vm.Requests, rate, vm.Latencies.P99)
			b.Logf("%5d/s: leakgate sent %.1f%% p99 %v; vegeta sent %.1f%% p99 %v", rate,
				100*float64(rep.Sent)/(float64(rate)*benchStep.Seconds()), rep.Vegeta.Latencies.P99.Round(10*time.Microsecond),
				100*float64(vm.Requests)/(float64(rate)*benchStep.Seconds()), vm.Latencies.P99.Round(10*time.Microsecond))
			if lgOK {
				bestLG = rate
			}
			if vegOK {
				bestVeg = rate
			}
			if !lgOK && !vegOK {
				break
			}
		}
		b.ReportMetric(float64(bestLG), "leakgate-req/s")
		b.ReportMetric(float64(bestVeg), "vegeta-req/s")
	}
}

// vegetaAttack runs vegeta's attacker as the vegeta command does, with the
// benchmark's workers and connections, and returns its metrics.
func vegetaAttack(ctx context.Context, target vegeta.Target, rate int) vegeta.Metrics {
	atk := vegeta.NewAttacker(vegeta.Workers(benchWorkers), vegeta.MaxWorkers(benchMaxWorkers),
		vegeta.Connections(benchConnections), vegeta.Timeout(10*time.Second))
	defer atk.Stop()
	var m vegeta.Metrics
	for res := range atk.Attack(vegeta.NewStaticTargeter(target), vegeta.Rate{Freq: rate, Per: time.Second}, benchStep, "healthz") {
		m.Add(res)
		if ctx.Err() != nil {
			atk.Stop()
		}
	}
	m.Close()
	return m
}
