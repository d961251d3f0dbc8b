DROP INDEX usage_job_attempt;
DELETE FROM usage WHERE job_id IS NOT NULL AND attempt > 0 AND attempt < (
    SELECT max(u.attempt) FROM usage AS u WHERE u.job_id = usage.job_id);
CREATE UNIQUE INDEX usage_job ON usage (job_id);
ALTER TABLE usage DROP COLUMN attempt;
DROP INDEX jobs_open;
ALTER TABLE jobs DROP COLUMN dispatched_at;
ALTER TABLE jobs DROP COLUMN not_before;
ALTER TABLE jobs DROP COLUMN lease_until;
ALTER TABLE jobs DROP COLUMN lease_owner;
ALTER TABLE jobs DROP COLUMN failures;
ALTER TABLE jobs DROP COLUMN attempts;
