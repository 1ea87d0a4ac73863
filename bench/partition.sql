-- bench/partition10m.sh's database B: `measurements` declaratively partitioned by
-- period_start (RANGE, one partition a calendar year, and a default partition for any
-- other year), applied to a freshly migrated, empty database. `backbone migrate` is run
-- again afterwards: it re-applies functions.sql, which recreates the functions taking
-- `measurements[]` and the triggers on the new table (dropped here with the old one).
--
-- Columns, defaults, the identity and the check constraints are copied from the migrated
-- table (LIKE), so they cannot drift from schema.sql. A unique constraint of a
-- partitioned table must contain the partition key: the primary key becomes
-- (id, period_start) and the natural key gains period_start. A period's text determines
-- its first day, so the natural key is as unique as before; `id` stays unique by its
-- identity sequence, no longer by a constraint.
\set ON_ERROR_STOP on
BEGIN;
CREATE TABLE measurements_partitioned (LIKE measurements INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)
    PARTITION BY RANGE (period_start);
DROP TABLE measurements CASCADE;
ALTER TABLE measurements_partitioned RENAME TO measurements;
ALTER SEQUENCE IF EXISTS measurements_partitioned_id_seq RENAME TO measurements_id_seq;
ALTER TABLE measurements
    ADD CONSTRAINT measurements_pkey PRIMARY KEY (id, period_start),
    ADD CONSTRAINT measurements_natural_key
        UNIQUE (indicator_code, partner_id, neighborhood_code, period, dimension_key, period_start);
-- As schema.sql (migrations 0005): the partner's rows in order, and the cell index that
-- serves period-range reads and the rollup refresh of one cell.
CREATE INDEX measurements_partner_idx ON measurements (partner_id, id);
CREATE INDEX measurements_cell_idx ON measurements (indicator_code, period_start, neighborhood_code, dimension_key);
-- The synthetic deployment's 24 months (2024-11 to 2026-10) fall into 2024, 2025, 2026.
--
-- Each partition lives in a schema of its own and is created with its copy of the natural
-- key named `measurements_natural_key` before it is attached (ATTACH adopts a matching
-- index). A unique violation names the partition's index, not the parent's constraint, and
-- MeasurementWriter.insertIfAllNew recognizes a stored row by that name alone
-- (`error.constraint == "measurements_natural_key"`): with partitions made by
-- `CREATE TABLE ... PARTITION OF` (index names such as
-- measurements_2024_indicator_code_partner_id_neighborhood_co_key), every batch that
-- touches a stored row failed with 500. Index names are unique per schema, hence a schema
-- per partition. (The lasting fix belongs in MeasurementWriter: recognize the violation by
-- SQLSTATE 23505 and table, not by the constraint's name.)
CREATE FUNCTION pg_temp.add_partition(name text, bounds text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE SCHEMA %I', name);
    EXECUTE format('CREATE TABLE %I.measurements (LIKE public.measurements INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    EXECUTE format('ALTER TABLE %I.measurements ADD CONSTRAINT measurements_natural_key '
                   'UNIQUE (indicator_code, partner_id, neighborhood_code, period, dimension_key, period_start)', name);
    EXECUTE format('ALTER TABLE public.measurements ATTACH PARTITION %I.measurements %s', name, bounds);
END $$;
SELECT pg_temp.add_partition('measurements_2024', $$FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')$$);
SELECT pg_temp.add_partition('measurements_2025', $$FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')$$);
SELECT pg_temp.add_partition('measurements_2026', $$FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')$$);
SELECT pg_temp.add_partition('measurements_2027', $$FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')$$);
-- Any other year (the service takes periods from any year).
SELECT pg_temp.add_partition('measurements_other', 'DEFAULT');
COMMIT;
