#!/usr/bin/env bash
# Issue 22's seven attacks against a running Backbone server (see attacks.py).
#   Tests/privacy/attacks.sh URL COORDINATOR_KEY [extra attacks.py arguments, e.g. --verbose]
# Runs the attacks on a fresh deployment (ids with a random prefix, so runs can share a
# database). Exit status 1 when any attack recovers a partner's figure or a withheld value.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/common.sh"
privacy_prepare "$0 URL COORDINATOR_KEY [--verbose] [--seed N] [--only 1,2,...]" "$@"
exec python3 "$here/attacks.py" --url "$1" --coordinator-key "$2" "${@:3}"
