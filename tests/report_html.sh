#!/usr/bin/env bash
# tests/report_html.sh CHANLAB SOURCE_DIR — the HTML report and its traces:
# `chanlab run ID --html` in both modes and `chanlab prove --family countdown
# --html` write folders that tests/report_check.py accepts (Chrome
# trace-event format: required fields, B/E balanced per track, flow ids
# matched; a row and a page per observation; one timeline lane per task;
# nothing outside the folder), with the rows expected.
set -euo pipefail
chanlab=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Exit status 0 or 1 (as expected or not) are both reports; 2 is misuse.
run() { local rc=0; timeout 300 "$@" >"$tmp/out" 2>&1 || rc=$?; ((rc <= 1)) || { cat "$tmp/out"; exit 1; }; }

run "$chanlab" run thumbnails.leak-on-error --mode controlled --html "$tmp/c"
python3 "$src/tests/report_check.py" "$tmp/c" --expect thumbnails.leak-on-error.controlled
grep -q 'class="blocked open"' "$tmp/c/thumbnails.leak-on-error.controlled.html" ||
  { echo "no task still blocked at the verdict in the leak's timeline"; exit 1; }
grep -q 'chan send &quot;errors&quot;' "$tmp/c/thumbnails.leak-on-error.controlled.html" ||
  { echo "the leak's timeline does not say what the workers wait on"; exit 1; }
grep -q 'class="handoff"' "$tmp/c/thumbnails.leak-on-error.controlled.html" ||
  { echo "no hand-off arrow in the leak's timeline"; exit 1; }
grep -q 'make_thumbnails5' "$tmp/c/thumbnails.leak-on-error.controlled.html" ||
  { echo "the page does not show the fix beside the bug"; exit 1; }

run "$chanlab" run thumbnails.leak-on-error --mode free --html "$tmp/f"
python3 "$src/tests/report_check.py" "$tmp/f" --expect thumbnails.leak-on-error.free

run "$chanlab" prove --family countdown --html "$tmp/p"
mapfile -t want < <("$chanlab" list --family countdown --json |
  python3 -c 'import json,sys
for v in json.load(sys.stdin)["variants"]:
    for m in sorted(v["expected"]): print(v["id"] + "." + m)')
((${#want[@]} > 0)) || { echo "chanlab list --family countdown listed nothing"; exit 1; }
python3 "$src/tests/report_check.py" "$tmp/p" --expect "${want[@]}"
echo "report_html: ${#want[@]} observations, their pages and traces check"
