-- The job queue of `ffe serve` (engine/jobs). Times are Unix nanoseconds.
--
-- Databases of earlier versions may hold export_jobs already, created by
-- engine/jobs itself: the table is rebuilt from whatever is there, so that
-- every database ends with this definition and keeps its jobs.
CREATE TABLE IF NOT EXISTS export_jobs (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    params      TEXT    NOT NULL DEFAULT 'null',
    result      TEXT    NOT NULL DEFAULT '',
    error       TEXT    NOT NULL DEFAULT '',
    note        TEXT    NOT NULL DEFAULT '',
    progress    TEXT    NOT NULL DEFAULT '',
    attempt     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    started_at  INTEGER NOT NULL DEFAULT 0,
    finished_at INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL
);
CREATE TABLE export_jobs_new (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    params      TEXT    NOT NULL DEFAULT 'null', -- JSON
    result      TEXT    NOT NULL DEFAULT '',     -- JSON, '' until it succeeds
    error       TEXT    NOT NULL DEFAULT '',
    note        TEXT    NOT NULL DEFAULT '',
    progress    TEXT    NOT NULL DEFAULT '',     -- JSON, stored when the job ends
    attempt     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    started_at  INTEGER NOT NULL DEFAULT 0,      -- 0: not started
    finished_at INTEGER NOT NULL DEFAULT 0,      -- 0: not finished
    updated_at  INTEGER NOT NULL
) STRICT;
INSERT INTO export_jobs_new (seq, id, kind, state, params, result, error, note, progress, attempt,
                             created_at, started_at, finished_at, updated_at)
    SELECT seq, id, kind, state, params, result, error, note, progress, attempt,
           created_at, started_at, finished_at, updated_at
    FROM export_jobs ORDER BY seq;
DROP TABLE export_jobs;
ALTER TABLE export_jobs_new RENAME TO export_jobs;
CREATE INDEX export_jobs_state ON export_jobs (state, seq);
