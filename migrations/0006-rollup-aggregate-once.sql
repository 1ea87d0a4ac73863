-- Version 6: the rollup aggregate is written once, in rollup_cells(), which the insert
-- and the update/delete rollup triggers both call; the recompute no longer creates a
-- temporary table on every call. The stored rollups and the triggers stay as they are.
-- (The functions below are copied from schema.sql as of version 6.)

CREATE FUNCTION rollup_cells(rows measurements[]) RETURNS SETOF measurement_rollups LANGUAGE sql STABLE AS $$
    SELECT m.indicator_code, m.period_start, min(m.period), m.neighborhood_code, m.dimension_key,
           (array_agg(m.dimensions))[1], count(*)::integer, string_agg(DISTINCT p.number::text, ','),
           sum(u.value), sum(coalesce(m.numerator, 0)), sum(coalesce(m.denominator, 0)), min(u.value), max(u.value)
    FROM unnest(rows) m JOIN indicators i ON i.code = m.indicator_code JOIN partners p ON p.id = m.partner_id
    CROSS JOIN LATERAL (SELECT coalesce(m.value, m.numerator / m.denominator
                               * CASE WHEN i.value_type = 'percent' THEN 100 ELSE 1 END) AS value) u
    GROUP BY m.indicator_code, m.period_start, m.neighborhood_code, m.dimension_key
$$;

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
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION recompute_changed_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    remaining measurements[];
BEGIN
    PERFORM FROM (SELECT DISTINCT indicator_code, period_start, neighborhood_code, dimension_key FROM changed_old) c
    JOIN measurement_rollups r USING (indicator_code, period_start, neighborhood_code, dimension_key)
    ORDER BY r.indicator_code, r.period_start, r.neighborhood_code, r.dimension_key FOR UPDATE OF r;
    DELETE FROM measurement_rollups r
    USING (SELECT DISTINCT indicator_code, period_start, neighborhood_code, dimension_key FROM changed_old) c
    WHERE (r.indicator_code, r.period_start, r.neighborhood_code, r.dimension_key)
          = (c.indicator_code, c.period_start, c.neighborhood_code, c.dimension_key);
    remaining := ARRAY(
        SELECT m FROM (SELECT DISTINCT indicator_code, period_start, neighborhood_code, dimension_key FROM changed_old) c
        JOIN measurements m USING (indicator_code, period_start, neighborhood_code, dimension_key));
    INSERT INTO measurement_rollups SELECT * FROM rollup_cells(remaining);
    RETURN NULL;
END $$;
