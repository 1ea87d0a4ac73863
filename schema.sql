-- Backbone's database as it is today, defined once. `backbone migrate` applies this file
-- to an empty database, in one transaction, and records the latest version
-- (Schema.requiredVersion); a database at an earlier version is upgraded instead by the
-- files in migrations/, in order. A change here comes with a migration that makes the
-- same change to an existing database (a test compares the two).

CREATE TABLE schema_migrations (
    version     integer PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- The common agenda registry (coordinator writes, every key reads).

CREATE TABLE agendas (
    id          text PRIMARY KEY CONSTRAINT agendas_id_slug CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name        text NOT NULL,
    vision      text,
    starts_on   date,
    ends_on     date,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- Days after a period ends until it is released automatically; NULL: the deployment's
    -- RELEASE_AFTER_DAYS.
    release_after_days integer CONSTRAINT agendas_release_after_days_check CHECK (release_after_days BETWEEN 0 AND 3650),
    CONSTRAINT agendas_dates_check CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on)
);

CREATE TABLE indicators (
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
CREATE INDEX indicators_agenda_idx ON indicators (agenda_id, code);

CREATE TABLE partners (
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
    updated_at     timestamptz NOT NULL DEFAULT now(),
    -- A small number per partner: rollups list the partners behind a cell by number.
    number         integer GENERATED ALWAYS AS IDENTITY
);
CREATE UNIQUE INDEX partners_number_key ON partners (number);

CREATE TABLE neighborhoods (
    code         text PRIMARY KEY CONSTRAINT neighborhoods_code_slug CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name         text NOT NULL,
    parent_code  text CONSTRAINT neighborhoods_parent_fkey REFERENCES neighborhoods (code),
    population   integer CONSTRAINT neighborhoods_population_check CHECK (population >= 0),
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT neighborhoods_not_own_parent CHECK (parent_code <> code)
);
CREATE INDEX neighborhoods_parent_idx ON neighborhoods (parent_code);

-- Which partner reports which indicator (for which neighborhood; NULL = any).
CREATE TABLE commitments (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id         text NOT NULL CONSTRAINT commitments_partner_fkey REFERENCES partners (id),
    indicator_code     text NOT NULL CONSTRAINT commitments_indicator_fkey REFERENCES indicators (code),
    neighborhood_code  text CONSTRAINT commitments_neighborhood_fkey REFERENCES neighborhoods (code),
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX commitments_unique
    ON commitments (partner_id, indicator_code, coalesce(neighborhood_code, ''));

-- API keys: only a hash of the secret is stored; a partner key is bound to its partner.
CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    role         text NOT NULL CONSTRAINT api_keys_role_check CHECK (role IN ('coordinator', 'partner', 'viewer')),
    partner_id   text CONSTRAINT api_keys_partner_fkey REFERENCES partners (id),
    name         text,
    secret_hash  bytea NOT NULL CONSTRAINT api_keys_secret_hash_key UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CONSTRAINT api_keys_partner_role_check CHECK ((role = 'partner') = (partner_id IS NOT NULL))
);

-- Measurements: one row per natural key; every change is kept in measurement_history.

CREATE TABLE measurements (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- References to partners, indicators and neighborhoods: see measurement references below.
    partner_id         text NOT NULL,
    indicator_code     text NOT NULL,
    neighborhood_code  text NOT NULL,
    period             text NOT NULL,
    period_start       date NOT NULL,
    -- The dimension values as compact JSON ('{"age_group":"25-44","sex":"f"}'), '' for
    -- none: equal values give equal keys. The exact spelling (members in order of their
    -- written text, '/' written '\/') is defined by DimensionValues.key in
    -- Sources/BackboneCore/Domain/Dimension.swift and pinned by its tests.
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
    -- Who created the measurement, and in which batch: its 'created' history entry is read
    -- from these, which spares every new row a second insert (it is stored in
    -- measurement_history only once the measurement is retracted). NULL for measurements
    -- whose 'created' entry is stored (those written by releases before version 5).
    created_by         text,
    created_batch_id   uuid,
    CONSTRAINT measurements_natural_key
        UNIQUE (indicator_code, partner_id, neighborhood_code, period, dimension_key),
    CONSTRAINT measurements_value_shape CHECK (
        (value IS NOT NULL AND numerator IS NULL AND denominator IS NULL)
        OR (value IS NULL AND numerator IS NOT NULL AND denominator IS NOT NULL))
);
CREATE INDEX measurements_partner_idx ON measurements (partner_id, id);
-- Serves period-range reads and the rollup refresh of one (indicator, period, neighborhood, dimensions) cell.
CREATE INDEX measurements_cell_idx ON measurements (indicator_code, period_start, neighborhood_code, dimension_key);

CREATE TABLE measurement_history (
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
CREATE INDEX measurement_history_measurement_idx ON measurement_history (measurement_id, id);

-- A closed period: partners' writes into it are refused; the coordinator may still correct.
CREATE TABLE period_locks (
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
CREATE TABLE idempotency_keys (
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
-- a bulk upload's time. Instead the insert trigger below checks every statement's rows
-- with one set-based query under a shared advisory lock; removing or renaming a
-- referenced registry row takes that lock exclusively, so it waits for uploads in
-- flight and then sees their rows; and a measurement's own references never change.
-- (Lock key 0x6261636B72656673, "backrefs"; outside the int4 range hashtext() keys use.)

-- A measurement's references never change, nor its period and dimension values (the
-- rollup triggers recompute the cells and series a changed row was in, not where it went;
-- a correction rewrites values only), nor its creation record (its 'created' history
-- entry is read from it).
CREATE FUNCTION refuse_measurement_identity_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.partner_id, NEW.indicator_code, NEW.neighborhood_code) IS DISTINCT FROM
       (OLD.partner_id, OLD.indicator_code, OLD.neighborhood_code) THEN
        RAISE EXCEPTION 'a measurement''s partner, indicator and neighborhood cannot change'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'measurement_references';
    END IF;
    IF (NEW.period, NEW.period_start, NEW.dimension_key, NEW.dimensions) IS DISTINCT FROM
       (OLD.period, OLD.period_start, OLD.dimension_key, OLD.dimensions) THEN
        RAISE EXCEPTION 'a measurement''s period and dimension values cannot change'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'measurement_cell';
    END IF;
    IF (NEW.created_at, NEW.created_by, NEW.created_batch_id) IS DISTINCT FROM
       (OLD.created_at, OLD.created_by, OLD.created_batch_id) THEN
        RAISE EXCEPTION 'a measurement''s creation record cannot change'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'measurement_created';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER measurements_identity_fixed
    BEFORE UPDATE OF partner_id, indicator_code, neighborhood_code, period, period_start, dimension_key, dimensions,
                     created_at, created_by, created_batch_id
    ON measurements FOR EACH ROW EXECUTE FUNCTION refuse_measurement_identity_change();

-- A partner, indicator or neighborhood that has measurements cannot be deleted or re-keyed.
-- TG_ARGV: the key column of the registry table and the measurements column naming it.
CREATE FUNCTION refuse_removing_referenced_registry_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_key text := to_jsonb(OLD) ->> TG_ARGV[0];
    referenced boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND old_key = to_jsonb(NEW) ->> TG_ARGV[0] THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(x'6261636B72656673'::bigint);
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM measurements WHERE %I = $1)', TG_ARGV[1]) INTO referenced USING old_key;
    IF referenced THEN
        RAISE EXCEPTION '% % has measurements', TG_TABLE_NAME, old_key
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'measurement_references';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER partners_referenced BEFORE DELETE OR UPDATE OF id ON partners
    FOR EACH ROW EXECUTE FUNCTION refuse_removing_referenced_registry_row('id', 'partner_id');
CREATE TRIGGER indicators_referenced BEFORE DELETE OR UPDATE OF code ON indicators
    FOR EACH ROW EXECUTE FUNCTION refuse_removing_referenced_registry_row('code', 'indicator_code');
CREATE TRIGGER neighborhoods_referenced BEFORE DELETE OR UPDATE OF code ON neighborhoods
    FOR EACH ROW EXECUTE FUNCTION refuse_removing_referenced_registry_row('code', 'neighborhood_code');

-- Rollups: per indicator, period, neighborhood and dimension values, the aggregates
-- reports combine, kept current by triggers in the transaction that changes a
-- measurement. A report over two years reads these instead of every measurement.
CREATE TABLE measurement_rollups (
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
    -- sum, min and max of the underlying values: each measurement's value, or its
    -- numerator / denominator (x 100 for percent); the terms of ratios are summed too.
    sum_value          double precision NOT NULL,
    sum_numerator      double precision NOT NULL,
    sum_denominator    double precision NOT NULL,
    min_value          double precision NOT NULL,
    max_value          double precision NOT NULL,
    PRIMARY KEY (indicator_code, period_start, neighborhood_code, dimension_key)
)
-- Room on each page lets most cell updates stay on their page without a new index entry.
WITH (fillfactor = 70);

-- The rollup aggregate, the one place it is written: the cells of the given measurements.
-- The insert trigger adds the cells of the inserted rows to the stored ones; the update
-- and delete trigger replaces the cells it touched by the cells of what remains in them.
-- (SQL, stable, not strict: the planner inlines it into the statement that calls it.)
CREATE FUNCTION rollup_cells(rows measurements[]) RETURNS SETOF measurement_rollups LANGUAGE sql STABLE AS $$
    SELECT m.indicator_code, m.period_start, min(m.period), m.neighborhood_code, m.dimension_key,
           (array_agg(m.dimensions))[1], count(*)::integer, string_agg(DISTINCT p.number::text, ','),
           sum(u.value), sum(coalesce(m.numerator, 0)), sum(coalesce(m.denominator, 0)), min(u.value), max(u.value)
    FROM unnest(rows) m JOIN indicators i ON i.code = m.indicator_code JOIN partners p ON p.id = m.partner_id
    CROSS JOIN LATERAL (SELECT coalesce(m.value, m.numerator / m.denominator
                               * CASE WHEN i.value_type = 'percent' THEN 100 ELSE 1 END) AS value) u
    GROUP BY m.indicator_code, m.period_start, m.neighborhood_code, m.dimension_key
$$;

-- Each series' latest measurement, for stocks (indicators whose aggregation is `last`): one
-- row per indicator, partner, neighborhood and dimension values, kept current by the rollup
-- triggers. A stock over a range that reaches its latest data stands on the series whose
-- latest period starts in the range: these rows, a few per partner and neighborhood,
-- instead of every measurement of the range. (An indicator's aggregation cannot change
-- once it has measurements, so the table holds every series of every stock, and no other.)
CREATE TABLE series_latest (
    indicator_code     text NOT NULL,
    partner_id         text NOT NULL,
    neighborhood_code  text NOT NULL,
    dimension_key      text NOT NULL,
    period_start       date NOT NULL,
    period             text NOT NULL,
    dimensions         jsonb NOT NULL,
    value              double precision,
    numerator          double precision,
    denominator        double precision,
    PRIMARY KEY (indicator_code, partner_id, neighborhood_code, dimension_key)
);
CREATE INDEX series_latest_period_idx ON series_latest (indicator_code, period_start);

-- The latest of each stock series among the given measurements, the one place it is
-- chosen: the insert trigger keeps a series' row unless an inserted measurement is later,
-- the update and delete trigger replaces the rows of the series it touched by the latest
-- of what remains of them.
CREATE FUNCTION latest_of_series(rows measurements[]) RETURNS SETOF series_latest LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (m.indicator_code, m.partner_id, m.neighborhood_code, m.dimension_key)
           m.indicator_code, m.partner_id, m.neighborhood_code, m.dimension_key, m.period_start, m.period, m.dimensions,
           m.value, m.numerator, m.denominator
    FROM unnest(rows) m JOIN indicators i ON i.code = m.indicator_code AND i.aggregation = 'last'
    ORDER BY m.indicator_code, m.partner_id, m.neighborhood_code, m.dimension_key, m.period_start DESC
$$;

-- Inserted measurements are added to their rollup cells; concurrent writers serialize
-- only on the cells they share (row locks taken in key order), and each addition reads
-- the latest committed cell, so none is lost. The same statement-level trigger checks
-- the new rows' references (see measurement references above).
CREATE FUNCTION add_inserted_measurements_to_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    inserted measurements[];
BEGIN
    PERFORM pg_advisory_xact_lock_shared(x'6261636B72656673'::bigint);
    IF EXISTS (SELECT FROM changed_new m LEFT JOIN partners p ON p.id = m.partner_id
               LEFT JOIN indicators i ON i.code = m.indicator_code LEFT JOIN neighborhoods n ON n.code = m.neighborhood_code
               WHERE p.id IS NULL OR i.code IS NULL OR n.code IS NULL) THEN
        RAISE EXCEPTION 'a measurement names a partner, indicator or neighborhood that does not exist'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'measurement_references';
    END IF;
    -- A variable, not a subquery, as the argument: it lets the planner inline rollup_cells.
    inserted := ARRAY(SELECT m::measurements FROM changed_new m);
    INSERT INTO measurement_rollups AS r
    SELECT * FROM rollup_cells(inserted)
    ORDER BY indicator_code, period_start, neighborhood_code, dimension_key
    ON CONFLICT (indicator_code, period_start, neighborhood_code, dimension_key) DO UPDATE SET
        measurements = r.measurements + EXCLUDED.measurements,
        -- Usually one new partner (a batch is mostly one partner's): appended unless listed.
        partner_list = CASE
            WHEN strpos(EXCLUDED.partner_list, ',') > 0 THEN
                (SELECT string_agg(DISTINCT n, ',') FROM unnest(string_to_array(r.partner_list || ',' || EXCLUDED.partner_list, ',')) AS n)
            WHEN strpos(',' || r.partner_list || ',', ',' || EXCLUDED.partner_list || ',') > 0 THEN r.partner_list
            ELSE r.partner_list || ',' || EXCLUDED.partner_list END,
        sum_value = r.sum_value + EXCLUDED.sum_value,
        sum_numerator = r.sum_numerator + EXCLUDED.sum_numerator,
        sum_denominator = r.sum_denominator + EXCLUDED.sum_denominator,
        min_value = least(r.min_value, EXCLUDED.min_value),
        max_value = greatest(r.max_value, EXCLUDED.max_value);
    -- A stock series moves to an inserted measurement later than its latest.
    INSERT INTO series_latest AS s
    SELECT * FROM latest_of_series(inserted)
    ON CONFLICT (indicator_code, partner_id, neighborhood_code, dimension_key) DO UPDATE SET
        period_start = EXCLUDED.period_start, period = EXCLUDED.period, dimensions = EXCLUDED.dimensions,
        value = EXCLUDED.value, numerator = EXCLUDED.numerator, denominator = EXCLUDED.denominator
    WHERE EXCLUDED.period_start > s.period_start;
    RETURN NULL;
END $$;

-- Updated and deleted measurements can lower a minimum or drop a partner, so their
-- cells are recomputed from the measurements, after locking the cells in key order
-- (the recompute, a later statement, then sees every committed change to them). The
-- cells are replaced in place, never deleted and inserted again: a writer waiting for a
-- cell's lock then gets the replaced cell's, where a deleted one would let it through
-- unlocked. Only cells left without measurements go. Stock series the same way.
CREATE FUNCTION recompute_changed_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    remaining measurements[];
    cells measurement_rollups[];
    stocks measurements[];
    latest series_latest[];
BEGIN
    PERFORM FROM (SELECT DISTINCT indicator_code, period_start, neighborhood_code, dimension_key FROM changed_old) c
    JOIN measurement_rollups r USING (indicator_code, period_start, neighborhood_code, dimension_key)
    ORDER BY r.indicator_code, r.period_start, r.neighborhood_code, r.dimension_key FOR UPDATE OF r;
    remaining := ARRAY(
        SELECT m FROM (SELECT DISTINCT indicator_code, period_start, neighborhood_code, dimension_key FROM changed_old) c
        JOIN measurements m USING (indicator_code, period_start, neighborhood_code, dimension_key));
    cells := ARRAY(SELECT r FROM rollup_cells(remaining) r);
    DELETE FROM measurement_rollups r
    USING (SELECT indicator_code, period_start, neighborhood_code, dimension_key FROM changed_old
           EXCEPT SELECT indicator_code, period_start, neighborhood_code, dimension_key FROM unnest(cells)) gone
    WHERE (r.indicator_code, r.period_start, r.neighborhood_code, r.dimension_key)
          = (gone.indicator_code, gone.period_start, gone.neighborhood_code, gone.dimension_key);
    INSERT INTO measurement_rollups SELECT * FROM unnest(cells)
    ON CONFLICT (indicator_code, period_start, neighborhood_code, dimension_key) DO UPDATE SET
        period = EXCLUDED.period, dimensions = EXCLUDED.dimensions, measurements = EXCLUDED.measurements,
        partner_list = EXCLUDED.partner_list, sum_value = EXCLUDED.sum_value, sum_numerator = EXCLUDED.sum_numerator,
        sum_denominator = EXCLUDED.sum_denominator, min_value = EXCLUDED.min_value, max_value = EXCLUDED.max_value;
    -- A retracted latest falls back to the measurement before it.
    stocks := ARRAY(SELECT o::measurements FROM changed_old o JOIN indicators i ON i.code = o.indicator_code AND i.aggregation = 'last');
    IF cardinality(stocks) > 0 THEN
        PERFORM FROM (SELECT DISTINCT indicator_code, partner_id, neighborhood_code, dimension_key FROM unnest(stocks)) c
        JOIN series_latest s USING (indicator_code, partner_id, neighborhood_code, dimension_key)
        ORDER BY s.indicator_code, s.partner_id, s.neighborhood_code, s.dimension_key FOR UPDATE OF s;
        remaining := ARRAY(
            SELECT m FROM (SELECT DISTINCT indicator_code, partner_id, neighborhood_code, dimension_key FROM unnest(stocks)) c
            JOIN measurements m USING (indicator_code, partner_id, neighborhood_code, dimension_key));
        latest := ARRAY(SELECT s FROM latest_of_series(remaining) s);
        DELETE FROM series_latest s
        USING (SELECT indicator_code, partner_id, neighborhood_code, dimension_key FROM unnest(stocks)
               EXCEPT SELECT indicator_code, partner_id, neighborhood_code, dimension_key FROM unnest(latest)) gone
        WHERE (s.indicator_code, s.partner_id, s.neighborhood_code, s.dimension_key)
              = (gone.indicator_code, gone.partner_id, gone.neighborhood_code, gone.dimension_key);
        INSERT INTO series_latest SELECT * FROM unnest(latest)
        ON CONFLICT (indicator_code, partner_id, neighborhood_code, dimension_key) DO UPDATE SET
            period_start = EXCLUDED.period_start, period = EXCLUDED.period, dimensions = EXCLUDED.dimensions,
            value = EXCLUDED.value, numerator = EXCLUDED.numerator, denominator = EXCLUDED.denominator;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER measurements_rollup_insert AFTER INSERT ON measurements
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION add_inserted_measurements_to_rollups();
CREATE TRIGGER measurements_rollup_update AFTER UPDATE ON measurements
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION recompute_changed_rollups();
CREATE TRIGGER measurements_rollup_delete AFTER DELETE ON measurements
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION recompute_changed_rollups();

-- Servers cache API keys and registry records; these notifications tell every server
-- process to drop its cache when a key or a registry row changes.
CREATE FUNCTION notify_backbone_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER api_keys_changed AFTER UPDATE OR DELETE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION notify_backbone_change('backbone_keys');
CREATE TRIGGER agendas_changed AFTER INSERT OR UPDATE OR DELETE ON agendas
    FOR EACH STATEMENT EXECUTE FUNCTION notify_backbone_change('backbone_registry');
CREATE TRIGGER indicators_changed AFTER INSERT OR UPDATE OR DELETE ON indicators
    FOR EACH STATEMENT EXECUTE FUNCTION notify_backbone_change('backbone_registry');
CREATE TRIGGER partners_changed AFTER INSERT OR UPDATE OR DELETE ON partners
    FOR EACH STATEMENT EXECUTE FUNCTION notify_backbone_change('backbone_registry');
CREATE TRIGGER neighborhoods_changed AFTER INSERT OR UPDATE OR DELETE ON neighborhoods
    FOR EACH STATEMENT EXECUTE FUNCTION notify_backbone_change('backbone_registry');
CREATE TRIGGER commitments_changed AFTER INSERT OR UPDATE OR DELETE ON commitments
    FOR EACH STATEMENT EXECUTE FUNCTION notify_backbone_change('backbone_registry');

-- How many times the registry has changed, counted inside the changing transaction: a
-- server's memo of the registry is current only while this has not moved. (The
-- notification above arrives after the commit; a report asked of another server process
-- in between reads this, which has already moved.) The count is taken before the
-- statement, so a registry write holds this row before any registry row and two such
-- transactions queue on it rather than deadlock.
CREATE TABLE registry_version (
    one      boolean PRIMARY KEY DEFAULT true CONSTRAINT registry_version_one CHECK (one),
    version  bigint NOT NULL
);
INSERT INTO registry_version (version) VALUES (0);
CREATE FUNCTION count_registry_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registry_version SET version = version + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER agendas_counted BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON agendas
    FOR EACH STATEMENT EXECUTE FUNCTION count_registry_change();
CREATE TRIGGER indicators_counted BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON indicators
    FOR EACH STATEMENT EXECUTE FUNCTION count_registry_change();
CREATE TRIGGER partners_counted BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON partners
    FOR EACH STATEMENT EXECUTE FUNCTION count_registry_change();
CREATE TRIGGER neighborhoods_counted BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON neighborhoods
    FOR EACH STATEMENT EXECUTE FUNCTION count_registry_change();
CREATE TRIGGER commitments_counted BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON commitments
    FOR EACH STATEMENT EXECUTE FUNCTION count_registry_change();

-- Releases: partners and viewers read shared numbers only from here (docs/privacy.md).
-- A release publishes an agenda's period once: each covered indicator's native periods,
-- their rollups as they were, and which cells of the protected grid are withheld. A later
-- release of the same period is a revision; reports use each native period's latest.
CREATE TABLE releases (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agenda_id     text NOT NULL CONSTRAINT releases_agenda_fkey REFERENCES agendas (id),
    period        text NOT NULL,
    period_start  date NOT NULL,
    period_end    date NOT NULL,
    revision      integer NOT NULL,
    automatic     boolean NOT NULL,
    released_by   text,
    released_at   timestamptz NOT NULL DEFAULT now(),
    -- The neighborhood tree the release was cut on ({"code": "parent" or null}): a report
    -- withholds a period whose neighborhoods have moved in the tree since.
    neighborhoods jsonb NOT NULL,
    CONSTRAINT releases_revision_key UNIQUE (agenda_id, period, revision)
);
-- Per release, indicator and native period: the grid's non-empty cell count, the withheld
-- cells ([[scope, dimensions], ...]: scope 'all', 'subtree:CODE' or 'own:CODE', the
-- dimension values fixed as a DimensionValues key) and each partner's contribution to
-- each measurement cell ([[neighborhood, dimension key, partner number, measurements,
-- sum, numerators, denominators], ...]), which the protection of a revision needs: what
-- each reader knew of the earlier release.
CREATE TABLE release_grids (
    release_id      bigint NOT NULL CONSTRAINT release_grids_release_fkey REFERENCES releases (id),
    indicator_code  text NOT NULL,
    period_start    date NOT NULL,
    period          text NOT NULL,
    cells           integer NOT NULL,
    withheld        jsonb NOT NULL,
    contributions   jsonb NOT NULL,
    PRIMARY KEY (indicator_code, period_start, release_id)
);
-- The rollups of a release, shaped as measurement_rollups.
CREATE TABLE release_rollups (
    release_id  bigint NOT NULL,
    LIKE measurement_rollups,
    PRIMARY KEY (indicator_code, release_id, period_start, neighborhood_code, dimension_key),
    CONSTRAINT release_rollups_grid_fkey FOREIGN KEY (indicator_code, period_start, release_id)
        REFERENCES release_grids (indicator_code, period_start, release_id)
);
