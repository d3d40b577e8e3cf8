#!/usr/bin/env bash
# readme_examples.sh SOURCE_DIR BUILD_DIR C_FLAGS — the `readme_examples` test.
#
# The README's examples are what they say: the runtime example ("Using the
# runtime") and the cmocka example ("The harness in your cmocka tests") are
# cut out of README.md, built with the README's own commands (in a scratch
# directory laid out like a clone, build/default being BUILD_DIR) and run;
# the runtime example must print 0 1 2, and the cmocka example must print
# the output the README shows, line for line, up to what varies by nature
# (how many ms a task has waited, which of two identical workers is left).
#
# Exit 0 pass, 1 fail, 77 skipped (a sanitizer build: the README's plain
# `cc` does not link the sanitizer's runtime).
set -euo pipefail
src=$1 build=$2 cflags=${3:-}
case " $cflags " in
  *-fsanitize*) echo "readme_examples: skipped, this build is sanitizer-instrumented ($cflags)"; exit 77 ;;
esac
fail() { echo "readme_examples: FAIL: $*" >&2; exit 1; }

# block START_REGEX LANG: the first ```LANG block after a line matching START_REGEX.
block() {
  awk -v start="$1" -v lang="$2" '
    !s && $0 ~ start { s = 1; next }
    s && !f && $0 == "```" lang { f = 1; next }
    f && $0 == "```" { exit }
    f { print }' "$src/README.md"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/chanlab-readme.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/build" "$work/runtime" "$work/harness"
ln -s "$build" "$work/build/default"
ln -s "$src/runtime/include" "$work/runtime/include"
ln -s "$src/harness/include" "$work/harness/include"
cd "$work"

# 1. The runtime example.
block '^## Using the runtime' c >prog.c
[ -s prog.c ] || fail "no C block under '## Using the runtime'"
cmd=$(block '^## Using the runtime' sh)
bash -euo pipefail -c "$cmd" || fail "the README's command for prog.c failed: $cmd"
[ -x a.out ] || fail "the README's command for prog.c made no a.out"
out=$(timeout 30 ./a.out) || fail "prog.c's program failed"
[ "$out" = $'0\n1\n2' ] || fail "prog.c printed '$out', not 0 1 2"
echo "readme_examples: the runtime example prints 0 1 2"

# 2. The cmocka example, its build command and the output the README shows.
block 'A complete test file, `example_test.c`' c >example_test.c
[ -s example_test.c ] || fail "no example_test.c block in the README"
cmd=$(block '^Build it against the tree' sh)
# Its last line runs the test, which fails (a leak): run the build part,
# then the test on its own for its output, as a terminal shows it (stdout
# line-buffered, so cmocka's stdout and stderr interleave as they do there).
[ "$(tail -n1 <<<"$cmd")" = "./example_test" ] || fail "the README's block for example_test.c does not end by running ./example_test"
bash -euo pipefail -c "$(sed '$d' <<<"$cmd")" || fail "the README's command for example_test.c failed: $cmd"
set +e
timeout 60 stdbuf -oL -eL ./example_test >actual.txt 2>&1
status=$?
set -e
[ "$status" -ne 0 ] || fail "example_test passed; the README says it fails with a LEAK"
block '^It fails with this' '' >expected.txt
[ -s expected.txt ] || fail "no output block after 'It fails with this'"
# What varies by nature: how long the task has waited, which of the two
# identical workers is left (its task id, and which csp_go made it), and
# where the file lies (the README says /home/you/example).
normalize() {
  sed -E -e "s|$work/|/home/you/example/|g" -e 's/, [0-9]+ ms\]/, N ms]/' \
         -e 's/^task [0-9]+ "worker"/task N "worker"/' -e 's/example_test\.c:1[67]\)?$/example_test.c:16or17/' "$1"
}
if ! diff <(normalize expected.txt) <(normalize actual.txt) >&2; then
  fail "example_test's output is not the README's (diff above: < README, > actual)"
fi
echo "readme_examples: example_test prints the README's output ($(wc -l <actual.txt) lines)"
echo "readme_examples: PASS"
