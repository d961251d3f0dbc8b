ALTER TABLE provider_pricing DROP COLUMN cache_write_units_per_million;
ALTER TABLE provider_pricing DROP COLUMN cache_read_units_per_million;
ALTER TABLE usage DROP COLUMN cache_write_tokens;
ALTER TABLE usage DROP COLUMN cache_read_tokens;
ALTER TABLE jobs DROP COLUMN cache_write_tokens;
ALTER TABLE jobs DROP COLUMN cache_read_tokens;
