-- usageSummary over a range (the dashboard's Usage page, finance's monthly query) reads every usage row of the
-- range. Through usage_created each row costs a lookup in the table; this index holds every column the summary
-- groups or sums, so the range is read from the index alone (100,000 rows: about 500 ms → 170 ms per grouping).
-- PostgreSQL reads whole days from its usage_daily rollup instead.
CREATE INDEX usage_summary ON usage (created_at, provider, model, tenant_id, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost_units);
