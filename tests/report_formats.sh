#!/usr/bin/env bash
# tests/report_formats.sh CHANLAB SOURCE_DIR — results.json and junit.xml
# against their schemas: the JSON of prove, run, replay and list validates
# against reports/results.schema.json (tests/json_schema_check.py, which
# also shows that it rejects broken documents), and prove's JUnit file has
# only what the strict JUnit schema accepts, line breaks in attributes
# escaped (tests/junit_check.py). A variant that fails on purpose
# (WRONG_RESULT with a multi-line message) is not needed: the messages of
# the catalog's own runs carry quotes, and the dump carries newlines.
set -euo pipefail
chanlab=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { local rc=0; timeout 300 "$@" || rc=$?; ((rc <= 1)) || { echo "failed ($rc): $*"; exit 1; }; }

ok "$chanlab" prove --family countdown --json "$tmp/prove.json" --junit "$tmp/junit.xml" >/dev/null
ok "$chanlab" run thumbnails.leak-on-error --json >"$tmp/run.json"
sched=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["schedule"])' "$tmp/run.json")
ok "$chanlab" replay thumbnails.leak-on-error "$sched" --json >"$tmp/replay.json"
ok "$chanlab" list --json >"$tmp/list.json"
python3 "$src/tests/json_schema_check.py" "$src/reports/results.schema.json" --self-test \
  "$tmp/prove.json" "$tmp/run.json" "$tmp/replay.json" "$tmp/list.json"
python3 "$src/tests/junit_check.py" "$tmp/junit.xml"
echo "report_formats: results.json (4 kinds) and junit.xml check"
