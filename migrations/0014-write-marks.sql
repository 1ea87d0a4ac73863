-- Version 14: each key's last write, for reads from replicas (docs/SCALING.md, "Replicas
-- and read-your-writes"). Unlogged: read and written on the primary only, never replicated.
CREATE UNLOGGED TABLE write_marks (
    key_id      text PRIMARY KEY,
    lsn         pg_lsn NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT now()
);
