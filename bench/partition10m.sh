#!/usr/bin/env bash
# `measurements` as migrated (A) against it declaratively partitioned by period_start (B,
# bench/partition.sql), in one run: bench.py's deployment loaded by SQL through the write
# triggers (stock10m.py), an HTTP JSON ingest on top, a check that the service works
# unchanged on B, the reports over HTTP (release build), EXPLAIN of the report queries that
# read measurements, and every table's and index's size. About 45 minutes at 10M rows.
#   bench/partition10m.sh [--size ROWS] [--ingest ROWS] [--runs N] [--keep] [--order AB|BA]
# BACKBONE=/path/to/backbone skips the build (a release binary of the same schema).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
backbone_install_packages
if [[ -z "${BACKBONE:-}" ]]; then
  scripts/embed-files.sh
  swift build -c release --product backbone
  BACKBONE="$(swift build -c release --show-bin-path)/backbone"
fi

source scripts/throwaway-postgres.sh
# As stock10m.sh, but max_wal_size 1GB (PG_MAX_WAL_SIZE): with 8GB the WAL of a 10M load did not fit the
# disk beside the database. The same for A and B.
throwaway_postgres_start partition10m shared_buffers=1GB max_wal_size="${PG_MAX_WAL_SIZE:-1GB}" work_mem=64MB
for db in bench_a bench_b; do
  pg_psql -q -c "CREATE DATABASE $db" postgres
  DATABASE_URL="host=$PG_SOCKET_DIR dbname=$db user=postgres" "$BACKBONE" migrate >/dev/null
done
pg_psql -q -d bench_b -f bench/partition.sql >/dev/null
# migrate applies functions.sql again: the functions and triggers dropped with the old table.
DATABASE_URL="host=$PG_SOCKET_DIR dbname=bench_b user=postgres" "$BACKBONE" migrate >/dev/null

python3 bench/partition10m.py --backbone "$BACKBONE" --psql "$PG_BINDIR/psql" --socket "$PG_SOCKET_DIR" "$@"
