#!/usr/bin/env bash
# Runs every test: installs missing system packages, starts a throwaway PostgreSQL
# (as the postgres user when run as root), checks the Swift sources' format (scripts/format.sh
# --check), validates openapi.yaml, runs `swift test`
# against that database, then against a live server: every example of the contract
# (scripts/check_examples.py), the dashboard's browser test (headless Chromium; screenshots
# in ci-artifacts/), schemathesis, the example Swift and Python clients generated, built and
# walking the server (clients/run.sh), the privacy auditor and the seven attacks; this README's curl
# walkthrough against another (Tests/readme/walkthrough.py), then the fault tests
# (Tests/faults/faults.py, with a PostgreSQL of their own; FAULTS_SOAK_SECONDS sets the
# soak's length, default 30), then the cluster test (scripts/cluster.sh test: a primary, a
# replica, two nodes and HAProxy on loopback), and removes the database even when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
backbone_install_packages

source scripts/throwaway-postgres.sh
throwaway_postgres_start test fsync=off max_connections=400  # the suites run in parallel, each server with its pool
workdir=$PG_SOCKET_DIR
# Each step's time, printed at the end (CI's budget is 30 minutes for all of it).
laps=() lap_started=$SECONDS
lap() { laps+=("$1 $((SECONDS - lap_started)) s"); lap_started=$SECONDS; }
pg_psql -q -c "CREATE DATABASE backbone_test" postgres
export BACKBONE_TEST_DATABASE_URL="host=$workdir dbname=backbone_test user=postgres"
export BACKBONE_TEST_ADMIN_URL="host=$workdir dbname=postgres user=postgres"

# The Swift sources as .swift-format writes them (`scripts/format.sh` fixes them): the
# first violations and a count per rule; counted as one test.
set +e
scripts/format.sh --check > "$workdir/format.log" 2>&1
format_status=$?
set -e
# (grep finds nothing to print when the check passes: that is not a failure)
{ grep -v '^format: ' "$workdir/format.log" || true; } | head -40
sed -n '/^format: /,$p' "$workdir/format.log"

# The contract must be valid OpenAPI before the server is checked against it.
python3 -c 'import openapi_spec_validator' 2>/dev/null || python3 -m pip install -q 'openapi-spec-validator>=0.7'
python3 -m openapi_spec_validator openapi.yaml

# schema.sql, functions.sql, the migrations and openapi.yaml are compiled into the binary.
scripts/embed-files.sh
swift build --build-tests
lap "build"
set +e
# One suite at a time: several suites time what a loaded server does (deadlines, latency
# under attack), and on two cores the other suites running beside them were the load.
swift test --skip-build --no-parallel "$@" 2>&1 | tee "$workdir/swift-test.log"
swift_status=${PIPESTATUS[0]}
set -e
lap "swift test"

# The running server against its contract: schemathesis generates requests from
# openapi.yaml and fails on any 5xx or any response the contract does not describe.
command -v schemathesis >/dev/null || python3 -m pip install -q 'schemathesis>=4,<5'
backbone="$(swift build --show-bin-path)/backbone"
# Serves a fresh database NAME on a free port: sets server_port, server_key and server_pid.
serve_fresh_database() {
  pg_psql -q -c "CREATE DATABASE $1" postgres
  export DATABASE_URL="host=$workdir dbname=$1 user=postgres"
  "$backbone" migrate
  server_key=$("$backbone" keys create --role coordinator --name "$1" 2>/dev/null)
  server_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  LOG_LEVEL=warning "$backbone" serve --port "$server_port" > "$workdir/serve-$1.log" 2>&1 &
  server_pid=$!
  python3 - "$server_port" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=2)
        break
    except Exception:
        time.sleep(0.2)
PY
}
stop_server() {
  kill -TERM "$1"
  wait "$1" || { echo "backbone serve did not stop cleanly:"; cat "$workdir/serve-$2.log"; exit 1; }
}

# The example clients generate and build (in their own scratch path) while the contract's
# examples and schemathesis run; they walk the server after schemathesis.
setsid clients/run.sh --build-only > "$workdir/clients-build.log" 2>&1 &
clients_build_pid=$!  # its own process group, so that a failure stops the compilers too
stop_clients_build() { kill -- -"$clients_build_pid" 2>/dev/null || true; }
THROWAWAY_CLEANUP_HOOK=stop_clients_build  # when a step fails before the build is waited for

# Every example in the contract is accepted: each operation, with its examples, against
# an empty database (scripts/check_examples.py).
serve_fresh_database backbone_examples
set +e
python3 scripts/check_examples.py "http://127.0.0.1:$server_port" "$server_key"
examples_status=$?
set -e
stop_server "$server_pid" backbone_examples

serve_fresh_database backbone_contract
port=$server_port coordinator_key=$server_key
python3 scripts/demo_data.py "http://127.0.0.1:$port" "$coordinator_key"
# The dashboard as a person sees it, in headless Chromium, on the demo data (before
# schemathesis changes the registry): screenshots land in ci-artifacts/.
backbone_install_browser
python3 -c 'import websocket' 2>/dev/null || python3 -m pip install -q 'websocket-client>=1.6'
set +e
python3 scripts/browser_test.py "http://127.0.0.1:$port" "$coordinator_key" ci-artifacts | tee "$workdir/browser-test.log"
browser_status=${PIPESTATUS[0]}
set -e
# Every check but three that test behaviour we chose: a valid-looking request refused by a
# rule JSON Schema cannot state (positive_data_acceptance: an unknown agenda, ends_on
# before starts_on), and DELETE deactivating rather than removing (use_after_free,
# ensure_resource_availability).
set +e
schemathesis run openapi.yaml --url "http://127.0.0.1:$port" --checks all \
  --exclude-checks positive_data_acceptance,use_after_free,ensure_resource_availability \
  -H "Authorization: Bearer $coordinator_key" \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-30}" --seed 1 | tee "$workdir/schemathesis.log"
contract_status=${PIPESTATUS[0]}
# The generated Swift and Python clients, each walking the live server end to end.
# Their own coordinator key: schemathesis may have revoked the first one.
clients_started=$SECONDS
wait "$clients_build_pid"
clients_status=$?
cat "$workdir/clients-build.log"
echo "clients: the build went on $((SECONDS - clients_started)) s after schemathesis"
if [[ $clients_status -eq 0 ]]; then
  clients_key=$("$backbone" keys create --role coordinator --name "generated clients" 2>/dev/null)
  clients/run.sh --no-build "http://127.0.0.1:$port" "$clients_key"
  clients_status=$?
fi
echo "clients: $((SECONDS - clients_started)) s after schemathesis in all"
# The privacy auditor: random deployments attacked with every aggregate a viewer or a
# partner key can read, bounded by linear programs (scipy); fails on any leak.
# Its own coordinator key: schemathesis may have revoked the first one.
privacy_key=$("$backbone" keys create --role coordinator --name "privacy auditor" 2>/dev/null)
Tests/privacy/run.sh "http://127.0.0.1:$port" "$privacy_key" | tee "$workdir/privacy.log"
privacy_status=${PIPESTATUS[0]}
# The seven attacks that read partners' figures before releases, on a deployment of their own.
Tests/privacy/attacks.sh "http://127.0.0.1:$port" "$privacy_key" | tee "$workdir/attacks.log"
attacks_status=${PIPESTATUS[0]}
set -e
stop_server "$server_pid" backbone_contract
lap "examples, browser, contract, clients, privacy"

# The README's curl walkthrough, unedited, against a server of its own on a fresh database.
serve_fresh_database backbone_readme
set +e
python3 Tests/readme/walkthrough.py README.md "$server_port" "$backbone"
readme_status=$?
set -e
kill -TERM "$server_pid"
wait "$server_pid" || true
lap "README walkthrough"

# Faults against a live server and its own PostgreSQL (about a minute): the database
# restarting and stopping under uploads, SIGTERM during a large upload, a mixed soak.
set +e
# The webhook fault tests verify deliveries with the Standard Webhooks reference library.
python3 -c 'import standardwebhooks' 2>/dev/null || python3 -m pip install -q 'standardwebhooks>=1.0' || true
python3 Tests/faults/faults.py --binary "$backbone" ${FAULTS_SOAK_SECONDS:+--soak-seconds "$FAULTS_SOAK_SECONDS"} 2>&1 | tee "$workdir/faults.log"
faults_status=${PIPESTATUS[0]}
set -e
lap "faults"

# The cluster on loopback (issue 27; about a minute): a primary, a streaming replica 500 ms
# behind, two nodes and HAProxy (scripts/cluster.sh test): no stale read in CLUSTER_CYCLES
# write-then-read cycles alternating nodes (1000 here), then the replica stopped, the primary
# stopped and the replica promoted, with what only a server reading from the replica can do
# (--expect-replica: >= 80 % of steady reads from the replica, reads and a degraded /readyz
# while the primary is down).
set +e
BACKBONE_BIN="$backbone" scripts/cluster.sh test --expect-replica 2>&1 | tee "$workdir/cluster.log"
cluster_status=${PIPESTATUS[0]}
set -e
lap "cluster"
laps_text=$(printf '%s; ' "${laps[@]}")
echo "step times: ${laps_text%; } (total $SECONDS s)"

# One plain closing line for CI: the Swift tests' count, and whether the contract held.
summary=$(grep -Eo 'Test run with [0-9]+ tests?' "$workdir/swift-test.log" | grep -Eo '[0-9]+' | tail -1)
failed=$(grep -E '✘ Test .* failed after' "$workdir/swift-test.log" | grep -vc '✘ Test run with' || true)
# swift test failing without a failed test (a crash, a build error) is one failure.
[[ $swift_status -ne 0 && ${failed:-0} -eq 0 ]] && failed=1
[[ $format_status -ne 0 ]] && echo "format check failed (scripts/format.sh --check; scripts/format.sh fixes it)"
[[ $examples_status -ne 0 ]] && echo "contract examples check failed"
[[ $contract_status -ne 0 ]] && echo "contract check failed (schemathesis exit $contract_status)"
[[ $clients_status -ne 0 ]] && echo "generated clients check failed"
[[ $browser_status -ne 0 ]] && echo "browser test failed (see $workdir/browser-test.log above)"
[[ $privacy_status -ne 0 ]] && echo "privacy audit failed (exit $privacy_status)"
[[ $attacks_status -ne 0 ]] && echo "privacy attacks failed (exit $attacks_status)"
[[ $readme_status -ne 0 ]] && echo "README walkthrough failed"
[[ $faults_status -ne 0 ]] && echo "fault tests failed (Tests/faults/faults.py exit $faults_status)"
[[ $cluster_status -ne 0 ]] && echo "cluster test failed (scripts/cluster.sh test exit $cluster_status)"
# The format check and each step after swift test (examples, browser test, contract,
# generated clients, privacy audit, privacy attacks, README walkthrough, faults, cluster) count
# as one test each.
steps_passed=$(( (format_status == 0) + (examples_status == 0) + (browser_status == 0) + (contract_status == 0) + (clients_status == 0) + (privacy_status == 0) + (attacks_status == 0) + (readme_status == 0) + (faults_status == 0) + (cluster_status == 0) ))
steps_failed=$(( (format_status != 0) + (examples_status != 0) + (browser_status != 0) + (contract_status != 0) + (clients_status != 0) + (privacy_status != 0) + (attacks_status != 0) + (readme_status != 0) + (faults_status != 0) + (cluster_status != 0) ))
echo "tests: $(( ${summary:-0} - ${failed:-0} + steps_passed )) passed, $(( ${failed:-0} + steps_failed )) failed"
[[ $format_status -eq 0 && $swift_status -eq 0 && $examples_status -eq 0 && $browser_status -eq 0 && $contract_status -eq 0 && $clients_status -eq 0 && $privacy_status -eq 0 && $attacks_status -eq 0 && $readme_status -eq 0 && $faults_status -eq 0 && $cluster_status -eq 0 ]]
