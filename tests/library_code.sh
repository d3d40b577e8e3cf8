#!/usr/bin/env bash
# tests/library_code.sh BUILD_DIR — every function of the runtime and the
# harness libraries lies in the section chanlab_text, which is how dumps tell
# chanlab's frames from the program's (by address, never by name: CSP_RT,
# HARNESS_CODE / HARNESS_QUIET; symbolize.c). A function added without its
# attribute would show in every dump as if it were the user's; this test
# names it. Compiler-made functions (a sanitizer's module constructor, named
# with a dot) are not chanlab's code and never on a task's stack.
set -euo pipefail
build=$1
bad=0 n=0
for lib in "$build/runtime/libcsp.a" "$build/harness/libharness.a"; do
  [ -f "$lib" ] || { echo "library_code: $lib is not built" >&2; exit 1; }
  while read -r sect name; do
    n=$((n + 1))
    if [ "$sect" != chanlab_text ]; then
      echo "library_code: $name (${lib##*/}) is in $sect, not chanlab_text: mark it CSP_RT, HARNESS_CODE or HARNESS_QUIET"
      bad=1
    fi
  done < <(objdump -t "$lib" | awk '$3 == "F" { print $4, $6 } $2 == "F" { print $3, $5 }' | grep -v ' .*\.')
done
[ "$n" -gt 100 ] || { echo "library_code: only $n functions found; is objdump's output what this test reads?" >&2; exit 1; }
[ $bad = 0 ] && echo "library_code: all $n functions of libcsp.a and libharness.a are in chanlab_text"
exit $bad
