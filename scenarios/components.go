package scenarios

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"time"

	"github.com/leakgate/leakgate/engine"
	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/engine/crew"
	"github.com/leakgate/leakgate/engine/monitor"
	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/providers"
)

// componentScenarios lists the crew, monitor and engine scenarios.
func componentScenarios() []Scenario {
	return []Scenario{
		{
			Name: "engine/open-close",
			Description: "engine.New over the market (live data source at the sandbox URL, its own data directory), " +
				"then Close",
			Modes: []Mode{Mock, Live},
			Build: buildEngineOpenClose,
		},
		{
			Name: "crew/run",
			Description: fmt.Sprintf("fetch half a year of %s daily bars from the market and run the analytics crew over them "+
				"with its memory on (at most %d entries), as an export job does", crewSymbol, crewMemoryEntries),
			Modes: []Mode{Mock, Live},
			Build: buildCrewRun,
		},
		{
			Name: "monitor/start-stop",
			Description: fmt.Sprintf("open a finnhub client against the market, start a stock monitor of %s over it "+
				"polling every %s, wait for its first poll, Stop, Close", monitorSymbol, monitorInterval),
			Modes: []Mode{Mock, Live},
			Build: func(env *Env) (*Run, error) {
				return clientRun(env, "monitor/start-stop", func(ctx context.Context, m *Market, _ int) error {
					return monitorOnce(ctx, m, (*monitor.Monitor).Stop)
				}), nil
			},
		},
	}
}

// engineCloseTimeout bounds an engine's Close, which waits for its
// background goroutines.
const engineCloseTimeout = 10 * time.Second

// engineConfig loads the ffe configuration that points the engine at m:
// the live data source at the market's URL, and directories under dir so
// that neither the user's configuration file nor their database is read.
func engineConfig(m *Market, dir string) (*config.Config, error) {
	vars := maps.Clone(m.Env())
	vars["XDG_CONFIG_HOME"] = filepath.Join(dir, "config") // no config.yaml there: the defaults apply
	vars["XDG_DATA_HOME"] = filepath.Join(dir, "data")
	cfg, err := config.Load(config.LoadOptions{
		DataDir:   filepath.Join(dir, "engine"),
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
	})
	if err != nil {
		return nil, fmt.Errorf("load the engine configuration: %w", err)
	}
	return cfg, nil
}

func buildEngineOpenClose(env *Env) (*Run, error) {
	const name = "engine/open-close"
	var cfg *config.Config
	setup := func(_ context.Context, m *Market) error {
		var err error
		cfg, err = engineConfig(m, env.Dir)
		return err
	}
	iter := func(ctx context.Context, m *Market, _ int) (err error) {
		opts := append([]engine.Option{engine.WithLogger(engine.DiscardLogger())}, m.EngineOptions()...)
		e, err := engine.New(ctx, cfg.Clone(), opts...)
		if err != nil {
			return fmt.Errorf("engine.New: %w", err)
		}
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), engineCloseTimeout)
			defer cancel()
			if cerr := e.Close(cctx); cerr != nil && err == nil {
				err = fmt.Errorf("engine Close: %w", cerr)
			}
		}()
		if e.MarketData() == nil {
			return errors.New("engine.New: no market data provider")
		}
		return nil
	}
	return &Run{
		Scenario: marketScenario(env, name, nil, setup, nil, iter),
		Options:  clientProbes(),
	}, nil
}

// The crew/run scenario's input and memory bound.
const (
	crewSymbol        = "AAPL"
	crewFrom, crewTo  = "2017-07-01", "2017-12-31"
	crewMemoryEntries = 16
	crewMemoryAge     = 24 * time.Hour
)

func buildCrewRun(env *Env) (*Run, error) {
	const name = "crew/run"
	var (
		src providers.MarketData // held for the run, as the server holds its market data
		cr  *crew.Crew
		mem *crew.Memory
	)
	setup := func(ctx context.Context, m *Market) error {
		c, err := openSandbox(m, "yahoo")
		if err != nil {
			return fmt.Errorf("yahoo: %w", err)
		}
		if cr, err = crew.New(crew.WithMemory(crewMemoryEntries, crewMemoryAge)); err != nil {
			c.Close()
			return fmt.Errorf("crew: %w", err)
		}
		src, mem = c.MarketData, cr.Memory()
		// Fill the memory before the baseline: from then on it is at its
		// bound, and whatever grows per iteration is a leak.
		for mem.Len() < mem.Cap() {
			if err := crewOnce(ctx, src, cr); err != nil {
				return err
			}
		}
		return nil
	}
	teardown := func(context.Context) error {
		if src == nil {
			return nil
		}
		return src.Close()
	}
	iter := func(ctx context.Context, _ *Market, _ int) error { return crewOnce(ctx, src, cr) }
	memGauge := func(f func(*crew.Memory) int) func() float64 {
		return func() float64 {
			if mem == nil {
				return 0
			}
			return float64(f(mem))
		}
	}
	return &Run{
		Scenario: marketScenario(env, name, nil, setup, teardown, iter),
		Options: append(clientProbes(),
			harness.WithProbes(
				harness.Gauge("crew_memory_entries", memGauge((*crew.Memory).Len)),
				harness.Gauge("crew_memory_bytes", memGauge((*crew.Memory).Bytes)),
			),
			harness.WithThreshold("crew_memory_entries", fmt.Sprintf("max<=%d", crewMemoryEntries)),
			harness.WithThreshold("crew_memory_bytes", fmt.Sprintf("max<=%d", crewMemoryEntries*crew.MaxEntryBytes)),
			// A heap point after every iteration, although a collection
			// costs more than a run of the crew: the slope of 50 points
			// tells a retained crew output of ~10 KiB per run from noise,
			// which 3 points cannot.
			harness.WithGCBudget(math.Inf(1)),
		),
	}, nil
}

// crewOnce fetches the bars of crewSymbol from src and runs cr over them.
func crewOnce(ctx context.Context, src providers.MarketData, cr *crew.Crew) error {
	bs, err := src.Bars(ctx, providers.BarQuery{Symbol: crewSymbol, Interval: providers.Day, From: day(crewFrom), To: day(crewTo)})
	if err != nil {
		return fmt.Errorf("bars %s: %w", crewSymbol, err)
	}
	rep, err := cr.Run(ctx, crew.Input{Symbols: []string{crewSymbol}, Interval: providers.Day,
		Bars: map[string][]providers.Bar{crewSymbol: bs}})
	if err != nil {
		return fmt.Errorf("crew run: %w", err)
	}
	if len(rep.Sections) == 0 {
		return errors.New("crew run: a report without sections")
	}
	return nil
}

// The monitor/start-stop scenario's watchlist and timing.
const (
	monitorSymbol   = "AAPL"
	monitorInterval = 5 * time.Millisecond
	// monitorPollWait bounds the wait for the first poll.
	monitorPollWait = 5 * time.Second
)

// monitorOnce opens a finnhub client against m, starts a monitor over it,
// waits for its first poll, hands the monitor to stop, and closes the
// client. A poll that failed is an error.
func monitorOnce(ctx context.Context, m *Market, stop func(*monitor.Monitor)) (err error) {
	c, err := openSandbox(m, "finnhub")
	if err != nil {
		return fmt.Errorf("finnhub: %w", err)
	}
	defer func() {
		if cerr := c.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("finnhub: close: %w", cerr)
		}
	}()
	sink := monitor.AlertSinkFunc(func(context.Context, monitor.Alert) error { return nil })
	mon, err := monitor.New(c.MarketData, sink, monitor.Config{Symbols: []string{monitorSymbol}, Interval: monitorInterval,
		Timeout: 10 * time.Second}, monitor.WithLogger(discardLogger))
	if err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	if err := mon.Start(ctx); err != nil {
		return fmt.Errorf("monitor: start: %w", err)
	}
	werr := waitForPoll(ctx, mon)
	st := mon.Stats() // before Stop, which fails the poll it interrupts
	stop(mon)
	if werr != nil {
		return werr
	}
	if st.Errors > 0 {
		return fmt.Errorf("monitor: %d of %d polls failed", st.Errors, st.Polls)
	}
	return nil
}

// waitForPoll waits until mon has polled once, for at most
// monitorPollWait.
func waitForPoll(ctx context.Context, mon *monitor.Monitor) error {
	if mon.Stats().Polls > 0 {
		return nil
	}
	deadline := time.NewTimer(monitorPollWait)
	defer deadline.Stop()
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	for mon.Stats().Polls == 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("monitor: wait for the first poll: %w", ctx.Err())
		case <-deadline.C:
			return fmt.Errorf("monitor: no poll within %s of Start", monitorPollWait)
		case <-tick.C:
		}
	}
	return nil
}
