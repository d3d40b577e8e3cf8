#!/usr/bin/env bash
# fuzz/build_test.sh — the `fuzz_build` test: fuzz/build.sh run the OSS-Fuzz
# way with libFuzzer (no sanitizer, to keep the build short), into a scratch
# $OUT: every fuzzer is there with its seed corpus zip (and dictionary), one
# schedule fuzzer per correct variant, and each built fuzzer runs its
# unzipped corpus.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/chanlab-oss-fuzz.XXXXXX")
trap 'rm -rf "$out"' EXIT
fail() { echo "fuzz_build: FAIL: $*" >&2; exit 1; }
CC=clang CFLAGS="-fsanitize=fuzzer-no-link -g -O1" LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=$out \
  WORK=$out/.build timeout 600 "$src/fuzz/build.sh" >"$out/build.log" 2>&1 ||
  { tail -n 30 "$out/build.log" >&2; fail "fuzz/build.sh failed"; }
for f in "$src"/fuzz/*_fuzzer.c; do
  name=$(basename "$f" .c)
  [ -x "$out/$name" ] || fail "$name was not built into \$OUT"
  [ -f "$out/${name}_seed_corpus.zip" ] || fail "no ${name}_seed_corpus.zip"
  [ ! -f "$src/fuzz/$name.dict" ] || [ -f "$out/$name.dict" ] || fail "no $name.dict"
  mkdir -p "$out/corpus/$name"
  unzip -q -o "$out/${name}_seed_corpus.zip" -d "$out/corpus/$name"
  CHANLAB_FUZZ_VARIANT=thumbnails.waitgroup timeout 60 "$out/$name" -runs=50 -artifact_prefix="$out/" \
    "$out/corpus/$name" >"$out/$name.log" 2>&1 || { tail -n 20 "$out/$name.log" >&2; fail "$name failed on its corpus"; }
  echo "fuzz_build: $name: $(grep -o 'Done [0-9]* runs' "$out/$name.log")"
done
copies=("$out"/schedule_fuzzer_*_seed_corpus.zip)
[ ${#copies[@]} -ge 5 ] || fail "only ${#copies[@]} per-variant schedule fuzzers"
one=$(ls "$out" | grep -E '^schedule_fuzzer_[a-z0-9]+_[a-z0-9-]+$' | sort | sed -n 1p)
[ -n "$one" ] || fail "no per-variant schedule fuzzer"
(cd "$out" && timeout 60 "./$one" -runs=20 "$out/corpus/schedule_fuzzer" >"$out/one.log" 2>&1) ||
  { tail -n 20 "$out/one.log" >&2; fail "$one failed"; }
grep -q "schedule_fuzzer: ${one#schedule_fuzzer_}" "$out/one.log" ||
  grep -q "schedule_fuzzer: $(echo "${one#schedule_fuzzer_}" | sed 's/_/./')," "$out/one.log" ||
  { cat "$out/one.log" >&2; fail "$one did not fuzz the variant its name names"; }
echo "fuzz_build: ${#copies[@]} per-variant schedule fuzzers, e.g. $one"
echo "fuzz_build: PASS"
