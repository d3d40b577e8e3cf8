#!/bin/bash
# check.sh CHANLAB PROGDIR CASE — one check of `chanlab exec` (tests/exec_core.cmake).
# Each case runs chanlab exec on a program of this folder and checks the exit
# status and what the report says. Every run is bounded by timeout(1).
set -u
chanlab=$1 dir=$2 case=$3
out=$(mktemp) ; trap 'rm -f "$out" "$out.2"' EXIT
fail() { echo "FAIL ($case): $*"; echo "--- output"; cat "$out"; exit 1; }
run() {  # run EXPECTED_STATUS ARGS...
    local want=$1; shift
    timeout 120 "$chanlab" exec "$@" >"$out" 2>&1
    local rc=$?
    [ "$rc" = "$want" ] || fail "exit status $rc, expected $want: chanlab exec $*"
}
expect() { grep -qE -- "$1" "$out" || fail "no match for /$1/"; }
case $case in
lock_order)
    run 1 --strategy pct --schedules 1000 -- "$dir/lock_order"
    expect '^DEADLOCK: every thread is blocked'
    expect 'thread 2 \(ab\) in pthread_mutex_lock mutex 0x[0-9a-f]+ <b> \(locked by thread 3\)'
    expect 'thread 3 "second" \(ba\) in pthread_mutex_lock mutex 0x[0-9a-f]+ <a> \(locked by thread 2\)'
    expect '^    ab at .*lock_order.c:[0-9]+'
    expect '^created by main at .*lock_order.c:[0-9]+ in thread 1'
    ;;
replay)
    # The failing schedule replays with the same dump (random and exhaustive).
    for s in random exhaustive; do
        run 1 --strategy $s --schedules 1000 -- "$dir/lock_order"
        cmd=$(sed -n 's/^replay: chanlab exec //p' "$out")
        [ -n "$cmd" ] || fail "no replay line"
        sed -n '/^thread /,$p' "$out" >"$out.2"
        eval "set -- $cmd"
        [ "$1" = --replay ] || fail "replay line: $cmd"
        run 1 --replay "$2" -- "$dir/lock_order"
        sed -n '/^thread /,$p' "$out" | diff - "$out.2" >/dev/null || fail "replay's dump differs"
        expect '^DEADLOCK'
    done
    ;;
depth)
    # The search is the same however many schedules run at once (CPUs).
    CHANLAB_EXEC_DEPTH=1 run 1 --schedules 1000 -- "$dir/lock_order"
    one=$(grep '^replay:' "$out")
    CHANLAB_EXEC_DEPTH=4 run 1 --schedules 1000 -- "$dir/lock_order"
    [ "$one" = "$(grep '^replay:' "$out")" ] || fail "depth 1 found '$one', depth 4 another"
    ;;
lock_fixed)
    for s in pct random; do
        run 0 --strategy $s --schedules 1000 -- "$dir/lock_fixed"
        expect '^PASS: no bug in 1000 schedules'
    done
    ;;
primitives)
    for s in pct random exhaustive; do
        run 0 --strategy $s --schedules 300 -- "$dir/primitives"
        expect '^PASS: no bug in'
    done
    ;;
lost_wakeup)
    run 1 --schedules 1000 -- "$dir/lost_wakeup"
    expect '^DEADLOCK: .*thread 2 \(waiter\) in pthread_cond_wait cond 0x[0-9a-f]+ <c>'
    expect '^    waiter at .*lost_wakeup.c:[0-9]+'
    ;;
verdicts)
    run 1 --schedules 1000 -- "$dir/verdicts" leak
    expect '^LEAK: 1 thread still alive when the program exited: thread 2 \(blocked_forever\)'
    run 1 --schedules 1000 -- "$dir/verdicts" assert
    expect "^CRASH: Aborted: .*Assertion \`balance == 80' failed"
    expect '^    main at .*verdicts.c:[0-9]+'
    run 1 --schedules 1000 -- "$dir/verdicts" exit
    expect '^WRONG_RESULT: exit status 3'
    run 1 --schedules 1000 --timeout 1s -- "$dir/verdicts" spin
    expect '^HANG: thread 2 \(spinner\) ran past'
    expect '^    spinner at .*verdicts.c:[0-9]+'
    run 1 --schedules 10 -- "$dir/verdicts" yield
    expect '^HANG: more than 200000 scheduling points'
    expect '^    yielder at'
    run 1 --schedules 1000 -- "$dir/verdicts" order
    expect '^NONDETERMINISTIC: the output of schedule [0-9]+ differs'
    ;;
stdin)
    seq 100 >"$out.in"
    timeout 120 "$chanlab" exec --schedules 200 -- "$dir/stdin_lines" <"$out.in" >"$out" 2>&1 ||
        fail "exit status $?: every schedule must read all 100 lines"
    expect '^PASS: no bug in 200 schedules'
    rm -f "$out.in"
    ;;
free)
    run 0 --schedules 5 -- "$dir/forks"
    expect '^PASS: no bug in the free runs'
    expect '^note: free mode: the program calls fork'
    ;;
json)
    run 1 --json --schedules 1000 -- "$dir/lock_order"
    python3 - "$out" <<'PY' || fail "JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"] == "DEADLOCK" and d["mode"] == "controlled", d
assert d["schedule"].startswith("v1:pct:") and d["decisions"].startswith("v1:x:"), d
assert "locked by thread" in d["message"] and "created by main" in d["dump"], d
assert d["schedules_run"] >= 1 and d["exhausted"] is False and d["output"] == "", d
assert [t["id"] for t in d["threads"]] == [1, 2, 3], d
PY
    run 0 --json --strategy exhaustive --schedules 100000 -- "$dir/lost_wakeup_fixed"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["verdict"]=="PASS" and d["exhausted"] is True, d' "$out" || fail "not exhausted"
    ;;
tsan)
    # A -fsanitize=thread build: TSan's data race is RACE with its report;
    # the correct program has none under any schedule (the scheduler's
    # hand-offs order nothing TSan can see); a lost wake-up stays a DEADLOCK.
    run 1 --schedules 100 -- "$dir/verdicts_tsan" race
    expect '^RACE: SUMMARY: ThreadSanitizer: data race .*verdicts.c:[0-9]+'
    expect '^WARNING: ThreadSanitizer: data race'
    run 0 --schedules 300 -- "$dir/lock_fixed_tsan"
    expect '^PASS'
    run 1 --schedules 300 -- "$dir/lost_wakeup_tsan"
    expect '^DEADLOCK: .*thread 2 \(waiter\) in pthread_cond_wait'
    ;;
asan)
    run 1 --schedules 1000 -- "$dir/lock_order_asan"
    expect '^DEADLOCK: .*thread 2 \(ab\) in pthread_mutex_lock mutex 0x[0-9a-f]+.*\(locked by thread 3\)'
    expect '^    ab at .*lock_order.c:[0-9]+'
    run 0 --schedules 300 -- "$dir/primitives_asan"
    ;;
usage)
    for args in "" "--strategy bogus -- $dir/lock_order" "--schedules 0 -- true" "--timeout x -- true" \
                "-- /nonexistent/program" "--replay nope -- true" "--frobnicate -- true"; do
        timeout 20 "$chanlab" exec $args >"$out" 2>&1
        rc=$?
        [ "$rc" = 2 ] || fail "exit status $rc for '$args', expected 2"
        [ "$(wc -l <"$out")" = 1 ] || fail "not one line for '$args'"
    done
    if [ -x "$dir/static_prog" ]; then
        run 2 -- "$dir/static_prog"
        expect 'statically linked'
    fi
    ;;
*) echo "unknown case $case"; exit 2 ;;
esac
echo "ok ($case)"
