#!/usr/bin/env bash
# tests/explain_all.sh CHANLAB — `chanlab explain ID` teaches the bug: for
# every buggy variant of the catalog (one that expects a verdict other than
# PASS in some mode, as `chanlab list --json` says), the explanation shows at
# least one line marked BUG(...). A family added later cannot regress it.
set -euo pipefail
chanlab=$1
json=$("$chanlab" list --json)
mapfile -t buggy < <(printf '%s\n' "$json" | awk '
  /"id": "/ { id = $0; sub(/.*"id": "/, "", id); sub(/".*/, "", id) }
  /"expected": / { e = $0; sub(/.*"expected": /, "", e); gsub(/"(free|controlled)":/, "", e)
                   if (e ~ /"[A-Z_]+"/ && e ~ /"(LEAK|DEADLOCK|HANG|PANIC|RACE|WRONG_RESULT|NONDETERMINISTIC|RESOURCE|SLOW|CRASH)"/) print id }')
total=$(printf '%s\n' "$json" | grep -c '"id": "' || true)
if [ "${#buggy[@]}" -lt 10 ]; then
  echo "explain_all: only ${#buggy[@]} buggy variants of $total found in 'chanlab list --json'" >&2
  exit 1
fi
missing=()
for id in "${buggy[@]}"; do
  out=$("$chanlab" explain "$id" 2>&1) || { missing+=("$id (explain failed)"); continue; }
  grep -q 'BUG(' <<<"$out" || missing+=("$id")
done
if ((${#missing[@]})); then
  echo "explain_all: no BUG(...) line in the explanation of: ${missing[*]}"
  exit 1
fi
echo "explain_all: all ${#buggy[@]} buggy variants (of $total) show their BUG(...) lines"
