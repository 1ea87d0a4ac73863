#!/usr/bin/env bash
# The server's resident memory around ten uploads of 100,000 rows (CSV, one request each),
# run by hand (not in CI): before, at the end of the uploads, and 6 and 12 s later, when
# the memory return (docs/request-path.md, "Memory") has had its chance. Release build;
# a throwaway PostgreSQL.
#   bench/memory.sh [UPLOADS]
set -euo pipefail
cd "$(dirname "$0")/.."
uploads=${1:-10}
source scripts/setup.sh
backbone_install_packages
swift build -c release --product backbone >&2
backbone="$(swift build -c release --show-bin-path)/backbone"
source scripts/throwaway-postgres.sh
throwaway_postgres_start memory fsync=off
pg_psql -q -c "CREATE DATABASE backbone_memory" postgres
export DATABASE_URL="host=$PG_SOCKET_DIR dbname=backbone_memory user=postgres"
"$backbone" migrate >/dev/null 2>&1
key=$("$backbone" keys create --role coordinator --name bench 2>/dev/null)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG_LEVEL=${LOG_LEVEL:-warning} "$backbone" serve --port "$port" 2> "$PG_SOCKET_DIR/serve.log" >/dev/null &
server_pid=$!
stop_server() { kill -TERM "$server_pid" 2>/dev/null; wait "$server_pid" || true; }
THROWAWAY_CLEANUP_HOOK=stop_server
for _ in $(seq 100); do curl -sf "localhost:$port/readyz" >/dev/null && break; sleep 0.1; done
python3 - "$port" "$key" "$server_pid" "$uploads" <<'PY'
import json, sys, time, urllib.request
port, key, pid, uploads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def call(method, path, body, content_type="application/json"):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read() or b"null")
def rss():
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) // 1024
call("POST", "/v1/agendas", json.dumps({"id": "literacy", "name": "Every adult reads", "starts_on": "1800-01-01"}).encode())
call("POST", "/v1/indicators", json.dumps({"code": "esl", "agenda": "literacy", "name": "ESL", "value_type": "count",
     "aggregation": "sum", "period_type": "month"}).encode())
for n in range(50):
    call("POST", "/v1/neighborhoods", json.dumps({"code": f"n{n}", "name": f"N{n}"}).encode())
for p in range(20):
    call("POST", "/v1/partners", json.dumps({"id": f"p{p}", "name": f"P{p}", "kind": "library"}).encode())
print(f"before: RSS {rss()} MiB")
for upload in range(uploads):
    lines = ["partner,indicator,neighborhood,period,value"]
    for month in range(100):
        number = upload * 100 + month
        period = f"{1800 + number // 12}-{number % 12 + 1:02d}"
        lines += [f"p{p},esl,n{n},{period},{(p + n + month) % 97}" for p in range(20) for n in range(50)]
    started = time.perf_counter()
    summary = call("POST", "/v1/measurements", ("\n".join(lines) + "\n").encode(), "text/csv")
    print(f"upload {upload + 1}: {summary.get('created')} rows created in {time.perf_counter() - started:.1f} s, RSS {rss()} MiB")
print(f"after the uploads: RSS {rss()} MiB")
for wait in (6, 6):
    time.sleep(wait)
    print(f"{wait} s later: RSS {rss()} MiB")
PY
grep -h "returned freed memory" "$PG_SOCKET_DIR/serve.log" | tail -5 || true
