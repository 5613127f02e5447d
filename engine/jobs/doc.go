// Package jobs is a persistent job queue with a bounded worker pool.
//
// # What it owns, what it may import
//
// The package owns the queue's logic: states, workers, timeouts,
// cancellation, recovery and its in-memory counts. It does not own a
// table: jobs are stored through a Table, a small interface defined here
// and implemented by the engine's store (store.JobTable, the table
// export_jobs, created by the store's numbered migrations). The package
// imports the standard library only; it imports neither database/sql nor
// the store, so the store depends on it and not the reverse.
//
// # States
//
// A job is queued, then running, then succeeded, failed or cancelled. Jobs
// are never silently lost: on Open, a job left running by a process that
// stopped is queued again (its attempt count kept) or, after MaxAttempts
// starts, failed with the reason. Stop lets running jobs finish up to its
// context's deadline, then interrupts the rest and queues them again
// without counting the attempt; queued jobs stay queued for the next Start.
//
// # Bounds
//
// At most Workers jobs run at once, each for at most Timeout; at most
// Capacity jobs wait, and Enqueue beyond that fails with a *FullError that
// matches ErrQueueFull and carries a retry-after hint. Progress of a running
// job is kept in memory and stored when the job ends.
//
// # Counts
//
// Stats reads the number of jobs in each state from memory: the queue
// counts every state change it stores, right after storing it, under a
// lock of their own that is never held across a call to the Table. Reading
// them (for /metrics) never waits on the database, even while the queue's
// writes wait on a busy one. The running jobs, whose live progress Get and
// List add, are kept under that lock too.
//
// One Queue must own a table's jobs: two Queues over the same table would
// each recover the other's running jobs, and their counts would disagree
// with the table.
package jobs
