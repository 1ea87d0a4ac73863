-- Version 7: each stock series' latest measurement, in series_latest, kept current by the
-- rollup triggers; a stock's report over a range that reaches its latest data reads it
-- instead of every measurement of the range. The table is filled here from the stored
-- measurements, one indicator and partner at a time. The recompute after updates and
-- deletes now replaces rollup cells in place instead of deleting and inserting them again
-- (three writers correcting one cell at once made the third fail on a duplicate key).
-- (The table, latest_of_series() and the trigger functions are copied from schema.sql as of version 7.)

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

CREATE FUNCTION latest_of_series(rows measurements[]) RETURNS SETOF series_latest LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (m.indicator_code, m.partner_id, m.neighborhood_code, m.dimension_key)
           m.indicator_code, m.partner_id, m.neighborhood_code, m.dimension_key, m.period_start, m.period, m.dimensions,
           m.value, m.numerator, m.denominator
    FROM unnest(rows) m JOIN indicators i ON i.code = m.indicator_code AND i.aggregation = 'last'
    ORDER BY m.indicator_code, m.partner_id, m.neighborhood_code, m.dimension_key, m.period_start DESC
$$;

DO $$
DECLARE
    series record;
BEGIN
    FOR series IN SELECT i.code, p.id FROM indicators i CROSS JOIN partners p WHERE i.aggregation = 'last' ORDER BY i.code, p.id LOOP
        INSERT INTO series_latest SELECT * FROM latest_of_series(ARRAY(
            SELECT m FROM measurements m WHERE m.indicator_code = series.code AND m.partner_id = series.id));
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION add_inserted_measurements_to_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
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
