-- Version 10: releases. Partners and viewers read shared numbers only from a release of
-- a period, computed and protected once and stored; the coordinator reads live data
-- (schema.sql's comments say what each table holds).
ALTER TABLE agendas ADD COLUMN release_after_days integer
    CONSTRAINT agendas_release_after_days_check CHECK (release_after_days BETWEEN 0 AND 3650);
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
CREATE TABLE release_rollups (
    release_id  bigint NOT NULL,
    LIKE measurement_rollups,
    PRIMARY KEY (indicator_code, release_id, period_start, neighborhood_code, dimension_key),
    CONSTRAINT release_rollups_grid_fkey FOREIGN KEY (indicator_code, period_start, release_id)
        REFERENCES release_grids (indicator_code, period_start, release_id)
);
