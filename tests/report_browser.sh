#!/usr/bin/env bash
# tests/report_browser.sh CHANLAB SOURCE_DIR OUT_DIR — the HTML report in a
# real browser: headless Chromium (Debian's chromium, which ./quickstart
# installs) loads `chanlab prove --family thumbnails --html`'s index and
# thumbnails.leak-on-error's page, offline (no network: background
# networking off, every host unresolvable). Checks the DOM the browser built
# — a row for every variant and mode, each timeline one lane per task — and
# that the console stayed free of errors; saves screenshots of both pages in
# OUT_DIR (index.png, thumbnails.leak-on-error.png). Skipped (77) when
# chromium is not installed.
set -euo pipefail
chanlab=$1 src=$2 out=$3
browser=$(command -v chromium || true)
[ -n "$browser" ] || { echo "chromium is not installed (./quickstart test installs it): skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

rc=0
timeout 600 "$chanlab" prove --family thumbnails --html "$tmp/report" >"$tmp/prove.out" 2>&1 || rc=$?
((rc <= 1)) || { cat "$tmp/prove.out"; exit 1; }
index=$tmp/report/index.html
page=$tmp/report/thumbnails.leak-on-error.controlled.html
[ -f "$page" ] || { echo "no page for thumbnails.leak-on-error (controlled)"; exit 1; }

n=0
chrome() {  # chrome LOG ARGS... — one fresh profile per launch
  local log=$1; shift
  n=$((n + 1))
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --user-data-dir="$tmp/profile$n" \
    --host-resolver-rules="MAP * ~NOTFOUND" --enable-logging=stderr --v=0 "$@" 2>"$log"
}
chrome "$tmp/index.log" --dump-dom "file://$index" >"$tmp/index.dom"
chrome "$tmp/page.log" --dump-dom "file://$page" >"$tmp/page.dom"
chrome "$tmp/shot1.log" --window-size=1280,900 --screenshot="$out/index.png" "file://$index" >/dev/null
chrome "$tmp/shot2.log" --window-size=1280,1100 --screenshot="$out/thumbnails.leak-on-error.png" \
  "file://$page" >/dev/null
for f in index.png thumbnails.leak-on-error.png; do
  [ -s "$out/$f" ] || { echo "no screenshot $f"; exit 1; }
done

# Console errors: an uncaught error, a resource that failed to load, any
# console message at all (the pages have no script to log one).
if grep -hE 'CONSOLE|Uncaught|Failed to load resource|ERR_NAME_NOT_RESOLVED' \
     "$tmp/index.log" "$tmp/page.log"; then
  echo "the browser's console was not clean"
  exit 1
fi

"$chanlab" list --family thumbnails --json >"$tmp/list.json"
python3 - "$src/tests" "$tmp/index.dom" "$tmp/page.dom" "$tmp/list.json" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
import report_check as rc
index, page = rc.Page(), rc.Page()
index.feed(open(sys.argv[2], encoding="utf-8").read())
page.feed(open(sys.argv[3], encoding="utf-8").read())
want = [v["id"] + "." + m for v in json.load(open(sys.argv[4]))["variants"] for m in v["expected"]]
bad = [w for w in want if w not in index.rows]
if not want or bad:
    sys.exit(f"rows missing from the index the browser built: {bad or 'all'}")
if len(page.svgs) != 1 or page.svgs[0] < 2 or page.svgs[0] != page.lanes[0]:
    sys.exit(f"leak-on-error's timeline: declares {page.svgs} tasks, draws {page.lanes} lanes")
print(f"report_browser: {len(want)} rows; the leak's timeline has {page.lanes[0]} lanes, one per task")
PY
