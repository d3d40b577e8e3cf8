#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz entry: $CC, $CFLAGS, $LIB_FUZZING_ENGINE and $OUT
# come from the base image; fuzz/build.sh does the rest.
exec "$SRC/chanlab/fuzz/build.sh"
