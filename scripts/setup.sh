#!/usr/bin/env bash
# Installs what Backbone needs on Debian when it is missing: libpq-dev (to build) and
# postgresql (for the embedded database and the tests). Sourced by run.sh and test.sh.
set -euo pipefail

backbone_missing_packages() {
  local missing=()
  dpkg -s libpq-dev >/dev/null 2>&1 || missing+=(libpq-dev)
  [[ -n "$(backbone_pg_bindir 2>/dev/null)" ]] || missing+=(postgresql)
  dpkg -s pkg-config >/dev/null 2>&1 || command -v pkg-config >/dev/null || missing+=(pkg-config)
  echo "${missing[@]:-}"
}

# The folder with initdb and pg_ctl, newest PostgreSQL first.
backbone_pg_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    [[ -x "$dir/initdb" ]] && { echo "$dir"; return 0; }
  done
  command -v initdb >/dev/null && { dirname "$(readlink -f "$(command -v initdb)")"; return 0; }
  return 1
}

backbone_install_packages() {
  local missing
  missing=$(backbone_missing_packages)
  [[ -z "${missing// /}" ]] && return 0
  # shellcheck disable=SC2086
  backbone_apt_install "Backbone" $missing || exit 1
  # Debian's package starts a cluster of its own; Backbone runs private ones instead.
  if command -v pg_lsclusters >/dev/null; then
    pg_lsclusters -h 2>/dev/null | while read -r version name _; do
      pg_ctlcluster "$version" "$name" stop 2>/dev/null || true
    done
  fi
}

# Installs Debian packages that `what` (named in the message) needs, as root, or says how
# when not root.
backbone_apt_install() {
  local what=$1
  shift
  if [[ $(id -u) -ne 0 ]]; then
    echo "$what needs $*. Install them with: sudo apt-get install -y $*" >&2
    return 1
  fi
  echo "Installing $* ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Headless Chromium for the dashboard's browser test (Debian's `chromium` package).
# poppler-utils reads the printed board packet back (pdfinfo, pdftotext).
backbone_install_browser() {
  if { command -v chromium >/dev/null || command -v chromium-browser >/dev/null; } && command -v pdftotext >/dev/null; then
    return 0
  fi
  backbone_apt_install "The browser test" chromium fonts-dejavu-core poppler-utils
}

# HAProxy in front of the nodes of scripts/cluster.sh (Debian's `haproxy` package).
backbone_install_haproxy() {
  command -v haproxy >/dev/null && return 0
  backbone_apt_install "scripts/cluster.sh" haproxy || return 1
  # Debian's package may start a service of its own; the cluster runs its own HAProxy.
  if command -v systemctl >/dev/null && systemctl is-active --quiet haproxy 2>/dev/null; then
    systemctl stop haproxy 2>/dev/null || true
  fi
}
