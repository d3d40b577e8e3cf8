#!/usr/bin/env bash
# fuzz/smoke.sh — the fuzz-smoke tests (fuzz/CMakeLists.txt).
#   smoke.sh corpus FUZZER CORPUS_DIR
#       runs FUZZER over its seed corpus and 300 inputs in all
#       (new ones go to a scratch directory, never into the source tree); a
#       crash fails. The schedule fuzzer runs a correct variant here.
#   smoke.sh finds SCHEDULE_FUZZER CHANLAB VARIANT
#       the schedule fuzzer must find VARIANT's bug within 20,000 runs, and
#       `chanlab replay VARIANT --bytes CRASH` must show the same verdict.
set -uo pipefail
work=$(mktemp -d "${TMPDIR:-/tmp}/chanlab-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "fuzz smoke: FAIL: $*" >&2; exit 1; }

case ${1:-} in
  corpus)
    fuzzer=$2 corpus=$3
    dict=${corpus%_corpus}.dict
    args=(-runs=300 -seed=1 -timeout=10 -max_total_time=40 -artifact_prefix="$work/")
    [ -f "$dict" ] && args+=(-dict="$dict")
    export CHANLAB_FUZZ_VARIANT=${CHANLAB_FUZZ_VARIANT:-thumbnails.waitgroup}
    timeout 55 "$fuzzer" "${args[@]}" "$work" "$corpus" >"$work.log" 2>&1
    rc=$?
    tail -n 5 "$work.log"
    [ $rc -eq 0 ] || { cat "$work.log" >&2; fail "$fuzzer exited $rc"; }
    grep -q "Done [0-9]* runs" "$work.log" || fail "$fuzzer did not finish its runs"
    echo "fuzz smoke: $(basename "$fuzzer"): $(grep -o 'Done [0-9]* runs' "$work.log"), no crash"
    ;;
  finds)
    fuzzer=$2 chanlab=$3 variant=$4
    cd "$work"
    CHANLAB_FUZZ_VARIANT=$variant timeout 55 "$fuzzer" -runs=20000 -seed=1 -timeout=10 \
      -max_total_time=45 >fuzz.log 2>&1
    rc=$?
    [ $rc -ne 0 ] || { tail -n 20 fuzz.log >&2; fail "no finding for $variant in 20,000 runs"; }
    crashes=(crash-*)
    crash=${crashes[0]}
    [ -e "$crash" ] || { tail -n 30 fuzz.log >&2; fail "the fuzzer stopped ($rc) without a crash file"; }
    verdict=$(sed -n 's/^schedule_fuzzer: .* observed \([A-Z_]*\) at input .*/\1/p' fuzz.log)
    [ -n "$verdict" ] || { tail -n 30 fuzz.log >&2; fail "the fuzzer crashed without a finding"; }
    runs=$(sed -n 's/^schedule_fuzzer: .* observed [A-Z_]* at input \([0-9]*\):.*/\1/p' fuzz.log)
    echo "fuzz smoke: $variant: $verdict at input ${runs:-?} ($crash)"
    "$chanlab" replay "$variant" --bytes "$crash" >replay.log 2>&1
    grep -q "verdict: *$verdict" replay.log || { cat replay.log >&2; fail "the crash file does not replay to $verdict"; }
    echo "fuzz smoke: chanlab replay $variant --bytes $crash: $verdict"
    ;;
  *) echo "usage: smoke.sh corpus FUZZER DIR | finds FUZZER CHANLAB VARIANT" >&2; exit 2 ;;
esac
