-- Tenants, jobs, usage, prices and routes for the scaled (PostgreSQL) store.
-- Money is NUMERIC(30,10): exact, ten fractional digits (USD). Prices are USD per million tokens.

CREATE TABLE tenants (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    key_hash TEXT NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX tenants_updated_at ON tenants (updated_at);

CREATE TABLE jobs (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    type TEXT NOT NULL CHECK (type IN ('text', 'image')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
    input TEXT NOT NULL,
    result TEXT,
    error TEXT,
    provider TEXT,
    model TEXT,
    tokens_in BIGINT NOT NULL DEFAULT 0,
    tokens_out BIGINT NOT NULL DEFAULT 0,
    cost NUMERIC(30, 10) NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
);
-- Job pages: newest first per tenant (and for the admin, over everyone), keyset on (created_at, id).
CREATE INDEX jobs_tenant_created ON jobs (tenant_id, created_at, id);
CREATE INDEX jobs_created ON jobs (created_at, id);
CREATE INDEX jobs_status ON jobs (status, created_at);

CREATE TABLE usage (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    job_id UUID REFERENCES jobs (id),
    provider TEXT NOT NULL,
    model TEXT,
    tokens_in BIGINT NOT NULL,
    tokens_out BIGINT NOT NULL,
    cost NUMERIC(30, 10) NOT NULL,
    unpriced BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX usage_tenant_created ON usage (tenant_id, created_at);
CREATE INDEX usage_created ON usage (created_at);
CREATE UNIQUE INDEX usage_job ON usage (job_id);

-- Daily rollup of usage (UTC days), maintained in the same transaction as the raw rows, so cost per
-- tenant, provider, model and day never scans raw usage. A NULL model is stored as ''.
CREATE TABLE usage_daily (
    tenant_id UUID NOT NULL REFERENCES tenants (id),
    day DATE NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    requests BIGINT NOT NULL,
    tokens_in BIGINT NOT NULL,
    tokens_out BIGINT NOT NULL,
    cost NUMERIC(30, 10) NOT NULL,
    PRIMARY KEY (tenant_id, day, provider, model)
);
CREATE INDEX usage_daily_day ON usage_daily (day);

CREATE TABLE provider_pricing (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    input_price_per_million NUMERIC(30, 10) NOT NULL,
    output_price_per_million NUMERIC(30, 10) NOT NULL,
    image_price NUMERIC(30, 10),
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (provider, model)
);
-- At most one default row per provider.
CREATE UNIQUE INDEX provider_pricing_default ON provider_pricing (provider) WHERE is_default;

CREATE TABLE model_routes (
    alias TEXT PRIMARY KEY,
    targets TEXT[] NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Seeded prices (SPEC §7), USD per million tokens (dall-e-3: USD per image).
INSERT INTO provider_pricing (id, provider, model, input_price_per_million, output_price_per_million, image_price, is_default, updated_at) VALUES
    ('00000000-0000-4000-8000-000000000001', 'openai', 'gpt-4o-mini', 0.15, 0.60, NULL, FALSE, 'epoch'),
    ('00000000-0000-4000-8000-000000000002', 'openai', 'gpt-4o', 2.50, 10.00, NULL, FALSE, 'epoch'),
    ('00000000-0000-4000-8000-000000000003', 'openai', 'gpt-4-turbo', 10, 30, NULL, FALSE, 'epoch'),
    ('00000000-0000-4000-8000-000000000004', 'openai', 'gpt-3.5-turbo', 0.50, 1.50, NULL, FALSE, 'epoch'),
    ('00000000-0000-4000-8000-000000000005', 'openai', 'dall-e-3', 0, 0, 0.04, FALSE, 'epoch'),
    ('00000000-0000-4000-8000-000000000006', 'claude', 'claude-3-haiku', 0.25, 1.25, NULL, FALSE, 'epoch'),
    ('00000000-0000-4000-8000-000000000007', 'claude', 'claude-3-5-haiku', 0.80, 4.00, NULL, FALSE, 'epoch'),
    ('00000000-0000-4000-8000-000000000008', 'claude', 'claude-3-5-sonnet', 3, 15, NULL, FALSE, 'epoch'),
    ('00000000-0000-4000-8000-000000000009', 'claude', 'claude-3-opus', 15, 75, NULL, FALSE, 'epoch'),
    ('00000000-0000-4000-8000-00000000000a', 'claude', 'claude-sonnet-4', 3, 15, NULL, FALSE, 'epoch'),
    ('00000000-0000-4000-8000-00000000000b', 'ollama', '*', 0, 0, NULL, TRUE, 'epoch'),
    ('00000000-0000-4000-8000-00000000000c', 'stub', '*', 1.00, 2.00, NULL, TRUE, 'epoch');
