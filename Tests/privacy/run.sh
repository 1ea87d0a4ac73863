#!/usr/bin/env bash
# The privacy auditor against a running Backbone server.
#   Tests/privacy/run.sh URL COORDINATOR_KEY [extra audit.py arguments, e.g. --verbose]
# Installs numpy/scipy for python3 when they are missing, then attacks the server with
# seeds 1-12 (each: release every month, one revision, one adversary per reader: the
# outsider and every partner), the /metrics rule and the fixed subtraction cases, within
# 230 seconds (per-seed budgets shrink to fit; no seed is skipped). Exit status 1 when
# anything leaks or a metadata rule is broken.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 URL COORDINATOR_KEY [--verbose] [--seeds 1-12] [--time-limit S] [--budget N]" >&2
  exit 2
fi
url=$1 key=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if ! python3 -c 'import numpy, scipy.optimize, scipy.sparse' 2>/dev/null; then
  echo "installing scipy for python3 ..." >&2
  python3 -m pip install -q scipy 2>/dev/null || python3 -m pip install -q --break-system-packages scipy
fi
exec python3 "$here/audit.py" --url "$url" --coordinator-key "$key" --seeds 1-12 --time-limit 230 "$@"
