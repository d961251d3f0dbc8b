-- Per-tenant limits (SPEC §16): requests and tokens per UTC minute, USD per UTC day and calendar month. NULL: no limit.
ALTER TABLE tenants ADD COLUMN requests_per_minute INTEGER CHECK (requests_per_minute >= 0),
    ADD COLUMN tokens_per_minute BIGINT CHECK (tokens_per_minute >= 0),
    ADD COLUMN daily_budget NUMERIC(30, 10) CHECK (daily_budget >= 0),
    ADD COLUMN monthly_budget NUMERIC(30, 10) CHECK (monthly_budget >= 0);
