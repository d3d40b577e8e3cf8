#!/usr/bin/env bash
# tests/crawl_demo.sh CHANLAB CRAWL_SITE — `chanlab demo crawl` against the
# generated site on loopback (crawl_site serves it; nothing here leaves
# 127.0.0.0/8): every reachable page printed exactly once and nothing else,
# every broken link reported on stderr, the depth and page limits, a byte on
# stdin cancels, bad usage exits 2 with one line.
set -euo pipefail
chanlab=$1 site=$2
work=$(mktemp -d)
trap 'exec 3>&-; rm -rf "$work"' EXIT
fail() { echo "crawl_demo: $*" >&2; exit 1; }

# The server: its URL on its first line; it ends when its stdin closes (fd 3).
start_site() {  # LATENCY_MS
  exec 3>&-
  mkfifo "$work/in.$1"
  "$site" "$1" <"$work/in.$1" >"$work/url.$1" &
  exec 3>"$work/in.$1"
  for _ in $(seq 100); do [ -s "$work/url.$1" ] && break; sleep 0.05; done
  root=$(head -1 "$work/url.$1")
  [[ $root == http://127.0.0.1:*/ ]] || fail "the site did not start"
}

start_site 0
timeout 60 "$chanlab" demo crawl "$root" </dev/null >"$work/out" 2>"$work/err" || fail "exit $? crawling $root: $(head -3 "$work/err")"
pages=$(wc -l <"$work/out")
unique=$(sort -u "$work/out" | wc -l)
[ "$pages" -eq "$unique" ] || fail "$pages lines but $unique distinct URLs"
[ "$pages" -eq 270 ] || fail "$pages pages printed, the site has 270 reachable"
grep -v "^${root}" "$work/out" && fail "printed a URL outside the site"
grep -q "^${root}p/239.html$" "$work/out" || fail "p/239.html not printed"
grep -q "secret.html" "$work/out" && fail "followed a link inside non-HTML content"
broken=$(grep -c '404 Not Found' "$work/err" || true)
[ "$broken" -eq 25 ] || fail "$broken broken links reported, want 25: $(head -3 "$work/err")"
grep -v '404 Not Found' "$work/err" && fail "unexpected errors"
echo "crawl_demo: $pages pages, each once, $broken broken links reported"

timeout 60 "$chanlab" demo crawl --depth 0 "$root" </dev/null >"$work/out" 2>/dev/null
[ "$(cat "$work/out")" = "$root" ] || fail "--depth 0 printed $(wc -l <"$work/out") lines"
timeout 60 "$chanlab" demo crawl --depth 1 "$root" </dev/null >"$work/out" 2>/dev/null
[ "$(wc -l <"$work/out")" -eq 7 ] || fail "--depth 1 printed $(wc -l <"$work/out") lines, want 7"
timeout 60 "$chanlab" demo crawl --max-pages 5 "$root" "${root}p/100.html#x" </dev/null >"$work/out" 2>/dev/null
[ "$(wc -l <"$work/out")" -eq 5 ] || fail "--max-pages 5 printed $(wc -l <"$work/out") lines"
echo "crawl_demo: --depth and --max-pages hold"

# Cancel: with 200 ms a page the whole crawl would take seconds; a byte on
# stdin ends it at once (the fetches in flight are aborted).
start_site 200
start=$(date +%s%N)
set +e
(sleep 0.5; echo x) | timeout 60 "$chanlab" demo crawl "$root" >"$work/out" 2>"$work/err"
status=$?
set -e
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$status" -eq 1 ] || fail "cancelled crawl exited $status"
grep -q 'cancelled after' "$work/err" || fail "no cancel message: $(cat "$work/err")"
[ "$ms" -lt 2500 ] || fail "cancel took $ms ms"
echo "crawl_demo: cancelled in $ms ms after $(wc -l <"$work/out") pages"

for args in "" "--depth" "--depth x $root" "--max-pages -1 $root" "--bogus $root" "ftp://127.0.0.1/" "not-a-url"; do
  set +e
  # shellcheck disable=SC2086
  timeout 30 "$chanlab" demo crawl $args </dev/null >"$work/out" 2>"$work/err"
  status=$?
  set -e
  [ "$status" -eq 2 ] || fail "'demo crawl $args' exited $status, want 2"
  [ "$(wc -l <"$work/err")" -eq 1 ] || fail "'demo crawl $args' said: $(cat "$work/err")"
done
echo "crawl_demo: bad usage exits 2 with one line"
