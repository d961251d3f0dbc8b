ALTER TABLE provider_pricing DROP COLUMN cache_write_price_per_million, DROP COLUMN cache_read_price_per_million;
ALTER TABLE usage_daily DROP COLUMN cache_write_tokens, DROP COLUMN cache_read_tokens;
ALTER TABLE usage DROP COLUMN cache_write_tokens, DROP COLUMN cache_read_tokens;
ALTER TABLE jobs DROP COLUMN cache_write_tokens, DROP COLUMN cache_read_tokens;
