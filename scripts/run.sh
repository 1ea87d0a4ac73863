#!/usr/bin/env bash
# Runs Backbone: installs missing system packages, builds, serves on HOST:PORT
# (default 127.0.0.1:8080). Without DATABASE_URL it runs a private PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
backbone_install_packages
configuration=${BUILD_CONFIGURATION:-release}
scripts/embed-files.sh
swift build -c "$configuration" --product backbone
exec "$(swift build -c "$configuration" --show-bin-path)/backbone" serve "$@"
