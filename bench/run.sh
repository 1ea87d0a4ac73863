#!/usr/bin/env bash
# Backbone's benchmark: one command, on this machine, side by side with the ceilings of
# PostgreSQL (\copy, raw GROUP BY) and SwiftNIO (/healthz).
#   bench/run.sh [--size quick|large|ROWS] [--seed N]
# quick (default) ingests 120,000 measurements; large 10,000,000.
# Prints one table and writes bench/results/<timestamp>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
backbone_install_packages
if ! command -v wrk >/dev/null; then
  [[ $(id -u) -eq 0 ]] || { echo "the benchmark needs wrk: sudo apt-get install wrk" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

scripts/embed-files.sh
swift build -c release --product backbone
backbone="$(swift build -c release --show-bin-path)/backbone"
# The ceiling of the HTTP path: SwiftNIO's own example server, built from the checkout the
# server resolved (its sibling checkouts stand in for its dependencies, so this works offline).
nio_build=(swift build -c release --package-path .build/checkouts/swift-nio --scratch-path .build/nio-ceiling)
SWIFTCI_USE_LOCAL_DEPS=1 "${nio_build[@]}" --product NIOHTTP1Server
nio_example="$(SWIFTCI_USE_LOCAL_DEPS=1 "${nio_build[@]}" --show-bin-path)/NIOHTTP1Server"

source scripts/throwaway-postgres.sh
throwaway_postgres_start bench shared_buffers=1GB max_wal_size=8GB work_mem=64MB
pg_psql -q -c "CREATE DATABASE bench" postgres
export DATABASE_URL="host=$PG_SOCKET_DIR dbname=bench user=postgres"
"$backbone" migrate >/dev/null

python3 bench/bench.py --backbone "$backbone" --psql "$PG_BINDIR/psql" --socket "$PG_SOCKET_DIR" --nio-example "$nio_example" "$@"

# The outlier check beside DHIS2's two methods on the fixture (docs/quality.md "Outliers"):
# about half a minute, so part of the quick size only.
if [[ " $* " != *" --size "* || " $* " == *" --size quick "* ]]; then
  pg_psql -q -c "CREATE DATABASE quality" postgres
  DATABASE_URL="host=$PG_SOCKET_DIR dbname=quality user=postgres" python3 bench/quality.py --backbone "$backbone"
fi
