#!/usr/bin/env bash
# Operations figures, run by hand (not in CI): /healthz throughput with the request log
# off, as text and as JSON (wrk), and the complete CSV export of ROWS measurements
# (default 1,000,000): rows per second and the server's resident memory before, during
# (peak) and after. Release build in .build-release; a throwaway PostgreSQL.
#   bench/ops.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
source scripts/setup.sh
backbone_install_packages
command -v wrk >/dev/null || { echo "install wrk: apt-get install -y wrk" >&2; exit 1; }
swift build -c release --scratch-path .build-release --product backbone >&2
backbone="$(swift build -c release --scratch-path .build-release --show-bin-path)/backbone"
source scripts/throwaway-postgres.sh
throwaway_postgres_start ops fsync=off
pg_psql -q -c "CREATE DATABASE backbone_ops" postgres
export DATABASE_URL="host=$PG_SOCKET_DIR dbname=backbone_ops user=postgres"
"$backbone" migrate >/dev/null 2>&1
key=$("$backbone" keys create --role coordinator --name bench 2>/dev/null)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server_pid=
stop_server() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
    server_pid=
  fi
}
THROWAWAY_CLEANUP_HOOK=stop_server
start_server() {  # environment assignments as arguments
  env "$@" "$backbone" serve --port "$port" 2> "$PG_SOCKET_DIR/serve.log" >/dev/null &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "localhost:$port/readyz" >/dev/null && return; sleep 0.1; done
}

echo "== /healthz, wrk -t2 -c64 -d10s (2 cores shared by wrk and the server)"
for setting in "LOG_LEVEL=warning" "LOG_LEVEL=info LOG_FORMAT=text" "LOG_LEVEL=info LOG_FORMAT=json"; do
  # shellcheck disable=SC2086
  start_server $setting
  wrk -t2 -c64 -d3s "http://127.0.0.1:$port/healthz" >/dev/null
  result=$(wrk -t2 -c64 -d10s "http://127.0.0.1:$port/healthz")
  echo "$setting: $(grep 'Requests/sec' <<<"$result" | awk '{print $2}') requests/s, latency $(grep 'Latency' <<<"$result" | awk '{print $2, "avg,", $3, "stdev"}'), log $(wc -l < "$PG_SOCKET_DIR/serve.log") lines"
  stop_server
done

echo "== complete CSV export of $rows rows"
start_server LOG_LEVEL=warning
auth="Authorization: Bearer $key"
curl -sf -H "$auth" -X POST "localhost:$port/v1/agendas" -d '{"id": "literacy", "name": "Every adult reads", "starts_on": "2000-01-01"}' >/dev/null
curl -sf -H "$auth" -X POST "localhost:$port/v1/indicators" -d '{"code": "esl", "agenda": "literacy", "name": "ESL", "value_type": "count", "aggregation": "sum", "period_type": "month", "dimensions": [{"name": "age_group", "values": ["16-24", "25-44", "45+"]}]}' >/dev/null
curl -sf -H "$auth" -X POST "localhost:$port/v1/neighborhoods" -d '{"code": "northside", "name": "Northside"}' >/dev/null
curl -sf -H "$auth" -X POST "localhost:$port/v1/partners" -d '{"id": "library", "name": "Library", "kind": "library"}' >/dev/null
started=$(date +%s.%N)
pg_psql -q -d backbone_ops -c "
  INSERT INTO measurements (partner_id, indicator_code, neighborhood_code, period, period_start, value, dimension_key, dimensions,
                            batch_id, created_by, created_batch_id, updated_by)
  SELECT 'library', 'esl', 'northside', to_char(date '2000-01-01' + make_interval(months => g / 3), 'YYYY-MM'),
         date '2000-01-01' + make_interval(months => g / 3), g,
         'age_group=' || (ARRAY['16-24', '25-44', '45+'])[g % 3 + 1],
         jsonb_build_object('age_group', (ARRAY['16-24', '25-44', '45+'])[g % 3 + 1]),
         '00000000-0000-0000-0000-000000000001', k.id, '00000000-0000-0000-0000-000000000001', k.id
  FROM generate_series(0, $rows - 1) AS g, (SELECT id FROM api_keys LIMIT 1) AS k"
echo "loaded $rows rows by SQL in $(python3 -c "print(round($(date +%s.%N) - $started, 1))") s"
rss() { awk '/VmRSS/ {print $2}' "/proc/$server_pid/status"; }
before=$(rss)
peak=$before
curl -s -H "$auth" "localhost:$port/v1/measurements?format=csv" -o "$PG_SOCKET_DIR/export.csv" -w '%{time_total}\n' > "$PG_SOCKET_DIR/time" &
curl_pid=$!
while kill -0 "$curl_pid" 2>/dev/null; do
  now=$(rss); (( now > peak )) && peak=$now
  sleep 0.1
done
wait "$curl_pid"
seconds=$(cat "$PG_SOCKET_DIR/time")
lines=$(( $(wc -l < "$PG_SOCKET_DIR/export.csv") - 1 ))
echo "exported $lines rows ($(du -m "$PG_SOCKET_DIR/export.csv" | cut -f1) MiB) in $seconds s: $(python3 -c "print(round($lines / $seconds))") rows/s"
echo "server RSS: $((before / 1024)) MiB before, $((peak / 1024)) MiB peak during, $(( $(rss) / 1024 )) MiB after"
stop_server
