package server

import (
	"context"
	"net/http"
	"net/http/pprof"
	"time"
)

// adminHandler serves /metrics, /debug/pprof/ and /healthz. The pprof
// handlers are registered on this mux explicitly; nothing is served from
// http.DefaultServeMux.
func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /healthz", s.healthz)
	return mux
}

// retain applies the retention rules at start and every
// RetentionInterval until ctx ends.
func (s *Server) retain(ctx context.Context) {
	t := time.NewTicker(s.cfg.RetentionInterval)
	defer t.Stop()
	for {
		s.prune(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// prune removes bundles and finished jobs beyond the retention rules.
func (s *Server) prune(ctx context.Context) {
	keepExports, exportAge := max(s.cfg.KeepExports, 0), max(s.cfg.ExportMaxAge, 0)
	if removed, err := s.bundles.Prune(keepExports, exportAge); err != nil {
		s.log.Warn("server: prune exports", "err", err)
	} else if len(removed) > 0 {
		s.log.Info("server: pruned exports", "count", len(removed))
	}
	keepJobs, jobAge := max(s.cfg.KeepJobs, 0), max(s.cfg.JobMaxAge, 0)
	if n, err := s.queue.Prune(ctx, keepJobs, jobAge); err != nil {
		if ctx.Err() == nil {
			s.log.Warn("server: prune jobs", "err", err)
		}
	} else if n > 0 {
		s.log.Info("server: pruned jobs", "count", n)
	}
}
