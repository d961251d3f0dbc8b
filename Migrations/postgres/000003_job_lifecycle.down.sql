DROP INDEX usage_job_attempt;
DELETE FROM usage WHERE job_id IS NOT NULL AND attempt > 0 AND (job_id, attempt) NOT IN (
    SELECT job_id, max(attempt) FROM usage WHERE job_id IS NOT NULL GROUP BY job_id);
CREATE UNIQUE INDEX usage_job ON usage (job_id);
ALTER TABLE usage DROP COLUMN attempt;
DROP INDEX jobs_open;
ALTER TABLE jobs DROP COLUMN dispatched_at, DROP COLUMN not_before, DROP COLUMN lease_until, DROP COLUMN lease_owner,
    DROP COLUMN failures, DROP COLUMN attempts;
