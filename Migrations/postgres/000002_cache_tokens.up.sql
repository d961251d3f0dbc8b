-- Cached prompt tokens (SPEC §7): the parts of tokens_in read from and written to a prompt cache, kept on
-- jobs, usage rows and the daily rollup (rows written before read as 0), and their prices (NULL: the input
-- price), USD per million tokens.

ALTER TABLE jobs ADD COLUMN cache_read_tokens BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage ADD COLUMN cache_read_tokens BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_daily ADD COLUMN cache_read_tokens BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE provider_pricing ADD COLUMN cache_read_price_per_million NUMERIC(30, 10),
    ADD COLUMN cache_write_price_per_million NUMERIC(30, 10);

-- Seeded cache prices (SPEC §7), USD per million tokens: read / write.
UPDATE provider_pricing AS p SET cache_read_price_per_million = s.read_price, cache_write_price_per_million = s.write_price
FROM (VALUES
    ('openai', 'gpt-4o-mini', 0.075, NULL::numeric),
    ('openai', 'gpt-4o', 1.25, NULL),
    ('claude', 'claude-3-haiku', 0.03, 0.30),
    ('claude', 'claude-3-5-haiku', 0.08, 1.00),
    ('claude', 'claude-3-5-sonnet', 0.30, 3.75),
    ('claude', 'claude-3-opus', 1.50, 18.75),
    ('claude', 'claude-sonnet-4', 0.30, 3.75)
) AS s (provider, model, read_price, write_price)
WHERE p.provider = s.provider AND p.model = s.model;
