-- Cached prompt tokens (SPEC §7): the parts of tokens_in read from and written to a prompt cache, kept on
-- jobs and usage rows (rows written before read as 0), and their prices (NULL: the input price), in 1e-10 USD
-- per million tokens.

ALTER TABLE jobs ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE provider_pricing ADD COLUMN cache_read_units_per_million INTEGER;
ALTER TABLE provider_pricing ADD COLUMN cache_write_units_per_million INTEGER;

-- Seeded cache prices (SPEC §7), USD per million tokens × 1e10: read / write.
UPDATE provider_pricing SET cache_read_units_per_million = 750000000 WHERE provider = 'openai' AND model = 'gpt-4o-mini';
UPDATE provider_pricing SET cache_read_units_per_million = 12500000000 WHERE provider = 'openai' AND model = 'gpt-4o';
UPDATE provider_pricing SET cache_read_units_per_million = 300000000, cache_write_units_per_million = 3000000000
    WHERE provider = 'claude' AND model = 'claude-3-haiku';
UPDATE provider_pricing SET cache_read_units_per_million = 800000000, cache_write_units_per_million = 10000000000
    WHERE provider = 'claude' AND model = 'claude-3-5-haiku';
UPDATE provider_pricing SET cache_read_units_per_million = 3000000000, cache_write_units_per_million = 37500000000
    WHERE provider = 'claude' AND model = 'claude-3-5-sonnet';
UPDATE provider_pricing SET cache_read_units_per_million = 15000000000, cache_write_units_per_million = 187500000000
    WHERE provider = 'claude' AND model = 'claude-3-opus';
UPDATE provider_pricing SET cache_read_units_per_million = 3000000000, cache_write_units_per_million = 37500000000
    WHERE provider = 'claude' AND model = 'claude-sonnet-4';
