#!/usr/bin/env bash
# The entrypoint of `db-replica` (docker-compose.yml, profile cluster): the first time, a base
# backup of `db` with its recovery settings (pg_basebackup -R: standby.signal and
# primary_conninfo), then the postgres image's own entrypoint, which finds the data folder
# initialized and starts PostgreSQL as a hot standby streaming from `db`.
# Needs PRIMARY_HOST, PGUSER and PGPASSWORD (a user with REPLICATION; the image's superuser is one).
set -euo pipefail
PGDATA=${PGDATA:-/var/lib/postgresql/data}
done_marker="$PGDATA/.backbone-basebackup-done"
if [[ ! -e "$done_marker" ]]; then
  mkdir -p "$PGDATA"
  # A base backup that stopped half-way is started again from nothing.
  find "$PGDATA" -mindepth 1 -delete
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  until gosu postgres pg_isready -q -h "$PRIMARY_HOST" -U "$PGUSER"; do
    echo "db-replica: waiting for $PRIMARY_HOST ..." >&2
    sleep 1
  done
  gosu postgres pg_basebackup -h "$PRIMARY_HOST" -U "$PGUSER" -D "$PGDATA" -R -X stream -c fast
  gosu postgres touch "$done_marker"
fi
exec docker-entrypoint.sh postgres -c hot_standby=on
