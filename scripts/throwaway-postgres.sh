#!/usr/bin/env bash
# Sourced by test.sh and bench/run.sh: starts a private PostgreSQL in a temporary folder
# (unix socket only; as the postgres user when we are root, since PostgreSQL refuses to
# run as root) and removes it on exit, whatever happened.
#   throwaway_postgres_start NAME [extra postgres settings...]
# sets PG_SOCKET_DIR and defines pg_psql (psql as the cluster's superuser).

throwaway_postgres_start() {
  local name=$1
  shift
  PG_BINDIR=$(backbone_pg_bindir)
  PG_WORKDIR=$(mktemp -d "/tmp/backbone-$name.XXXXXX")
  chmod 755 "$PG_WORKDIR"
  PG_AS_USER=()
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres:postgres "$PG_WORKDIR"
    PG_AS_USER=(runuser -u postgres --)
  fi
  trap throwaway_postgres_cleanup EXIT INT TERM
  local settings="-c listen_addresses='' -k $PG_WORKDIR -c max_connections=200"
  for setting in "$@"; do settings+=" -c $setting"; done
  "${PG_AS_USER[@]}" "$PG_BINDIR/initdb" -D "$PG_WORKDIR/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
  "${PG_AS_USER[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_WORKDIR/data" -l "$PG_WORKDIR/server.log" -w -t 60 -o "$settings" start >/dev/null
  PG_SOCKET_DIR=$PG_WORKDIR
}

pg_psql() {
  "${PG_AS_USER[@]}" "$PG_BINDIR/psql" -h "$PG_SOCKET_DIR" -U postgres -v ON_ERROR_STOP=1 "$@"
}

throwaway_postgres_cleanup() {
  local status=$?
  [[ -n "${THROWAWAY_CLEANUP_HOOK:-}" ]] && $THROWAWAY_CLEANUP_HOOK
  "${PG_AS_USER[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_WORKDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_WORKDIR"
  exit $status
}
