ALTER TABLE tenants DROP COLUMN monthly_budget, DROP COLUMN daily_budget, DROP COLUMN tokens_per_minute, DROP COLUMN requests_per_minute;
