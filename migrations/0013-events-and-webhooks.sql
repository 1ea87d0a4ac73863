-- Version 13: nudges and events. An agenda's reporting_due_days, the outbox of events,
-- reminders and digests sent once, webhook endpoints, deliveries and their attempts
-- (schema.sql's comments say what each table holds).
ALTER TABLE agendas ADD COLUMN reporting_due_days integer NOT NULL DEFAULT 30
    CONSTRAINT agendas_reporting_due_days_check CHECK (reporting_due_days BETWEEN 0 AND 366);
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

CREATE TABLE reminders_sent (
    partner_id      text NOT NULL,
    indicator_code  text NOT NULL,
    period          text NOT NULL,
    stage           text NOT NULL CONSTRAINT reminders_sent_stage_check CHECK (stage IN ('due', 'overdue')),
    event_id        bigint NOT NULL CONSTRAINT reminders_sent_event_fkey REFERENCES outbox_events (id),
    sent_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partner_id, indicator_code, period, stage)
);

CREATE TABLE digests_sent (
    agenda_id  text NOT NULL,
    day        date NOT NULL,
    event_id   bigint NOT NULL CONSTRAINT digests_sent_event_fkey REFERENCES outbox_events (id),
    PRIMARY KEY (agenda_id, day)
);

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
