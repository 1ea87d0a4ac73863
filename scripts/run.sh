#!/usr/bin/env bash
# Runs Backbone: installs missing system packages, builds, leaves a link to the binary
# at bin/backbone (for `backbone keys …`), serves on HOST:PORT (default 127.0.0.1:8080).
# Without DATABASE_URL it runs a private PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
backbone_install_packages
configuration=${BUILD_CONFIGURATION:-release}
scripts/embed-files.sh
swift build -c "$configuration" --product backbone
mkdir -p bin
ln -sf "$(swift build -c "$configuration" --show-bin-path)/backbone" bin/backbone
echo "backbone is at bin/backbone (export PATH=\"$PWD/bin:\$PATH\" to call it as backbone)" >&2
exec bin/backbone serve "$@"
