#!/usr/bin/env bash
# tests/exec/plain_runs.sh — the exec suite's programs without chanlab, under
# the normal OS scheduler: every fixed form must pass N plain runs (exit 0, the
# same output every time); every buggy form is run M times plain and M times
# under yield_shim.so (random yields and sleeps at every lock call), and how
# often its bug showed is counted. Exit 0 when every fixed run passed; the
# buggy counts are information (a bug that needs a controlled scheduler may
# show rarely or never here).
#
#   tests/exec/plain_runs.sh [--fixed-runs N] [--buggy-runs M] [--cc CC] [--tsan]
#
# --tsan also builds every program with clang -fsanitize=thread and runs each
# form once, printing whether ThreadSanitizer reported anything.
# Every run is under `timeout` (a deadlocked run counts as DEADLOCK/HANG).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fixed_runs=200 buggy_runs=100 cc=${CC:-cc} tsan=0
while [ $# -gt 0 ]; do
  case $1 in
    --fixed-runs) [[ ${2:-} =~ ^[0-9]{1,5}$ ]] || { echo "plain_runs.sh: --fixed-runs takes 0..99999" >&2; exit 2; }; fixed_runs=$2; shift ;;
    --buggy-runs) [[ ${2:-} =~ ^[0-9]{1,5}$ ]] || { echo "plain_runs.sh: --buggy-runs takes 0..99999" >&2; exit 2; }; buggy_runs=$2; shift ;;
    --cc) [ -n "${2:-}" ] || { echo "plain_runs.sh: --cc takes a compiler" >&2; exit 2; }; cc=$2; shift ;;
    --tsan) tsan=1 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "plain_runs.sh: unknown argument '$1' (accepted: --fixed-runs N, --buggy-runs M, --cc CC, --tsan)" >&2; exit 2 ;;
  esac
  shift
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(-O2 -g -Wall -Wextra -Werror -pthread)

"$cc" -shared -fPIC -O2 -Wall -Wextra -Werror -o "$work/yield_shim.so" "$here/yield_shim.c" -ldl || exit 1
progs=()
for src in "$here"/programs/*.c; do
  p=$(basename "$src" .c)
  progs+=("$p")
  "$cc" "${flags[@]}" -o "$work/$p.buggy" "$src" || exit 1
  "$cc" "${flags[@]}" -DFIXED -o "$work/$p.fixed" "$src" || exit 1
done

# Runs COMMAND with its output in $work/out and $work/err, in a subshell so
# that a run killed by a signal is not announced on the terminal.
quiet() { ("$@" >"$work/out" 2>"$work/err"; exit $?) 2>/dev/null; }

# A buggy run still going after this long is counted as HANG (a correct run
# takes milliseconds).
hang_after=0.5

# What one run showed: PASS, or the kind of failure.
classify() {  # rc stderr-file
  local rc=$1 err=$2
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo HANG
  elif [ "$rc" -gt 128 ]; then echo "CRASH(sig$((rc - 128)))"
  elif [ "$rc" -ne 0 ]; then echo "WRONG_RESULT(exit$rc)"
  elif grep -q 'threads alive at exit' "$err"; then echo LEAK
  else echo PASS; fi
}

status=0
for p in "${progs[@]}"; do
  # Fixed form: N plain runs, exit 0 and one output.
  fails=0 outputs=0
  for ((i = 0; i < fixed_runs; i++)); do
    quiet timeout -k 1 30 "$work/$p.fixed"; rc=$?
    if [ "$rc" -ne 0 ] || [ -s "$work/err" ]; then fails=$((fails + 1)); continue; fi
    if [ "$i" -eq 0 ]; then cp "$work/out" "$work/out.first"
    elif ! cmp -s "$work/out" "$work/out.first"; then outputs=$((outputs + 1)); fi
  done
  # and under the shim, where a leak at exit would also be seen.
  shim_fails=0
  for ((i = 0; i < fixed_runs; i++)); do
    YIELD_SHIM_SEED=$i LD_PRELOAD="$work/yield_shim.so" quiet timeout -k 1 30 "$work/$p.fixed"; rc=$?
    got=$(classify "$rc" "$work/err")
    [ "$got" = PASS ] && ! cmp -s "$work/out" "$work/out.first" && got="another output"
    if [ "$got" != PASS ]; then
      shim_fails=$((shim_fails + 1))
      # what it was, so that a rare failure can be looked into
      echo "  $p fixed, YIELD_SHIM_SEED=$i under the shim: $got (exit $rc): $(head -c 200 "$work/err" | head -1)"
    fi
  done
  verdict=ok
  ((fails + outputs + shim_fails)) && { verdict=FAILED; status=1; }
  printf '%-16s fixed: %d/%d plain runs pass (%d other outputs), %d/%d under the shim  %s\n' \
    "$p" $((fixed_runs - fails)) "$fixed_runs" "$outputs" $((fixed_runs - shim_fails)) "$fixed_runs" "$verdict"

  # Buggy form: M plain runs and M under the shim; count what showed.
  for mode in plain shim; do
    ((buggy_runs)) || break
    declare -A seen=()
    for ((i = 0; i < buggy_runs; i++)); do
      if [ $mode = shim ]; then
        YIELD_SHIM_SEED=$i LD_PRELOAD="$work/yield_shim.so" quiet timeout -k 1 "$hang_after" "$work/$p.buggy"; rc=$?
      else
        quiet timeout -k 1 "$hang_after" "$work/$p.buggy"; rc=$?
      fi
      v=$(classify "$rc" "$work/err")
      seen[$v]=$(( ${seen[$v]:-0} + 1 ))
    done
    summary=""
    for v in "${!seen[@]}"; do summary+=" $v=${seen[$v]}"; done
    printf '%-16s buggy, %-5s %d runs:%s\n' "$p" "$mode" "$buggy_runs" "$summary"
    unset seen
  done
done

if [ $tsan -eq 1 ]; then
  for p in "${progs[@]}"; do
    for form in buggy fixed; do
      d=(); [ $form = fixed ] && d=(-DFIXED)
      clang -fsanitize=thread "${flags[@]}" "${d[@]}" -o "$work/$p.$form.tsan" "$here/programs/$p.c" || exit 1
      TSAN_OPTIONS=halt_on_error=0 quiet timeout -k 1 5 "$work/$p.$form.tsan"; rc=$?
      reports=$(grep -c '^WARNING: ThreadSanitizer' "$work/err")
      kinds=$(grep -o '^WARNING: ThreadSanitizer: [a-z -]*' "$work/err" | sed 's/.*: //' | sort | uniq -c | tr -s ' ' | paste -sd, -)
      printf '%-16s %-5s tsan: exit %d, %d reports%s\n' "$p" "$form" "$rc" "$reports" "${kinds:+ ($kinds)}"
    done
  done
fi
exit $status
