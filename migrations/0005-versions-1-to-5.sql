-- Versions 1 to 5: the tables of the schema.sql of the release with schema version 5. It
-- brings a database at any earlier version (1 to 4) to version 5: every statement is
-- idempotent, and it records versions 1 to 5 itself. Databases at version 5 skip it. Its
-- functions and triggers are today's, from functions.sql, which `migrate` applies after
-- the table changes; the functions of versions 1 to 4 that today's do not replace are
-- dropped here. (That release's whole schema.sql is kept for the upgrade tests as
-- Tests/fixtures/schema-version-5.sql.)

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

-- The common agenda registry (coordinator writes, every key reads).

CREATE TABLE IF NOT EXISTS agendas (
    id          text PRIMARY KEY CONSTRAINT agendas_id_slug CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name        text NOT NULL,
    vision      text,
    starts_on   date,
    ends_on     date,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agendas_dates_check CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on)
);

CREATE TABLE IF NOT EXISTS indicators (
    code             text PRIMARY KEY CONSTRAINT indicators_code_slug CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    agenda_id        text NOT NULL CONSTRAINT indicators_agenda_fkey REFERENCES agendas (id),
    name             text NOT NULL,
    definition       text,
    unit             text,
    value_type       text NOT NULL CONSTRAINT indicators_value_type_check
                     CHECK (value_type IN ('count', 'amount', 'percent', 'rate', 'score')),
    aggregation      text NOT NULL CONSTRAINT indicators_aggregation_check
                     CHECK (aggregation IN ('sum', 'mean', 'ratio', 'last', 'min', 'max')),
    period_type      text NOT NULL CONSTRAINT indicators_period_type_check
                     CHECK (period_type IN ('week', 'month', 'quarter', 'year')),
    direction        text NOT NULL DEFAULT 'increase' CONSTRAINT indicators_direction_check
                     CHECK (direction IN ('increase', 'decrease')),
    baseline_period  text,
    baseline_value   double precision,
    target_period    text,
    target_value     double precision,
    min_value        double precision,
    max_value        double precision,
    dimensions       jsonb NOT NULL DEFAULT '[]',
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT indicators_range_check CHECK (min_value IS NULL OR max_value IS NULL OR min_value <= max_value),
    CONSTRAINT indicators_baseline_check CHECK ((baseline_period IS NULL) = (baseline_value IS NULL)),
    CONSTRAINT indicators_target_check CHECK ((target_period IS NULL) = (target_value IS NULL))
);
CREATE INDEX IF NOT EXISTS indicators_agenda_idx ON indicators (agenda_id, code);

CREATE TABLE IF NOT EXISTS partners (
    id             text PRIMARY KEY CONSTRAINT partners_id_slug CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name           text NOT NULL,
    kind           text NOT NULL CONSTRAINT partners_kind_check CHECK (kind IN
                   ('library', 'school', 'nonprofit', 'business', 'government', 'faith',
                    'neighborhood_association', 'funder', 'other')),
    level          text NOT NULL DEFAULT 'networking' CONSTRAINT partners_level_check CHECK (level IN
                   ('networking', 'cooperating', 'informing', 'collaborating', 'coalition', 'embedded',
                    'collective_impact')),
    contact_email  text,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
-- A small number per partner: rollups list the partners behind a cell by number.
ALTER TABLE partners ADD COLUMN IF NOT EXISTS number integer GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX IF NOT EXISTS partners_number_key ON partners (number);

CREATE TABLE IF NOT EXISTS neighborhoods (
    code         text PRIMARY KEY CONSTRAINT neighborhoods_code_slug CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name         text NOT NULL,
    parent_code  text CONSTRAINT neighborhoods_parent_fkey REFERENCES neighborhoods (code),
    population   integer CONSTRAINT neighborhoods_population_check CHECK (population >= 0),
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT neighborhoods_not_own_parent CHECK (parent_code <> code)
);
CREATE INDEX IF NOT EXISTS neighborhoods_parent_idx ON neighborhoods (parent_code);

-- Which partner reports which indicator (for which neighborhood; NULL = any).
CREATE TABLE IF NOT EXISTS commitments (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id         text NOT NULL CONSTRAINT commitments_partner_fkey REFERENCES partners (id),
    indicator_code     text NOT NULL CONSTRAINT commitments_indicator_fkey REFERENCES indicators (code),
    neighborhood_code  text CONSTRAINT commitments_neighborhood_fkey REFERENCES neighborhoods (code),
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS commitments_unique
    ON commitments (partner_id, indicator_code, coalesce(neighborhood_code, ''));

DO $$ BEGIN
    ALTER TABLE api_keys ADD CONSTRAINT api_keys_partner_fkey FOREIGN KEY (partner_id) REFERENCES partners (id);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- Measurements: one row per natural key; every change is kept in measurement_history.

CREATE TABLE IF NOT EXISTS measurements (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- References to partners, indicators and neighborhoods: see measurement_references below.
    partner_id         text NOT NULL,
    indicator_code     text NOT NULL,
    neighborhood_code  text NOT NULL,
    period             text NOT NULL,
    period_start       date NOT NULL,
    -- Dimension values in canonical form (name=value pairs sorted by name, joined by '|'), '' for none.
    dimension_key      text NOT NULL DEFAULT '',
    dimensions         jsonb NOT NULL DEFAULT '{}',
    value              double precision,
    numerator          double precision,
    denominator        double precision CONSTRAINT measurements_denominator_check CHECK (denominator > 0),
    note               text,
    batch_id           uuid NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    updated_by         text NOT NULL,
    CONSTRAINT measurements_natural_key
        UNIQUE (indicator_code, partner_id, neighborhood_code, period, dimension_key),
    CONSTRAINT measurements_value_shape CHECK (
        (value IS NOT NULL AND numerator IS NULL AND denominator IS NULL)
        OR (value IS NULL AND numerator IS NOT NULL AND denominator IS NOT NULL))
);
-- Who created a measurement, and in which batch: its 'created' history entry is read from
-- these (stored in measurement_history only once the measurement is retracted), which
-- spares every new row a second insert. NULL for rows created before version 5, whose
-- 'created' entries are stored.
ALTER TABLE measurements ADD COLUMN IF NOT EXISTS created_by text;
ALTER TABLE measurements ADD COLUMN IF NOT EXISTS created_batch_id uuid;
CREATE INDEX IF NOT EXISTS measurements_partner_idx ON measurements (partner_id, id);
-- Serves period-range reads and the rollup refresh of one (indicator, period, neighborhood, dimensions) cell.
DROP INDEX IF EXISTS measurements_indicator_period_idx;
CREATE INDEX IF NOT EXISTS measurements_cell_idx
    ON measurements (indicator_code, period_start, neighborhood_code, dimension_key);

CREATE TABLE IF NOT EXISTS measurement_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    measurement_id  bigint NOT NULL,
    partner_id      text NOT NULL,
    action          text NOT NULL CONSTRAINT measurement_history_action_check
                    CHECK (action IN ('created', 'updated', 'retracted')),
    key_id          text NOT NULL,
    batch_id        uuid,
    at              timestamptz NOT NULL DEFAULT now(),
    old_value       jsonb,
    new_value       jsonb
);
CREATE INDEX IF NOT EXISTS measurement_history_measurement_idx ON measurement_history (measurement_id, id);

-- A closed period: partners' writes into it are refused; the coordinator may still correct.
CREATE TABLE IF NOT EXISTS period_locks (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agenda_id       text CONSTRAINT period_locks_agenda_fkey REFERENCES agendas (id),
    indicator_code  text CONSTRAINT period_locks_indicator_fkey REFERENCES indicators (code),
    period          text NOT NULL,
    period_start    date NOT NULL,
    period_end      date NOT NULL,
    reason          text,
    locked_by       text NOT NULL,
    locked_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT period_locks_scope_check CHECK ((agenda_id IS NULL) <> (indicator_code IS NULL))
);

-- Responses to requests sent with an Idempotency-Key, replayed on retries.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    api_key_id     text NOT NULL,
    key            text NOT NULL,
    request_hash   bytea NOT NULL,
    status         integer NOT NULL,
    response_body  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (api_key_id, key)
);

-- Measurement references. Foreign keys would check and lock the partner, indicator and
-- neighborhood of every inserted row, one query and one row lock each: about a fifth of
-- a bulk upload's time. Instead the insert trigger (functions.sql) checks every statement's rows
-- with one set-based query under a shared advisory lock; removing or renaming a
-- referenced registry row takes that lock exclusively, so it waits for uploads in
-- flight and then sees their rows; and a measurement's own references never change.
-- (Lock key 0x6261636B72656673, "backrefs"; outside the int4 range hashtext() keys use.)
ALTER TABLE measurements DROP CONSTRAINT IF EXISTS measurements_partner_fkey;
ALTER TABLE measurements DROP CONSTRAINT IF EXISTS measurements_indicator_fkey;
ALTER TABLE measurements DROP CONSTRAINT IF EXISTS measurements_neighborhood_fkey;

-- Before version 5, a trigger of its own kept a measurement's references fixed.
DROP TRIGGER IF EXISTS measurements_references_fixed ON measurements;
DROP FUNCTION IF EXISTS refuse_measurement_reference_change();

-- Rollups: per indicator, period, neighborhood and dimension values, the aggregates
-- reports combine, kept current by triggers in the transaction that changes a
-- measurement. A report over two years reads these instead of every measurement.
-- Before version 5 rollups listed partner ids; they are derived, so they are rebuilt.
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
                   AND table_name = 'measurement_rollups' AND column_name = 'partner_list')
       AND to_regclass('measurement_rollups') IS NOT NULL THEN
        DROP TABLE measurement_rollups;
    END IF;
END $$;
CREATE TABLE IF NOT EXISTS measurement_rollups (
    indicator_code     text NOT NULL,
    period_start       date NOT NULL,
    period             text NOT NULL,
    neighborhood_code  text NOT NULL,
    dimension_key      text NOT NULL,
    dimensions         jsonb NOT NULL,
    measurements       integer NOT NULL,
    -- The partners behind the cell: their partners.number, comma-separated, each once, in
    -- no order ('12,3,57'). Text rather than integer[]: a report reads thousands of cells
    -- of up to hundreds of partners, and PostgreSQL spends 50 ns writing out each array
    -- element but copies text whole (the 3,888 cells of a 24-month report on 10M rows:
    -- 12 ms as integer[], 3.5 ms as text).
    partner_list       text NOT NULL,
    sum_value          double precision NOT NULL,
    sum_numerator      double precision NOT NULL,
    sum_denominator    double precision NOT NULL,
    min_value          double precision NOT NULL,
    max_value          double precision NOT NULL,
    PRIMARY KEY (indicator_code, period_start, neighborhood_code, dimension_key)
);
-- Room on each page lets most cell updates stay on their page without a new index entry.
ALTER TABLE measurement_rollups SET (fillfactor = 70);

-- Before version 5, rollups were refreshed by a function of their own.
DROP FUNCTION IF EXISTS refresh_measurement_rollups() CASCADE;

INSERT INTO schema_migrations (version) VALUES (1) ON CONFLICT DO NOTHING;
INSERT INTO schema_migrations (version) VALUES (2) ON CONFLICT DO NOTHING;

INSERT INTO schema_migrations (version) VALUES (3) ON CONFLICT DO NOTHING;
INSERT INTO schema_migrations (version) VALUES (4) ON CONFLICT DO NOTHING;
INSERT INTO schema_migrations (version) VALUES (5) ON CONFLICT DO NOTHING;

-- @backfill: runs after the table changes of every pending migration and functions.sql.
-- Databases that had measurements before rollups existed get them once.
INSERT INTO measurement_rollups
SELECT * FROM rollup_cells(ARRAY(SELECT m FROM measurements m))
WHERE NOT EXISTS (SELECT FROM measurement_rollups);
