#!/usr/bin/env bash
# A stock indicator's reports at 10M measurements, without the full benchmark's HTTP ingest:
# the rows are loaded through the write triggers by SQL, then the stock reports are timed
# through HTTP (release build) against the raw SQL they replace. About 15 minutes.
#   bench/stock10m.sh [--size ROWS] [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
backbone_install_packages
scripts/embed-files.sh
swift build -c release --product backbone
backbone="$(swift build -c release --show-bin-path)/backbone"

source scripts/throwaway-postgres.sh
throwaway_postgres_start stock10m shared_buffers=1GB max_wal_size=8GB work_mem=64MB
pg_psql -q -c "CREATE DATABASE bench" postgres
export DATABASE_URL="host=$PG_SOCKET_DIR dbname=bench user=postgres"
"$backbone" migrate >/dev/null

python3 bench/stock10m.py --backbone "$backbone" --psql "$PG_BINDIR/psql" --socket "$PG_SOCKET_DIR" "$@"
