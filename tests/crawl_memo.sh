#!/usr/bin/env bash
# crawl_memo.sh CHANLAB — the simulated site's memo (patterns/crawlsite.c,
# "The memo") changes nothing a controlled run observes, only its real time:
# for crawl variants, the same runs with the memo and without it
# (CHANLAB_CRAWL_NO_MEMO=1) give the same JSON results — verdict, message,
# schedule, steps, virtual time, output, dump — once the wall times are
# dropped. Random and PCT on the full site (a buggy variant's failing
# schedule and its dump included), and the reduced exhaustive search on the
# tiny proof site (its schedule and pruned counts: the memo adds no
# dependency between steps).
set -euo pipefail
chanlab=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0
check() {   # name, run arguments...
  local name=$1; shift
  local rc_a=0 rc_b=0
  timeout 240 "$chanlab" run "$@" --json >"$out/a.json" 2>/dev/null || rc_a=$?
  CHANLAB_CRAWL_NO_MEMO=1 timeout 240 "$chanlab" run "$@" --json >"$out/b.json" 2>/dev/null || rc_b=$?
  if [ "$rc_a" -ne "$rc_b" ] || [ ! -s "$out/a.json" ]; then
    echo "crawl_memo: $name: exit $rc_a with the memo, $rc_b without"; fail=1; return
  fi
  if ! python3 - "$out/a.json" "$out/b.json" "$name" <<'PY'
import json, sys
def load(p):
    r = json.load(open(p))["results"]
    for o in r:
        o.pop("seconds", None)
        if o.get("proof"):
            o["proof"].pop("seconds", None); o["proof"].pop("wall", None)
    return r
a, b = load(sys.argv[1]), load(sys.argv[2])
if a != b:
    print("crawl_memo: %s: the memo changed what the run observed" % sys.argv[3])
    print(" with:    %s" % json.dumps(a)[:1500])
    print(" without: %s" % json.dumps(b)[:1500])
    sys.exit(1)
o = a[0]
print("crawl_memo: %s: same with and without the memo: %s, %s schedules, %s steps, %s" %
      (sys.argv[3], o["observed"], o["schedules_run"], o["steps"], o["message"][:80]))
PY
  then fail=1; fi
}
check "semaphore random"        crawl.semaphore --mode controlled --schedules 12
check "semaphore pct"           crawl.semaphore --mode controlled --strategy pct --schedules 12
check "workers-terminating"     crawl.workers-terminating --mode controlled --schedules 12
check "token-leak-on-error"     crawl.token-leak-on-error --mode controlled --schedules 50
check "unbounded"               crawl.unbounded --mode controlled --schedules 5
check "semaphore exhaustive"    crawl.semaphore --mode controlled --strategy exhaustive --proof-workload --schedules 2000
exit $fail
