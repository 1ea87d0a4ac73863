#!/usr/bin/env bash
# swift-format over Package.swift, Sources/ and Tests/ with the checked-in .swift-format
# (4-space indent, lines up to 120 columns):
#   scripts/format.sh          formats the files in place
#   scripts/format.sh --check  lints them, prints the violations and a count per rule, and
#                              fails when there is any
# Sources/BackboneCore/Generated/ is written by scripts/embed-files.sh and left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

files=(Package.swift)
while IFS= read -r -d '' file; do files+=("$file"); done < <(
  find Sources Tests -name '*.swift' -not -path 'Sources/BackboneCore/Generated/*' -print0 | sort -z)

case "${1:-}" in
  "")
    swift format format --configuration .swift-format --parallel --in-place "${files[@]}"
    ;;
  --check)
    report=$(mktemp)
    trap 'rm -f "$report"' EXIT
    set +e
    swift format lint --configuration .swift-format --parallel --strict "${files[@]}" > "$report" 2>&1
    status=$?
    set -e
    if [[ $status -eq 0 ]]; then
      echo "format: ${#files[@]} files as .swift-format writes them"
      exit 0
    fi
    cat "$report"
    echo "format: $(grep -c ': \(warning\|error\): ' "$report" || true) violations in ${#files[@]} files, by rule:"
    grep -o ': \(warning\|error\): \[[A-Za-z]*\]' "$report" | grep -o '\[[A-Za-z]*\]' | sort | uniq -c | sort -rn || true
    echo "format: run scripts/format.sh to fix them"
    exit 1
    ;;
  *)
    echo "usage: scripts/format.sh [--check]" >&2
    exit 2
    ;;
esac
