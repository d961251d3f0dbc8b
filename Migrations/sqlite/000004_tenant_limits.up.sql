-- Per-tenant limits (SPEC §16): requests and tokens per UTC minute, budgets per UTC day and calendar month in 1e-10 USD.
-- NULL: no limit.
ALTER TABLE tenants ADD COLUMN requests_per_minute INTEGER;
ALTER TABLE tenants ADD COLUMN tokens_per_minute INTEGER;
ALTER TABLE tenants ADD COLUMN daily_budget_units INTEGER;
ALTER TABLE tenants ADD COLUMN monthly_budget_units INTEGER;
