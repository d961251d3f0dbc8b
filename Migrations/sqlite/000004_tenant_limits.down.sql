ALTER TABLE tenants DROP COLUMN monthly_budget_units;
ALTER TABLE tenants DROP COLUMN daily_budget_units;
ALTER TABLE tenants DROP COLUMN tokens_per_minute;
ALTER TABLE tenants DROP COLUMN requests_per_minute;
