-- Version 9: the registry's count of changes, which report memos check on every report
-- (schema.sql's comment says why).
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
