package service

import (
	"context"
	"time"
)

// retain applies the retention rules at start and every
// RetentionInterval until ctx ends.
func (s *Service) retain(ctx context.Context) {
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

// prune removes bundles and finished jobs beyond the retention rules; a
// negative bound is off (0 to the stores).
func (s *Service) prune(ctx context.Context) {
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
