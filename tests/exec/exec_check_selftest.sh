#!/usr/bin/env bash
# tests/exec/exec_check_selftest.sh — exec_check.py against a stand-in for
# `chanlab exec` (a script printing results.json the way FAKE_* says), so the
# checker is tested before the real command exists: each case must end with
# the exit status written beside it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/chanlab" <<'FAKE'
#!/bin/sh
# The program's own output first (it may share stdout), then the result.
echo "program output"
v=$FAKE_VERDICT
case " $* " in *" --replay "*) v=${FAKE_REPLAY_VERDICT:-$FAKE_VERDICT} ;; esac
printf '{"tool": "chanlab", "schema_version": 1, "kind": "run", "results": [{"observed": "%s", "schedule": "v1:pct:seed=1:run=7", "schedules_run": %s, "exhausted": %s, "message": "%s", "dump": null, "output": null}]}\n' \
  "$v" "${FAKE_RAN:-1000}" "${FAKE_EXHAUSTED:-false}" "${FAKE_MESSAGE:-}"
[ "$v" = PASS ]
FAKE
chmod +x "$work/chanlab"
fails=0
case_() {  # WANT-STATUS ENV... -- CHECK ARGS...
  local want=$1; shift
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" python3 "$here/exec_check.py" "$work/chanlab" "$@" >"$work/out" 2>&1
  local got=$?
  if [ $got -ne "$want" ]; then
    echo "FAIL (exit $got, expected $want): ${envs[*]} exec_check.py $*"; sed 's/^/  /' "$work/out"
    fails=$((fails + 1))
  fi
}
case_ 0 FAKE_VERDICT=DEADLOCK FAKE_MESSAGE="pthread_mutex_lock on mutex 0x1" -- DEADLOCK --check-replay --check-evidence pthread_mutex_lock --schedules 1000 -- /bin/true
case_ 1 FAKE_VERDICT=DEADLOCK FAKE_REPLAY_VERDICT=PASS -- DEADLOCK --check-replay --schedules 1000 -- /bin/true
case_ 1 FAKE_VERDICT=DEADLOCK -- DEADLOCK --check-evidence pthread_cond_wait -- /bin/true
case_ 1 FAKE_VERDICT=LEAK -- CRASH -- /bin/true
case_ 1 FAKE_VERDICT=PASS -- CRASH -- /bin/true
case_ 0 FAKE_VERDICT=PASS -- PASS --strategy pct --schedules 1000 -- /bin/true
case_ 1 FAKE_VERDICT=PASS FAKE_RAN=10 -- PASS --strategy pct --schedules 1000 -- /bin/true
case_ 0 FAKE_VERDICT=PASS FAKE_RAN=10 FAKE_EXHAUSTED=true -- PASS --check-exhausted --strategy exhaustive --schedules 1000 -- /bin/true
case_ 1 FAKE_VERDICT=PASS -- PASS --check-exhausted --strategy exhaustive --schedules 100000 -- /bin/true
case_ 1 FAKE_VERDICT=RACE -- PASS -- /bin/true
case_ 2 FAKE_VERDICT=PASS -- BOGUS -- /bin/true
case_ 2 FAKE_VERDICT=PASS -- PASS --schedules 10
case_ 2 FAKE_VERDICT=PASS -- PASS --check-replay -- /bin/true
[ $fails -eq 0 ] && echo "exec_check_selftest: all cases as expected"
exit $((fails > 0))
