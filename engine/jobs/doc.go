// Package jobs is a persistent job queue over SQLite with a bounded worker
// pool.
//
// Jobs live in the table export_jobs of the database given to Open (driver
// modernc.org/sqlite, WAL mode and a busy timeout recommended). Open creates
// and migrates its tables idempotently, recording the schema version in
// jobs_schema_version, apart from any other migrations the database has.
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
// One Queue must own a database's jobs: two Queues over the same tables
// would each recover the other's running jobs.
package jobs
