-- Version 8: a measurement's period and dimension values cannot change, like its
-- references: the rollup triggers recompute the cells and series a changed row was in,
-- not where it went, so an UPDATE that moved a measurement (from SQL; the API's
-- corrections rewrite values only) left the rollups without it.
-- (The function and trigger are copied from schema.sql as of version 8.)

DROP TRIGGER measurements_identity_fixed ON measurements;
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
CREATE TRIGGER measurements_identity_fixed
    BEFORE UPDATE OF partner_id, indicator_code, neighborhood_code, period, period_start, dimension_key, dimensions,
                     created_at, created_by, created_batch_id
    ON measurements FOR EACH ROW EXECUTE FUNCTION refuse_measurement_identity_change();
