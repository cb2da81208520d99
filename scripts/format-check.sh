#!/usr/bin/env bash
# Checks that every C++ file of ours is formatted as .clang-format says
# (Debian clang-format 14). Lists the files that are not and exits 1.
#   scripts/format-check.sh          check
#   scripts/format-check.sh --fix    rewrite the files in place
# The ANTLR parser is generated into the build tree at build time and is never
# checked; anything under a `generated/` folder is skipped as well.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
fix=0
[ "${1:-}" = "--fix" ] && fix=1

mapfile -t files < <(git ls-files -- dsl nodes runtime api app tests bench examples |
  grep -E '\.(cpp|cc|h|hpp)$' | grep -v '/generated/' || true)
if [ "$fix" = 1 ]; then
  "$CLANG_FORMAT" -i --style=file "${files[@]}"
  exit 0
fi
bad=0
changed=0
for f in "${files[@]}"; do
  n=$("$CLANG_FORMAT" --style=file "$f" | diff "$f" - | grep -c '^<' || true)
  if [ "$n" != 0 ]; then
    echo "$f: $n lines to reformat"
    bad=$((bad + 1))
    changed=$((changed + n))
  fi
done
if [ "$bad" != 0 ]; then
  echo "format-check: $bad of ${#files[@]} files need formatting ($changed lines);" \
       "run scripts/format-check.sh --fix" >&2
  exit 1
fi
echo "format-check: ${#files[@]} files formatted"
