#!/usr/bin/env bash
# Issue 22's seven attacks against a running Backbone server (see attacks.py).
#   Tests/privacy/attacks.sh URL COORDINATOR_KEY [extra attacks.py arguments, e.g. --verbose]
# Installs numpy/scipy for python3 when they are missing, then runs the attacks on a fresh
# deployment (ids with a random prefix, so runs can share a database). Exit status 1 when
# any attack recovers a partner's figure or a withheld value.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 URL COORDINATOR_KEY [--verbose] [--seed N] [--only 1,2,...]" >&2
  exit 2
fi
url=$1 key=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if ! python3 -c 'import numpy, scipy.optimize' 2>/dev/null; then
  echo "installing scipy for python3 ..." >&2
  python3 -m pip install -q scipy 2>/dev/null || python3 -m pip install -q --break-system-packages scipy
fi
exec python3 "$here/attacks.py" --url "$url" --coordinator-key "$key" "$@"
