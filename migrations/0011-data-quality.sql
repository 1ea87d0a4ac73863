-- Version 11: data quality. Validation rules and their history, and the flags warnings on
-- stored values become, with theirs (schema.sql's comments say what each table holds).
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
CREATE UNIQUE INDEX quality_flags_outlier_key ON quality_flags (measurement_id)
    WHERE kind = 'outlier' AND status IN ('open', 'explained');
CREATE UNIQUE INDEX quality_flags_rule_key ON quality_flags (rule_id, partner_id, neighborhood_code, period)
    WHERE kind = 'rule' AND status IN ('open', 'explained');
CREATE INDEX quality_flags_indicator_idx ON quality_flags (indicator_code, period_start);
CREATE INDEX quality_flags_partner_idx ON quality_flags (partner_id, id);

CREATE TABLE quality_flag_history (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    flag_id  bigint NOT NULL CONSTRAINT quality_flag_history_flag_fkey REFERENCES quality_flags (id),
    status   text NOT NULL,
    note     text,
    key_id   text,
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quality_flag_history_flag_idx ON quality_flag_history (flag_id, id);
