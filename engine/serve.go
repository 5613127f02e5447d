package engine

import (
	"errors"
	"fmt"

	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/engine/crew"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/engine/service"
	"github.com/leakgate/leakgate/providers"
)

// serviceCloser names the service among the engine's closers.
const serviceCloser = "service"

// NewService builds what `ffe serve` runs besides HTTP (engine/service:
// the bundle store, job queue, crew, exporter, stock monitor and
// retention loop) from the server section of the configuration, over the
// engine's providers, store, clock and logger. In sandbox mode relative
// ranges end at the recorded data's date. With server.crew.writer: llm the
// crew writes with the engine's LLM client; without one configured that is
// a usage error. observe, if not nil, sees every job that ends (for
// metrics).
//
// The engine owns the service: Close closes it first, before the
// platform, the providers and the store. NewService fails with ErrClosed
// once Close has begun.
func (e *Engine) NewService(observe func(jobs.Job)) (*service.Service, error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	deps := service.Deps{MarketData: e.md, Posts: e.posts, DB: e.st, JobObserver: observe, Logger: e.log, Clock: e.now}
	if sb := e.Sandbox(); sb != nil {
		deps.MarketClock = sb.Date
	}
	if e.cfg.Server.Crew.Writer == config.WriterLLM {
		c, err := e.LLM()
		if err != nil {
			return nil, Usagef("server.crew.writer is %s: %w; or set server.crew.writer: %s", config.WriterLLM, err, config.WriterLocal)
		}
		deps.Writer, deps.WriterName = crew.NewLLMWriter(crew.FromLLM(c)), config.WriterLLM
	}
	svc, err := service.New(serviceConfig(e.cfg), deps)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	if err := e.register(serviceCloser, svc.Close); err != nil {
		return nil, errors.Join(err, svc.Close())
	}
	return svc, nil
}

// serviceConfig maps the server section, the watchlist, the data interval
// and the sentiment settings onto service.Config, field for field: zero
// means the default on both sides, and a negative retention bound is off
// on both.
func serviceConfig(cfg *config.Config) service.Config {
	s := cfg.Server
	interval, _ := providers.ParseInterval(cfg.Data.Interval) // validated with cfg
	return service.Config{
		ExportDir:         cfg.ServerExportDir(),
		Watchlist:         cfg.Watchlist,
		DefaultInterval:   interval,
		CrewByDefault:     s.Crew.ByDefault,
		Workers:           s.Workers,
		QueueCapacity:     s.QueueCapacity,
		JobTimeout:        s.JobTimeout,
		MaxAttempts:       s.MaxAttempts,
		Subreddits:        cfg.Sentiment.Subreddits,
		PostLimit:         cfg.Sentiment.Limit,
		CrewMemory:        s.Crew.Memory.Enabled,
		CrewMemoryEntries: s.Crew.Memory.Entries,
		CrewMemoryAge:     s.Crew.Memory.MaxAge,
		MonitorOff:        !s.Monitor.Enabled,
		MonitorInterval:   s.Monitor.Interval,
		MonitorThreshold:  s.Monitor.Threshold,
		KeepExports:       s.Retention.KeepExports,
		ExportMaxAge:      s.Retention.ExportMaxAge,
		KeepJobs:          s.Retention.KeepJobs,
		JobMaxAge:         s.Retention.JobMaxAge,
	}
}
