-- Backbone's database, defined once. Every statement is idempotent, so applying the
-- file again is harmless; `backbone migrate` applies it inside one transaction and the
-- last statement records the version (Schema.requiredVersion in Swift must match).

CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS api_keys (
    id           text PRIMARY KEY,
    role         text NOT NULL CONSTRAINT api_keys_role_check CHECK (role IN ('coordinator', 'partner', 'viewer')),
    partner_id   text,
    name         text,
    secret_hash  bytea NOT NULL CONSTRAINT api_keys_secret_hash_key UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CONSTRAINT api_keys_partner_role_check CHECK ((role = 'partner') = (partner_id IS NOT NULL))
);

INSERT INTO schema_migrations (version) VALUES (1) ON CONFLICT DO NOTHING;
