package jobs

import (
	"context"
	"time"
)

// Table stores a Queue's jobs. The engine's store implements it
// (store.JobTable, from (*store.Store).Jobs) over its table export_jobs;
// this package holds no SQL of its own.
//
// A Queue calls the methods that change jobs one at a time; readers (Get,
// List, Counts) may run alongside them. Every method must return when ctx
// ends.
type Table interface {
	// Recover makes the jobs left running by a stopped process queued
	// again, or failed when they have had maxAttempts starts, with a note
	// (queued) or an error (failed) saying so.
	Recover(ctx context.Context, maxAttempts int, now time.Time) (Recovery, error)
	// Counts returns how many jobs are in each state.
	Counts(ctx context.Context) (map[State]int, error)
	// Insert stores job, which is queued.
	Insert(ctx context.Context, job Job) error
	// Claim marks the oldest queued job running since now, counting the
	// attempt, and returns it; ok is false when no job is queued.
	Claim(ctx context.Context, now time.Time) (job Job, ok bool, err error)
	// Finish stores the outcome of a running job: its State, Result,
	// Error, Progress and Finished.
	Finish(ctx context.Context, job Job) error
	// Requeue makes running job id queued again without counting the
	// attempt, and sets its note.
	Requeue(ctx context.Context, id, note string, now time.Time) error
	// CancelQueued cancels job id with reason if it is queued, and reports
	// whether it was.
	CancelQueued(ctx context.Context, id, reason string, now time.Time) (bool, error)
	// Get returns job id, or an error matching ErrNotFound.
	Get(ctx context.Context, id string) (Job, error)
	// List returns up to f.Limit jobs in state f.State (any state when
	// empty), newest first.
	List(ctx context.Context, f Filter) ([]Job, error)
	// Prune deletes the finished jobs beyond the newest keep (no such
	// bound when keep is not positive) and the finished jobs finished
	// before cutoff (none when it is zero), and returns how many it
	// deleted in each state.
	Prune(ctx context.Context, keep int, cutoff time.Time) (map[State]int, error)
}
