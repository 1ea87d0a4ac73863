-- Version 7: each stock series' latest measurement, in series_latest, kept current by the
-- rollup triggers; a stock's report over a range that reaches its latest data reads it
-- instead of every measurement of the range. The table is filled here from the stored
-- measurements, one indicator and partner at a time. The recompute after updates and
-- deletes now replaces rollup cells in place instead of deleting and inserting them again
-- (three writers correcting one cell at once made the third fail on a duplicate key).
-- (latest_of_series() and the triggers that keep the table current are in functions.sql.)

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

-- @backfill: runs after the table changes of every pending migration and functions.sql.
DO $$
DECLARE
    series record;
BEGIN
    FOR series IN SELECT i.code, p.id FROM indicators i CROSS JOIN partners p WHERE i.aggregation = 'last' ORDER BY i.code, p.id LOOP
        INSERT INTO series_latest SELECT * FROM latest_of_series(ARRAY(
            SELECT m FROM measurements m WHERE m.indicator_code = series.code AND m.partner_id = series.id));
    END LOOP;
END $$;
