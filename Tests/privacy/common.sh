# Sourced by run.sh and attacks.sh: checks for URL and COORDINATOR_KEY (printing `usage`
# otherwise) and installs numpy and scipy for python3 when they are missing.
#   privacy_prepare "usage line" "$@"
privacy_prepare() {
  local usage=$1
  shift
  if [[ $# -lt 2 ]]; then
    echo "usage: $usage" >&2
    exit 2
  fi
  if ! python3 -c 'import numpy, scipy.optimize, scipy.sparse' 2>/dev/null; then
    echo "installing scipy for python3 ..." >&2
    python3 -m pip install -q scipy 2>/dev/null || python3 -m pip install -q --break-system-packages scipy
  fi
}
