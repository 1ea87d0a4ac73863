-- Every function and trigger of Backbone's database, each written once. `backbone migrate`
-- applies this file on every run, in the migration's transaction, after schema.sql (a new
-- database) or after the table changes of the migrations (an older one), and before their
-- data backfills; every statement is CREATE OR REPLACE, so applying it again is harmless.
-- A change to a function or trigger is made here alone: no migration copies it. Tables,
-- indexes and constraints live in schema.sql; docs/schema.md says how the two meet.

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
CREATE OR REPLACE FUNCTION refuse_measurement_identity_change() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE OR REPLACE TRIGGER measurements_identity_fixed
    BEFORE UPDATE OF partner_id, indicator_code, neighborhood_code, period, period_start, dimension_key, dimensions,
                     created_at, created_by, created_batch_id
    ON measurements FOR EACH ROW EXECUTE FUNCTION refuse_measurement_identity_change();

-- A partner, indicator or neighborhood that has measurements cannot be deleted or re-keyed.
-- TG_ARGV: the key column of the registry table and the measurements column naming it.
CREATE OR REPLACE FUNCTION refuse_removing_referenced_registry_row() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE OR REPLACE TRIGGER partners_referenced BEFORE DELETE OR UPDATE OF id ON partners
    FOR EACH ROW EXECUTE FUNCTION refuse_removing_referenced_registry_row('id', 'partner_id');
CREATE OR REPLACE TRIGGER indicators_referenced BEFORE DELETE OR UPDATE OF code ON indicators
    FOR EACH ROW EXECUTE FUNCTION refuse_removing_referenced_registry_row('code', 'indicator_code');
CREATE OR REPLACE TRIGGER neighborhoods_referenced BEFORE DELETE OR UPDATE OF code ON neighborhoods
    FOR EACH ROW EXECUTE FUNCTION refuse_removing_referenced_registry_row('code', 'neighborhood_code');

-- What a ratio's numerator / denominator is multiplied by: 100 for a percent ratio, else 1.
-- Swift's Indicator.scale(valueType:aggregation:) is the same rule; a test holds them equal.
CREATE OR REPLACE FUNCTION ratio_scale(value_type text, aggregation text) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN aggregation = 'ratio' AND value_type = 'percent' THEN 100 ELSE 1 END::double precision
$$;

-- The rollup aggregate, the one place it is written: the cells of the given measurements.
-- The insert trigger adds the cells of the inserted rows to the stored ones; the update
-- and delete trigger replaces the cells it touched by the cells of what remains in them.
-- (SQL, stable, not strict: the planner inlines it into the statement that calls it.)
CREATE OR REPLACE FUNCTION rollup_cells(rows measurements[]) RETURNS SETOF measurement_rollups LANGUAGE sql STABLE AS $$
    SELECT m.indicator_code, m.period_start, min(m.period), m.neighborhood_code, m.dimension_key,
           (array_agg(m.dimensions))[1], count(*)::integer, string_agg(DISTINCT p.number::text, ','),
           sum(u.value), sum(coalesce(m.numerator, 0)), sum(coalesce(m.denominator, 0)), min(u.value), max(u.value)
    FROM unnest(rows) m JOIN indicators i ON i.code = m.indicator_code JOIN partners p ON p.id = m.partner_id
    CROSS JOIN LATERAL (SELECT coalesce(m.value, m.numerator / m.denominator * ratio_scale(i.value_type, i.aggregation)) AS value) u
    GROUP BY m.indicator_code, m.period_start, m.neighborhood_code, m.dimension_key
$$;

-- The latest of each stock series among the given measurements, the one place it is
-- chosen: the insert trigger keeps a series' row unless an inserted measurement is later,
-- the update and delete trigger replaces the rows of the series it touched by the latest
-- of what remains of them.
CREATE OR REPLACE FUNCTION latest_of_series(rows measurements[]) RETURNS SETOF series_latest LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (m.indicator_code, m.partner_id, m.neighborhood_code, m.dimension_key)
           m.indicator_code, m.partner_id, m.neighborhood_code, m.dimension_key, m.period_start, m.period, m.dimensions,
           m.value, m.numerator, m.denominator
    -- The stocks' codes once, not a join: the planner rescanned the array once per stock indicator.
    FROM unnest(rows) m WHERE m.indicator_code = ANY (ARRAY(SELECT code FROM indicators WHERE aggregation = 'last'))
    ORDER BY m.indicator_code, m.partner_id, m.neighborhood_code, m.dimension_key, m.period_start DESC
$$;


-- Inserted measurements are added to their rollup cells; concurrent writers serialize
-- only on the cells they share (row locks taken in key order), and each addition reads
-- the latest committed cell, so none is lost. The same statement-level trigger checks
-- the new rows' references (see measurement references above).
CREATE OR REPLACE FUNCTION add_inserted_measurements_to_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    inserted measurements[];
BEGIN
    PERFORM pg_advisory_xact_lock_shared(x'6261636B72656673'::bigint);
    -- Each distinct reference once (a batch names a partner or two, dozens of indicators and
    -- neighborhoods), not one index probe per row and registry table.
    IF EXISTS (SELECT FROM (SELECT DISTINCT partner_id FROM changed_new) m
               WHERE NOT EXISTS (SELECT FROM partners p WHERE p.id = m.partner_id))
       OR EXISTS (SELECT FROM (SELECT DISTINCT indicator_code FROM changed_new) m
                  WHERE NOT EXISTS (SELECT FROM indicators i WHERE i.code = m.indicator_code))
       OR EXISTS (SELECT FROM (SELECT DISTINCT neighborhood_code FROM changed_new) m
                  WHERE NOT EXISTS (SELECT FROM neighborhoods n WHERE n.code = m.neighborhood_code)) THEN
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
CREATE OR REPLACE FUNCTION recompute_changed_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE TRIGGER measurements_rollup_insert AFTER INSERT ON measurements
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION add_inserted_measurements_to_rollups();
CREATE OR REPLACE TRIGGER measurements_rollup_update AFTER UPDATE ON measurements
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION recompute_changed_rollups();
CREATE OR REPLACE TRIGGER measurements_rollup_delete AFTER DELETE ON measurements
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION recompute_changed_rollups();


-- Servers cache API keys and registry records; these notifications tell every server
-- process to drop its cache when a key or a registry row changes.
CREATE OR REPLACE FUNCTION notify_backbone_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER api_keys_changed AFTER UPDATE OR DELETE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION notify_backbone_change('backbone_keys');
CREATE OR REPLACE TRIGGER agendas_changed AFTER INSERT OR UPDATE OR DELETE ON agendas
    FOR EACH STATEMENT EXECUTE FUNCTION notify_backbone_change('backbone_registry');
CREATE OR REPLACE TRIGGER indicators_changed AFTER INSERT OR UPDATE OR DELETE ON indicators
    FOR EACH STATEMENT EXECUTE FUNCTION notify_backbone_change('backbone_registry');
CREATE OR REPLACE TRIGGER partners_changed AFTER INSERT OR UPDATE OR DELETE ON partners
    FOR EACH STATEMENT EXECUTE FUNCTION notify_backbone_change('backbone_registry');
CREATE OR REPLACE TRIGGER neighborhoods_changed AFTER INSERT OR UPDATE OR DELETE ON neighborhoods
    FOR EACH STATEMENT EXECUTE FUNCTION notify_backbone_change('backbone_registry');
CREATE OR REPLACE TRIGGER commitments_changed AFTER INSERT OR UPDATE OR DELETE ON commitments
    FOR EACH STATEMENT EXECUTE FUNCTION notify_backbone_change('backbone_registry');

CREATE OR REPLACE FUNCTION count_registry_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registry_version SET version = version + 1;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER agendas_counted BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON agendas
    FOR EACH STATEMENT EXECUTE FUNCTION count_registry_change();
CREATE OR REPLACE TRIGGER indicators_counted BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON indicators
    FOR EACH STATEMENT EXECUTE FUNCTION count_registry_change();
CREATE OR REPLACE TRIGGER partners_counted BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON partners
    FOR EACH STATEMENT EXECUTE FUNCTION count_registry_change();
CREATE OR REPLACE TRIGGER neighborhoods_counted BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON neighborhoods
    FOR EACH STATEMENT EXECUTE FUNCTION count_registry_change();
CREATE OR REPLACE TRIGGER commitments_counted BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON commitments
    FOR EACH STATEMENT EXECUTE FUNCTION count_registry_change();
