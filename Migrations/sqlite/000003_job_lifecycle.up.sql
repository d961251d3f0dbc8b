-- The job lifecycle of SPEC §8 (see the PostgreSQL migration of the same number for each column's meaning).
-- Times are milliseconds since 1970 like every other time column here.

ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_until INTEGER;
ALTER TABLE jobs ADD COLUMN not_before INTEGER;
ALTER TABLE jobs ADD COLUMN dispatched_at INTEGER;
CREATE INDEX jobs_open ON jobs (status, created_at) WHERE status IN ('pending', 'processing');

ALTER TABLE usage ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
DROP INDEX usage_job;
CREATE UNIQUE INDEX usage_job_attempt ON usage (job_id, attempt);
