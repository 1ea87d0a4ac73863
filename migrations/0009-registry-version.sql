-- Version 9: the registry's count of changes, which report memos check on every report
-- (schema.sql's comment says why); counted by count_registry_change() in functions.sql.
CREATE TABLE registry_version (
    one      boolean PRIMARY KEY DEFAULT true CONSTRAINT registry_version_one CHECK (one),
    version  bigint NOT NULL
);
INSERT INTO registry_version (version) VALUES (0);
