#!/usr/bin/env bash
# Backbone as a cluster on loopback (issue 27): a PostgreSQL primary, a streaming replica
# made with pg_basebackup and held CLUSTER_REPLICA_DELAY behind (recovery_min_apply_delay),
# two `backbone serve` nodes reading from the replica, and HAProxy in front of them.
#
#   scripts/cluster.sh up     start it all, print the URLs and the coordinator key, leave it running
#   scripts/cluster.sh down   stop everything it started and remove its folder
#   scripts/cluster.sh test [--expect-replica]
#                             up, the read-your-writes checker (Tests/cluster/read_your_writes.py),
#                             the faults (Tests/cluster/faults.py), down (always); exits non-zero
#                             when a check fails. --expect-replica (or CLUSTER_EXPECT_REPLICA=1)
#                             also asserts what only a server that reads from the replica can do:
#                             >= 80 % of steady reads served by the replica, reads answered and
#                             /readyz "degraded" while the primary is down.
#
# Settings (environment): CLUSTER_DIR (/tmp/backbone-cluster), CLUSTER_PG_PORT (55432; the
# replica listens on CLUSTER_REPLICA_PORT, 55433), CLUSTER_HTTP_PORT (18080, HAProxy; the
# nodes on the next two ports), CLUSTER_REPLICA_DELAY (500ms), CLUSTER_CYCLES (write-then-read
# cycles of `test`, 1000: each read after a write waits up to 50 ms for the replica; the
# checker's own default is 10000), CLUSTER_LOG_LEVEL (the nodes'
# LOG_LEVEL, warning), CLUSTER_EXPECT_REPLICA (1: as --expect-replica), CLUSTER_ECHO_HEADERS
# (response headers the checkers' callers send back, e.g. a read-your-writes token; cookies
# always are), BACKBONE_BIN (the debug binary of `swift build` by default).
# As root (CI), PostgreSQL runs as the `postgres` user, which it requires.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/setup.sh

CLUSTER_DIR=${CLUSTER_DIR:-/tmp/backbone-cluster}
PRIMARY_PORT=${CLUSTER_PG_PORT:-55432}
REPLICA_PORT=${CLUSTER_REPLICA_PORT:-55433}
HTTP_PORT=${CLUSTER_HTTP_PORT:-18080}
NODE1_PORT=$((HTTP_PORT + 1))
NODE2_PORT=$((HTTP_PORT + 2))
REPLICA_DELAY=${CLUSTER_REPLICA_DELAY:-500ms}
MARKER=.backbone-cluster  # down removes only a folder that up made

AS_POSTGRES=()
[[ $(id -u) -eq 0 ]] && AS_POSTGRES=(runuser -u postgres --)

say() { echo "cluster: $*" >&2; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits until URL answers 200 (up to $2 seconds).
wait_http_ok() {
  python3 - "$1" "${2:-60}" <<'PY'
import sys, time, urllib.request
url, deadline = sys.argv[1], time.time() + float(sys.argv[2])
while time.time() < deadline:
    try:
        if urllib.request.urlopen(url, timeout=2).status == 200:
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.2)
sys.exit(f"{url} did not answer 200 in {sys.argv[2]} s")
PY
}

backbone_binary() {
  if [[ -n "${BACKBONE_BIN:-}" ]]; then
    echo "$BACKBONE_BIN"
    return
  fi
  local bin
  bin="$(swift build --show-bin-path)/backbone"
  if [[ ! -x "$bin" ]]; then
    say "building backbone (debug) ..."
    scripts/embed-files.sh >&2
    swift build --product backbone >&2
  fi
  echo "$bin"
}

# A process we started, by the pid in FILE, if it still runs the program NAME.
pid_of() {
  local file=$1 name=$2 pid
  [[ -f "$file" ]] || return 1
  pid=$(cat "$file")
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "$name" || return 1
  echo "$pid"
}

# SIGTERM to every process we started that still runs (by its pid file), then up to 15 s
# for all of them to exit (they stop in parallel); SIGKILL to any left.
stop_started() {
  local pids=() pid file name
  while [[ $# -gt 0 ]]; do
    file=$1 name=$2
    shift 2
    pid=$(pid_of "$file" "$name") || continue
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  done
  for _ in $(seq 150); do
    local alive=0
    for pid in "${pids[@]}"; do [[ -d "/proc/$pid" ]] && alive=1; done
    [[ $alive -eq 0 ]] && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    [[ -d "/proc/$pid" ]] || continue
    say "pid $pid did not stop in 15 s: killed"
    kill -KILL "$pid" 2>/dev/null || true
  done
}

pg_ctl_as() { "${AS_POSTGRES[@]}" "$PG_BINDIR/pg_ctl" "$@"; }

cluster_up() {
  local started=$SECONDS
  if [[ -e "$CLUSTER_DIR/$MARKER" ]]; then
    say "already up in $CLUSTER_DIR (scripts/cluster.sh down first)"
    return 1
  fi
  for port in "$PRIMARY_PORT" "$REPLICA_PORT" "$HTTP_PORT" "$NODE1_PORT" "$NODE2_PORT"; do
    if port_in_use "$port"; then
      say "port $port on 127.0.0.1 is in use (set CLUSTER_PG_PORT / CLUSTER_REPLICA_PORT / CLUSTER_HTTP_PORT)"
      return 1
    fi
  done
  backbone_install_packages
  backbone_install_haproxy
  PG_BINDIR=$(backbone_pg_bindir)
  local bin
  bin=$(backbone_binary)
  [[ -e "$CLUSTER_DIR" ]] && { say "$CLUSTER_DIR exists and is not a cluster folder: remove it or set CLUSTER_DIR"; return 1; }
  mkdir -p "$CLUSTER_DIR"
  touch "$CLUSTER_DIR/$MARKER"
  chmod 755 "$CLUSTER_DIR"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$CLUSTER_DIR"
  local dir=$CLUSTER_DIR

  # The primary: replication allowed from loopback, WAL kept for a replica stopped a while.
  "${AS_POSTGRES[@]}" "$PG_BINDIR/initdb" -D "$dir/primary" -U postgres -A trust -E UTF8 --locale=C >/dev/null
  cat >> "$dir/primary/postgresql.conf" <<EOF

# scripts/cluster.sh
listen_addresses = '127.0.0.1'
port = $PRIMARY_PORT
unix_socket_directories = '$dir'
max_connections = 100
wal_level = replica
max_wal_senders = 5
wal_keep_size = '256MB'
hot_standby = on
fsync = off
EOF
  cat > "$dir/primary/pg_hba.conf" <<EOF
# scripts/cluster.sh: trust on loopback, replication included
local all         all                trust
host  all         all  127.0.0.1/32  trust
local replication all                trust
host  replication all  127.0.0.1/32  trust
EOF
  pg_ctl_as -D "$dir/primary" -l "$dir/primary.log" -w -t 60 start >/dev/null
  "${AS_POSTGRES[@]}" "$PG_BINDIR/psql" -h "$dir" -p "$PRIMARY_PORT" -U postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE DATABASE backbone" postgres
  local primary_url="host=127.0.0.1 port=$PRIMARY_PORT dbname=backbone user=postgres"
  DATABASE_URL=$primary_url "$bin" migrate >&2
  DATABASE_URL=$primary_url "$bin" keys create --role coordinator --name "cluster admin" 2>/dev/null > "$dir/coordinator.key"
  say "primary on 127.0.0.1:$PRIMARY_PORT, migrated ($((SECONDS - started)) s)"

  # The replica: a base backup with its recovery settings (-R), held behind by the delay.
  "${AS_POSTGRES[@]}" "$PG_BINDIR/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres \
    -D "$dir/replica" -R -X stream -c fast
  cat >> "$dir/replica/postgresql.conf" <<EOF

# scripts/cluster.sh: the replica
port = $REPLICA_PORT
hot_standby = on
recovery_min_apply_delay = '$REPLICA_DELAY'
EOF
  pg_ctl_as -D "$dir/replica" -l "$dir/replica.log" -w -t 60 start >/dev/null
  local streaming=0
  for _ in $(seq 150); do
    streaming=$("${AS_POSTGRES[@]}" "$PG_BINDIR/psql" -h "$dir" -p "$PRIMARY_PORT" -U postgres -At \
      -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" postgres)
    [[ $streaming -ge 1 ]] && break
    sleep 0.2
  done
  [[ $streaming -ge 1 ]] || { say "the replica is not streaming (see $dir/replica.log)"; return 1; }
  say "replica on 127.0.0.1:$REPLICA_PORT, streaming, recovery_min_apply_delay $REPLICA_DELAY ($((SECONDS - started)) s)"

  # Two nodes. The primary's conninfo lists both servers with read-write, so that a
  # promoted replica is followed; the replica's names the replica alone (a node sends the
  # reads the replica cannot serve to the primary itself, and counts them as the primary's).
  local database_url="host=127.0.0.1,127.0.0.1 port=$PRIMARY_PORT,$REPLICA_PORT dbname=backbone user=postgres target_session_attrs=read-write connect_timeout=2"
  local replica_url="host=127.0.0.1 port=$REPLICA_PORT dbname=backbone user=postgres connect_timeout=2"
  local n port
  for n in 1 2; do
    port=$((HTTP_PORT + n))
    HOST=127.0.0.1 PORT=$port DATABASE_URL=$database_url DATABASE_REPLICA_URL=$replica_url \
      LOG_LEVEL=${CLUSTER_LOG_LEVEL:-warning} \
      setsid "$bin" serve > "$dir/node$n.log" 2>&1 < /dev/null &
    echo $! > "$dir/node$n.pid"
  done
  for n in 1 2; do
    wait_http_ok "http://127.0.0.1:$((HTTP_PORT + n))/readyz" 60 \
      || { say "node $n did not become ready:"; tail -20 "$dir/node$n.log" >&2; return 1; }
  done
  say "nodes on 127.0.0.1:$NODE1_PORT and :$NODE2_PORT ($((SECONDS - started)) s)"

  export HAPROXY_BIND=127.0.0.1:$HTTP_PORT BACKBONE_NODE1=127.0.0.1:$NODE1_PORT BACKBONE_NODE2=127.0.0.1:$NODE2_PORT
  haproxy -c -q -f deploy/haproxy.cfg
  haproxy -f deploy/haproxy.cfg -D -p "$dir/haproxy.pid" 2> "$dir/haproxy.log"
  wait_http_ok "http://127.0.0.1:$HTTP_PORT/readyz" 30
  say "HAProxy on 127.0.0.1:$HTTP_PORT ($((SECONDS - started)) s)"

  # What the checkers (and a person) need to find it all.
  {
    printf '%s=%q\n' CLUSTER_DIR "$dir" PG_BINDIR "$PG_BINDIR" BACKBONE_BIN "$bin" \
      PRIMARY_DATA "$dir/primary" PRIMARY_PORT "$PRIMARY_PORT" PRIMARY_LOG "$dir/primary.log" \
      REPLICA_DATA "$dir/replica" REPLICA_PORT "$REPLICA_PORT" REPLICA_LOG "$dir/replica.log" \
      REPLICA_DELAY "$REPLICA_DELAY" SOCKET_DIR "$dir" \
      HAPROXY_URL "http://127.0.0.1:$HTTP_PORT" NODE1_URL "http://127.0.0.1:$NODE1_PORT" \
      NODE2_URL "http://127.0.0.1:$NODE2_PORT" DATABASE_URL "$database_url" \
      DATABASE_REPLICA_URL "$replica_url" COORDINATOR_KEY_FILE "$dir/coordinator.key"
  } > "$dir/cluster.env"
  cat <<EOF
cluster: up in $((SECONDS - started)) s ($dir)
  HAProxy      http://127.0.0.1:$HTTP_PORT
  node 1       http://127.0.0.1:$NODE1_PORT   (log $dir/node1.log)
  node 2       http://127.0.0.1:$NODE2_PORT   (log $dir/node2.log)
  primary      127.0.0.1:$PRIMARY_PORT (data $dir/primary)
  replica      127.0.0.1:$REPLICA_PORT (data $dir/replica, $REPLICA_DELAY behind)
  coordinator  $(cat "$dir/coordinator.key")   (in $dir/coordinator.key)
  try          curl -H "Authorization: Bearer \$(cat $dir/coordinator.key)" http://127.0.0.1:$HTTP_PORT/v1/indicators
EOF
}

cluster_down() {
  local dir=$CLUSTER_DIR
  if [[ ! -d "$dir" ]]; then
    say "nothing to stop ($dir does not exist)"
    return 0
  fi
  if [[ ! -e "$dir/$MARKER" ]]; then
    say "$dir was not made by scripts/cluster.sh up: left alone"
    return 1
  fi
  stop_started "$dir/haproxy.pid" haproxy "$dir/node1.pid" backbone "$dir/node2.pid" backbone
  PG_BINDIR=${PG_BINDIR:-$(backbone_pg_bindir)}
  local data
  for data in "$dir/replica" "$dir/primary"; do
    [[ -f "$data/postmaster.pid" ]] || continue
    pg_ctl_as -D "$data" -m fast -w -t 20 stop >/dev/null 2>&1 \
      || pg_ctl_as -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  done
  rm -rf "$dir"
  say "down ($dir removed)"
}

cluster_test() {
  local expect=${CLUSTER_EXPECT_REPLICA:-}
  [[ "${1:-}" == --expect-replica ]] && expect=1
  local flags=() header
  [[ -n "$expect" && "$expect" != 0 ]] && flags=(--expect-replica)
  # Response headers a caller must send back for read-your-writes, if the server uses any
  # (cookies are sent back without being named).
  for header in ${CLUSTER_ECHO_HEADERS:-}; do flags+=(--echo-header "$header"); done
  local cycles=${CLUSTER_CYCLES:-1000}
  local t0=$SECONDS phase_started timings=()
  if [[ -e "$CLUSTER_DIR/$MARKER" ]]; then
    say "a cluster is up in $CLUSTER_DIR: scripts/cluster.sh down first (test starts and stops its own)"
    return 1
  fi
  trap 'cluster_down || true' EXIT
  trap 'exit 130' INT TERM

  phase_started=$SECONDS
  # A process of its own, so that set -e stops `up` at its first failure.
  if ! "$ROOT/scripts/cluster.sh" up; then
    say "up failed; the logs' last lines:"
    for log in "$CLUSTER_DIR"/*.log; do [[ -f "$log" ]] && { echo "== $log"; tail -15 "$log"; }; done >&2
    return 1
  fi
  timings+=("up $((SECONDS - phase_started)) s")

  say "read-your-writes: $cycles write-then-read cycles (CLUSTER_CYCLES; the issue's figure is 10000)"
  phase_started=$SECONDS
  set +e
  timeout 240 python3 Tests/cluster/read_your_writes.py --cluster-dir "$CLUSTER_DIR" --cycles "$cycles" "${flags[@]}"
  local ryw_status=$?
  timings+=("read-your-writes $((SECONDS - phase_started)) s")
  phase_started=$SECONDS
  timeout 180 python3 Tests/cluster/faults.py --cluster-dir "$CLUSTER_DIR" "${flags[@]}"
  local faults_status=$?
  set -e
  timings+=("faults $((SECONDS - phase_started)) s")
  if [[ $ryw_status -ne 0 || $faults_status -ne 0 ]]; then
    for n in 1 2; do echo "== node $n's log, last lines"; tail -15 "$CLUSTER_DIR/node$n.log"; done >&2
  fi

  phase_started=$SECONDS
  trap - EXIT
  cluster_down
  timings+=("down $((SECONDS - phase_started)) s")
  local joined
  joined=$(printf '%s; ' "${timings[@]}")
  say "timings: ${joined}total $((SECONDS - t0)) s"
  [[ $ryw_status -ne 0 ]] && say "read-your-writes checker failed (exit $ryw_status)"
  [[ $faults_status -ne 0 ]] && say "fault checker failed (exit $faults_status)"
  [[ $ryw_status -eq 0 && $faults_status -eq 0 ]] && say "passed${flags:+ (${flags[*]})}"
  [[ $ryw_status -eq 0 && $faults_status -eq 0 ]]
}

case "${1:-}" in
  up) cluster_up ;;
  down) cluster_down ;;
  test) shift; cluster_test "$@" ;;
  *)
    echo "usage: scripts/cluster.sh up|down|test [--expect-replica]" >&2
    exit 2
    ;;
esac
