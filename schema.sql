-- Backbone's tables as they are today, defined once: tables, indexes, constraints. Their
-- functions and triggers are in functions.sql. `backbone migrate` applies this file and
-- then functions.sql to an empty database, in one transaction, and records the latest
-- version (Schema.requiredVersion); a database at an earlier version is upgraded instead
-- by the files in migrations/, in order, then functions.sql. A change here comes with a
-- migration that makes the same change to an existing database (a test compares the two);
-- docs/schema.md says how.

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
    -- Days after a period ends by which its numbers are due (reminders, completeness, the dashboard).
    reporting_due_days integer NOT NULL DEFAULT 30
        CONSTRAINT agendas_reporting_due_days_check CHECK (reporting_due_days BETWEEN 0 AND 366),
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

-- Measurements reference partners, indicators and neighborhoods without foreign keys:
-- triggers check them (functions.sql, "measurement references").

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

-- How many times the registry has changed, counted inside the changing transaction: a
-- server's memo of the registry is current only while this has not moved (counted by
-- count_registry_change in functions.sql). (The change notification arrives after the commit; a report asked of another server process
-- in between reads this, which has already moved.) The count is taken before the
-- statement, so a registry write holds this row before any registry row and two such
-- transactions queue on it rather than deadlock.
CREATE TABLE registry_version (
    one      boolean PRIMARY KEY DEFAULT true CONSTRAINT registry_version_one CHECK (one),
    version  bigint NOT NULL
);
INSERT INTO registry_version (version) VALUES (0);

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

-- Data quality (docs/quality.md): validation rules across indicators, and the flags that
-- warnings on stored values become, each with its trail.

-- A rule compares two expressions over indicators of one agenda and one period type, for
-- each partner, neighborhood and period. The expressions are kept as written; the
-- indicators they read are kept beside them, for re-evaluation and for refusing to
-- deactivate an indicator a rule reads.
CREATE TABLE validation_rules (
    id               text PRIMARY KEY CONSTRAINT validation_rules_id_slug CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    agenda_id        text NOT NULL CONSTRAINT validation_rules_agenda_fkey REFERENCES agendas (id),
    name             text NOT NULL,
    left_side        text NOT NULL,
    operator         text NOT NULL CONSTRAINT validation_rules_operator_check CHECK (operator IN
                     ('<', '<=', '==', '!=', '>=', '>', 'compulsory_pair', 'exclusive_pair')),
    right_side       text NOT NULL,
    importance       text NOT NULL DEFAULT 'medium' CONSTRAINT validation_rules_importance_check
                     CHECK (importance IN ('high', 'medium', 'low')),
    action           text NOT NULL DEFAULT 'warn' CONSTRAINT validation_rules_action_check
                     CHECK (action IN ('warn', 'reject')),
    missing          text NOT NULL DEFAULT 'skip_if_any_missing' CONSTRAINT validation_rules_missing_check
                     CHECK (missing IN ('skip_if_any_missing', 'skip_if_all_missing', 'never_skip')),
    indicator_codes  text[] NOT NULL,
    period_type      text NOT NULL CONSTRAINT validation_rules_period_type_check
                     CHECK (period_type IN ('week', 'month', 'quarter', 'year')),
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX validation_rules_indicators_idx ON validation_rules USING gin (indicator_codes);

-- Every change of a rule: who, when, and the rule as it stood after it.
CREATE TABLE validation_rule_history (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id  text NOT NULL CONSTRAINT validation_rule_history_rule_fkey REFERENCES validation_rules (id),
    action   text NOT NULL CONSTRAINT validation_rule_history_action_check
             CHECK (action IN ('created', 'updated', 'deleted')),
    key_id   text NOT NULL,
    at       timestamptz NOT NULL DEFAULT now(),
    rule     jsonb NOT NULL
);
CREATE INDEX validation_rule_history_rule_idx ON validation_rule_history (rule_id, id);

-- A warning on a stored value: an outlier against its series' history, or a rule its cell
-- violates. Open and explained flags still stand; confirmed (by the coordinator: the value
-- stands) and corrected (the value changed or was retracted and no longer violates) are
-- closed. The measurement is not a foreign key: a retracted measurement's flags stay, corrected.
CREATE TABLE quality_flags (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    measurement_id     bigint NOT NULL,
    partner_id         text NOT NULL,
    indicator_code     text NOT NULL,
    neighborhood_code  text NOT NULL,
    period             text NOT NULL,
    period_start       date NOT NULL,
    kind               text NOT NULL CONSTRAINT quality_flags_kind_check CHECK (kind IN ('outlier', 'rule')),
    rule_id            text CONSTRAINT quality_flags_rule_fkey REFERENCES validation_rules (id),
    score              double precision,
    expected_low       double precision,
    expected_high      double precision,
    message            text NOT NULL,
    status             text NOT NULL DEFAULT 'open' CONSTRAINT quality_flags_status_check
                       CHECK (status IN ('open', 'explained', 'confirmed', 'corrected')),
    note               text,
    opened_at          timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT quality_flags_rule_check CHECK ((kind = 'rule') = (rule_id IS NOT NULL))
);
-- At most one standing flag per value for its history, and per rule and cell.
CREATE UNIQUE INDEX quality_flags_outlier_key ON quality_flags (measurement_id)
    WHERE kind = 'outlier' AND status IN ('open', 'explained');
CREATE UNIQUE INDEX quality_flags_rule_key ON quality_flags (rule_id, partner_id, neighborhood_code, period)
    WHERE kind = 'rule' AND status IN ('open', 'explained');
CREATE INDEX quality_flags_indicator_idx ON quality_flags (indicator_code, period_start);
CREATE INDEX quality_flags_partner_idx ON quality_flags (partner_id, id);

-- Every status change and note of a flag; key_id NULL when the service itself closed it.
CREATE TABLE quality_flag_history (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    flag_id  bigint NOT NULL CONSTRAINT quality_flag_history_flag_fkey REFERENCES quality_flags (id),
    status   text NOT NULL,
    note     text,
    key_id   text,
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quality_flag_history_flag_idx ON quality_flag_history (flag_id, id);

-- Every saved version of a story behind the curve: for an indicator and the period it was
-- written for, community-wide (neighborhood_code '') or for one neighborhood. The story
-- in force for a period is the latest version of the latest period at or before it.
CREATE TABLE story_versions (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    indicator_code          text NOT NULL CONSTRAINT story_versions_indicator_fkey REFERENCES indicators (code),
    neighborhood_code       text NOT NULL DEFAULT '',
    period                  text NOT NULL,
    period_start            date NOT NULL,
    story_behind_the_curve  text NOT NULL DEFAULT '',
    partners                text NOT NULL DEFAULT '',
    what_works              text NOT NULL DEFAULT '',
    action_plan             text NOT NULL DEFAULT '',
    restored_from           bigint CONSTRAINT story_versions_restored_fkey REFERENCES story_versions (id),
    key_id                  text NOT NULL,
    saved_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX story_versions_lookup_idx ON story_versions (indicator_code, neighborhood_code, period_start, id);

-- What a partner did and sees for an indicator and period; shown to other readers only
-- once the coordinator marks it quoted.
CREATE TABLE contributions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    indicator_code  text NOT NULL CONSTRAINT contributions_indicator_fkey REFERENCES indicators (code),
    period          text NOT NULL,
    period_start    date NOT NULL,
    partner_id      text NOT NULL CONSTRAINT contributions_partner_fkey REFERENCES partners (id),
    body            text NOT NULL,
    quoted          boolean NOT NULL DEFAULT false,
    key_id          text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contributions_indicator_idx ON contributions (indicator_code, period_start, id);
CREATE INDEX contributions_partner_idx ON contributions (partner_id, id);

-- An action of an indicator's plan, owned by a partner; overdue is computed (due passed,
-- still planned or in progress).
CREATE TABLE actions (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    indicator_code    text NOT NULL CONSTRAINT actions_indicator_fkey REFERENCES indicators (code),
    title             text NOT NULL,
    owner_partner_id  text NOT NULL CONSTRAINT actions_owner_fkey REFERENCES partners (id),
    due               date NOT NULL,
    status            text NOT NULL DEFAULT 'planned' CONSTRAINT actions_status_check
                      CHECK (status IN ('planned', 'in_progress', 'done', 'dropped')),
    note              text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX actions_indicator_idx ON actions (indicator_code, id);
CREATE INDEX actions_owner_idx ON actions (owner_partner_id, id);

-- Every change of an action: the action as it stood after it, who, when.
CREATE TABLE action_history (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action_id  bigint NOT NULL CONSTRAINT action_history_action_fkey REFERENCES actions (id),
    change     text NOT NULL CONSTRAINT action_history_change_check CHECK (change IN ('created', 'updated')),
    action     jsonb NOT NULL,
    key_id     text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX action_history_action_idx ON action_history (action_id, id);

-- A board packet frozen when published: the exact bytes served forever, and their SHA-256.
CREATE TABLE publications (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agenda_id      text NOT NULL CONSTRAINT publications_agenda_fkey REFERENCES agendas (id),
    period         text NOT NULL,
    period_start   date NOT NULL,
    title          text NOT NULL,
    audience       text NOT NULL CONSTRAINT publications_audience_check CHECK (audience IN ('coordinator', 'public')),
    packet_json    bytea NOT NULL,
    packet_html    bytea NOT NULL,
    json_sha256    text NOT NULL,
    html_sha256    text NOT NULL,
    key_id         text NOT NULL,
    published_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX publications_agenda_idx ON publications (agenda_id, id);

-- Events, in the transaction of the change that causes them (the outbox): what webhooks
-- deliver. partner_id names the partner an event concerns (its submissions, its flags, its
-- reminders), NULL for agenda-wide events; endpoint_id sends it to one endpoint only (a
-- ping, a redelivery test), NULL to every subscribed endpoint. fanned_out_at is set once
-- deliveries were made for it.
CREATE TABLE outbox_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type           text NOT NULL,
    agenda_id      text,
    partner_id     text,
    endpoint_id    bigint,
    data           jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    fanned_out_at  timestamptz
);
CREATE INDEX outbox_events_waiting_idx ON outbox_events (id) WHERE fanned_out_at IS NULL;

-- Each reminder once per partner, indicator, period and stage, whichever server sends it.
CREATE TABLE reminders_sent (
    partner_id      text NOT NULL,
    indicator_code  text NOT NULL,
    period          text NOT NULL,
    stage           text NOT NULL CONSTRAINT reminders_sent_stage_check CHECK (stage IN ('due', 'overdue')),
    event_id        bigint NOT NULL CONSTRAINT reminders_sent_event_fkey REFERENCES outbox_events (id),
    sent_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partner_id, indicator_code, period, stage)
);

-- The coordinator's daily digest of late cells, once per agenda and day.
CREATE TABLE digests_sent (
    agenda_id  text NOT NULL,
    day        date NOT NULL,
    event_id   bigint NOT NULL CONSTRAINT digests_sent_event_fkey REFERENCES outbox_events (id),
    PRIMARY KEY (agenda_id, day)
);

-- Where events go: a URL, the event types it takes, its signing secret; partner_id set for
-- a partner's own endpoint (its own events only), NULL for the coordinator's.
CREATE TABLE webhook_endpoints (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url              text NOT NULL,
    events           text[] NOT NULL,
    description      text NOT NULL DEFAULT '',
    secret           text NOT NULL,
    partner_id       text CONSTRAINT webhook_endpoints_partner_fkey REFERENCES partners (id),
    key_id           text NOT NULL,
    active           boolean NOT NULL DEFAULT true,
    disabled_reason  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One event for one endpoint, until delivered or given up; webhook_attempts keeps each try.
CREATE TABLE webhook_deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id      bigint NOT NULL CONSTRAINT webhook_deliveries_endpoint_fkey REFERENCES webhook_endpoints (id),
    event_id         bigint NOT NULL CONSTRAINT webhook_deliveries_event_fkey REFERENCES outbox_events (id),
    status           text NOT NULL DEFAULT 'pending' CONSTRAINT webhook_deliveries_status_check
                     CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_deliveries_once UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id     bigint NOT NULL CONSTRAINT webhook_attempts_delivery_fkey REFERENCES webhook_deliveries (id),
    attempt         integer NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    status_code     integer,
    latency_ms      double precision,
    response_start  text,
    error           text
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);

-- Each key's last write: the primary's WAL insert position just after the write was
-- committed. A read by that key goes to a replica only once the replica has replayed it
-- (docs/SCALING.md). Unlogged: read and written on the primary only, never replicated.
CREATE UNLOGGED TABLE write_marks (
    key_id      text PRIMARY KEY,
    lsn         pg_lsn NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT now()
);
