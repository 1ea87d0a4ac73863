#!/usr/bin/env bash
# Micro benchmark of the JSON parser and writer (release-optimised, no package build):
# compiles Sources/JSON with bench/json/JSONBench.swift and prints parse/write times.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="$(mktemp -d)"
swiftc -O -parse-as-library -module-name JSONBench Sources/JSON/*.swift bench/json/JSONBench.swift -o "$out/jsonbench" \
  2>"$out/log" || { cat "$out/log"; exit 1; }
for _ in 1 2 3; do "$out/jsonbench"; done
rm -rf "$out"
