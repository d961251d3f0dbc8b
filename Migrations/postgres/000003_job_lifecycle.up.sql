-- The job lifecycle of SPEC §8. The row is the truth; a queue only says which row to look at.
--   attempts      +1 each time a worker takes the job: the fencing token of that worker's writes.
--   failures      attempts that ended in a transient failure or a lost worker; at JOB_MAX_ATTEMPTS the job fails.
--                 A job handed back at shutdown does not count.
--   lease_owner   the worker holding a processing job; lease_until is on the database's clock, renewed while it runs.
--   not_before    a pending job waiting for its retry is not taken before this (NULL: at once).
--   dispatched_at when a queue was last told about the pending job (the sweep re-dispatches what a queue lost).
-- Usage rows of a job are kept per attempt: an attempt that was cut (cancelled, taken over) is metered for what it
-- generated, once; the attempt that completes the job is metered with it, once.

ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN failures INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN lease_owner TEXT,
    ADD COLUMN lease_until TIMESTAMPTZ,
    ADD COLUMN not_before TIMESTAMPTZ,
    ADD COLUMN dispatched_at TIMESTAMPTZ;
CREATE INDEX jobs_open ON jobs (status, created_at) WHERE status IN ('pending', 'processing');

ALTER TABLE usage ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
DROP INDEX usage_job;
CREATE UNIQUE INDEX usage_job_attempt ON usage (job_id, attempt);
