#!/bin/bash -eu
# fuzz/build.sh — builds every fuzzer of fuzz/ the OSS-Fuzz way: compiled with
# $CC $CFLAGS, linked with $LIB_FUZZING_ENGINE, written to $OUT with its seed
# corpus as $OUT/NAME_seed_corpus.zip and its dictionary as $OUT/NAME.dict.
# OSS-Fuzz and ClusterFuzzLite (.clusterfuzzlite/build.sh) call it as is; by
# hand, with libFuzzer and ASan+UBSan:
#
#   CC=clang CFLAGS="-fsanitize=address,undefined,fuzzer-no-link -g" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/fuzz-out fuzz/build.sh
#
# WORK (default: a folder under $OUT) holds the CMake build. The schedule
# fuzzer takes its variant from CHANLAB_FUZZ_VARIANT at run time; one build
# serves every variant. Needs cmake, ninja or make, and zip.
src=$(cd "$(dirname "$0")/.." && pwd)
for v in CC OUT; do
  [ -n "${!v:-}" ] || { echo "fuzz/build.sh: $v is not set (accepted: CC=clang, OUT=a directory for the fuzzers; see the top of this file)" >&2; exit 2; }
done
: "${CFLAGS:=}" "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
WORK=${WORK:-$OUT/.chanlab-build}
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
mkdir -p "$OUT" "$WORK"
cmake -S "$src" -B "$WORK" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" -DCHANLAB_FUZZ=ON \
      -DCHANLAB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" -DCHANLAB_WERROR=OFF -DBUILD_TESTING=OFF >/dev/null
cmake --build "$WORK" --target fuzzers
for f in "$src"/fuzz/*_fuzzer.c; do
  name=$(basename "$f" .c)
  cp "$WORK/fuzz/$name" "$OUT/$name"
  if [ -d "$src/fuzz/${name}_corpus" ]; then
    rm -f "$OUT/${name}_seed_corpus.zip"
    (cd "$src/fuzz/${name}_corpus" && zip -q -j "$OUT/${name}_seed_corpus.zip" ./*)
  fi
  [ -f "$src/fuzz/$name.dict" ] && cp "$src/fuzz/$name.dict" "$OUT/$name.dict"
  echo "fuzz/build.sh: $OUT/$name"
done
# The schedule fuzzer once per correct variant (OSS-Fuzz gives a fuzzer no
# environment; the copy's name names the variant): a finding there is a bug
# of chanlab's. Buggy variants are fuzzed locally with CHANLAB_FUZZ_VARIANT.
for id in $(CHANLAB_FUZZ_LIST=1 "$OUT/schedule_fuzzer"); do
  copy=schedule_fuzzer_${id/./_}
  cp "$OUT/schedule_fuzzer" "$OUT/$copy"
  cp "$OUT/schedule_fuzzer_seed_corpus.zip" "$OUT/${copy}_seed_corpus.zip"
  echo "fuzz/build.sh: $OUT/$copy"
done
