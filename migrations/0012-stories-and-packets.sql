-- Version 12: the story behind the curve. Story versions, partners' contributions, actions
-- with their history, and frozen board-packet publications (schema.sql's comments say what
-- each table holds).
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

CREATE TABLE action_history (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action_id  bigint NOT NULL CONSTRAINT action_history_action_fkey REFERENCES actions (id),
    change     text NOT NULL CONSTRAINT action_history_change_check CHECK (change IN ('created', 'updated')),
    action     jsonb NOT NULL,
    key_id     text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX action_history_action_idx ON action_history (action_id, id);

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
