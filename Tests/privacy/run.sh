#!/usr/bin/env bash
# The privacy auditor against a running Backbone server.
#   Tests/privacy/run.sh URL COORDINATOR_KEY [extra audit.py arguments, e.g. --verbose]
# Attacks the server with seeds 1-12 (each: release every month, one revision, one
# adversary per reader: the outsider and every partner), the /metrics rule and the fixed
# subtraction cases, within 230 seconds (per-seed budgets shrink to fit; no seed is
# skipped). Exit status 1 when anything leaks or a metadata rule is broken.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/common.sh"
privacy_prepare "$0 URL COORDINATOR_KEY [--verbose] [--seeds 1-12] [--time-limit S] [--budget N]" "$@"
exec python3 "$here/audit.py" --url "$1" --coordinator-key "$2" --seeds 1-12 --time-limit 230 "${@:3}"
