#!/usr/bin/env bash
# One client against the server (bench/attacks.py): peak RSS and /healthz latency under
# each attack, on the release build and a throwaway PostgreSQL.
#   bench/attacks.sh [--backbone PATH]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
backbone_install_packages
if [[ "${1:-}" == "--backbone" ]]; then
  backbone=$2
else
  scripts/embed-files.sh
  swift build -c release --product backbone
  backbone="$(swift build -c release --show-bin-path)/backbone"
fi
source scripts/throwaway-postgres.sh
throwaway_postgres_start attacks
pg_psql -q -c "CREATE DATABASE attacks" postgres
export DATABASE_URL="host=$PG_SOCKET_DIR dbname=attacks user=postgres"
"$backbone" migrate >/dev/null
python3 bench/attacks.py --backbone "$backbone"
