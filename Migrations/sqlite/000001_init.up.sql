-- Tenants, jobs, usage, prices and routes for the embedded (SQLite) store.
-- Timestamps are milliseconds since the Unix epoch; money is an integer count of 1e-10 USD.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    key_hash TEXT NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX tenants_updated_at ON tenants (updated_at);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    type TEXT NOT NULL CHECK (type IN ('text', 'image')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
    input TEXT NOT NULL,
    result TEXT,
    error TEXT,
    provider TEXT,
    model TEXT,
    tokens_in INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    cost_units INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
);
CREATE INDEX jobs_tenant_created ON jobs (tenant_id, created_at, id);
CREATE INDEX jobs_status ON jobs (status, created_at);

CREATE TABLE usage (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    job_id TEXT REFERENCES jobs (id),
    provider TEXT NOT NULL,
    model TEXT,
    tokens_in INTEGER NOT NULL,
    tokens_out INTEGER NOT NULL,
    cost_units INTEGER NOT NULL,
    unpriced INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX usage_tenant_created ON usage (tenant_id, created_at);
CREATE INDEX usage_created ON usage (created_at);
CREATE UNIQUE INDEX usage_job ON usage (job_id);

CREATE TABLE provider_pricing (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    input_units_per_million INTEGER NOT NULL,
    output_units_per_million INTEGER NOT NULL,
    image_price_units INTEGER,
    is_default INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    UNIQUE (provider, model)
);

CREATE TABLE model_routes (
    alias TEXT PRIMARY KEY,
    targets TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Seeded prices (SPEC §7), USD per million tokens × 1e10.
INSERT INTO provider_pricing (id, provider, model, input_units_per_million, output_units_per_million, image_price_units, is_default, updated_at) VALUES
    ('00000000-0000-4000-8000-000000000001', 'openai', 'gpt-4o-mini', 1500000000, 6000000000, NULL, 0, 0),
    ('00000000-0000-4000-8000-000000000002', 'openai', 'gpt-4o', 25000000000, 100000000000, NULL, 0, 0),
    ('00000000-0000-4000-8000-000000000003', 'openai', 'gpt-4-turbo', 100000000000, 300000000000, NULL, 0, 0),
    ('00000000-0000-4000-8000-000000000004', 'openai', 'gpt-3.5-turbo', 5000000000, 15000000000, NULL, 0, 0),
    ('00000000-0000-4000-8000-000000000005', 'openai', 'dall-e-3', 0, 0, 400000000, 0, 0),
    ('00000000-0000-4000-8000-000000000006', 'claude', 'claude-3-haiku', 2500000000, 12500000000, NULL, 0, 0),
    ('00000000-0000-4000-8000-000000000007', 'claude', 'claude-3-5-haiku', 8000000000, 40000000000, NULL, 0, 0),
    ('00000000-0000-4000-8000-000000000008', 'claude', 'claude-3-5-sonnet', 30000000000, 150000000000, NULL, 0, 0),
    ('00000000-0000-4000-8000-000000000009', 'claude', 'claude-3-opus', 150000000000, 750000000000, NULL, 0, 0),
    ('00000000-0000-4000-8000-00000000000a', 'claude', 'claude-sonnet-4', 30000000000, 150000000000, NULL, 0, 0),
    ('00000000-0000-4000-8000-00000000000b', 'ollama', '*', 0, 0, NULL, 1, 0),
    ('00000000-0000-4000-8000-00000000000c', 'stub', '*', 10000000000, 20000000000, NULL, 1, 0);
