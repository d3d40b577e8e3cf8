#!/usr/bin/env bash
# install_test.sh SOURCE_DIR BUILD_DIR VERSION C_FLAGS — the `install` test.
#
# Runs the commands of the README's "Use chanlab in your project" section, as
# a user would from a clone after `./quickstart prove`: in a scratch directory
# whose build/default is BUILD_DIR and whose examples/ is the clone's, so that
# every file they write (the prefix build/install, build/pipeline, ...) lands
# in the scratch directory. The commands are written out below and must be
# the README's block verbatim; then what they installed is checked: the
# files, `chanlab --version`, every header compiling on its own, the static
# libraries through the CMake package.
#
# Exit 0 pass, 1 fail, 77 skipped (a sanitizer build: its libraries need the
# sanitizer's runtime, which a user's plain `cc` does not link).
set -euo pipefail
src=$1 build=$2 version=$3 cflags=${4:-}

case " $cflags " in
  *-fsanitize*) echo "install: skipped, this build's libraries are sanitizer-instrumented ($cflags)"; exit 77 ;;
esac

fail() { echo "install: FAIL: $*" >&2; exit 1; }

# The README section's commands, exactly (compared below).
commands=$(cat <<'EOF'
cmake --install build/default --prefix "$PWD/build/install"
export PATH="$PWD/build/install/bin:$PATH"
chanlab --version
# With CMake: find_package(chanlab), targets chanlab::csp and chanlab::harness
cmake -S examples/pipeline -B build/pipeline -DCMAKE_PREFIX_PATH="$PWD/build/install"
cmake --build build/pipeline
ctest --test-dir build/pipeline --output-on-failure
# With pkg-config
export PKG_CONFIG_PATH="$PWD/build/install/lib/pkgconfig"
cc -o build/test_pipeline examples/pipeline/test_pipeline.c examples/pipeline/pipeline.c \
   $(pkg-config --cflags --libs chanlab cmocka) -Wl,-rpath,"$PWD/build/install/lib"
build/test_pipeline
EOF
)

# 1. The README shows these commands: the first fenced block after the
# section's heading, up to its closing fence.
readme=$(awk '/^## Use chanlab in your project$/ { s = 1; next }
              s && /^## / { exit }
              s && f && /^```$/ { exit }
              f { print }
              s && /^```/ { f = 1 }' "$src/README.md")
[ -n "$readme" ] || fail "README.md has no fenced block under '## Use chanlab in your project'"
if [ "$readme" != "$commands" ]; then
  diff <(printf '%s\n' "$commands") <(printf '%s\n' "$readme") >&2 || true
  fail "README.md's 'Use chanlab in your project' block is not the commands this test runs (diff above: < test, > README)"
fi

# 2. Run them, in a scratch directory laid out like a clone.
work=$(mktemp -d "${TMPDIR:-/tmp}/chanlab-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/build"
ln -s "$build" "$work/build/default"
ln -s "$src/examples" "$work/examples"
cd "$work"
out=$(bash -euo pipefail -c "$commands" 2>&1) || { printf '%s\n' "$out" >&2; fail "a README command failed"; }
printf '%s\n' "$out"
prefix=$work/build/install

# 3. What the commands must have shown.
grep -qx "chanlab $version" <<<"$out" || fail "'chanlab --version' did not print 'chanlab $version'"
grep -q '100% tests passed, 0 tests failed out of 1' <<<"$out" || fail "the CMake-built example's test did not pass"
grep -q '\[  PASSED  \] 3 test(s)\.' <<<"$out" || fail "the pkg-config-built example's 3 tests did not all pass"

# 4. The installed files: exactly these.
expected=$( {
  echo bin/chanlab
  for h in "$src"/runtime/include/*.h "$src"/harness/include/*.h; do echo "include/chanlab/${h##*/}"; done
  for l in csp harness; do echo "lib/libchanlab_$l.a"; echo "lib/libchanlab_$l.so"; echo "lib/libchanlab_$l.so.$version"; done
  echo lib/libchanlab_exec.so   # chanlab exec's preload library
  echo lib/pkgconfig/chanlab.pc
  echo lib/cmake/chanlab/chanlabConfig.cmake
  echo lib/cmake/chanlab/chanlabConfigVersion.cmake
  echo lib/cmake/chanlab/chanlabTargets.cmake
} | sort)
actual=$(cd "$prefix" && find . \( -type f -o -type l \) ! -name 'chanlabTargets-*.cmake' | sed 's|^\./||' | sort)
if [ "$expected" != "$actual" ]; then
  diff <(echo "$expected") <(echo "$actual") >&2 || true
  fail "installed files differ from the expected layout (diff above: < expected, > installed)"
fi
for h in csp.h csp_debug.h csp_sched.h csp_tool.h csp_quiet_atomic.h harness.h harness_cmocka.h; do
  [ -f "$prefix/include/chanlab/$h" ] || fail "include/chanlab/$h not installed"
done

# 4b. The installed chanlab exec finds its preload library in the prefix and
# proves a lock-order deadlock in a plain cc -pthread program.
printf '%s\n' '#include <pthread.h>' \
  'static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;' \
  'static void *ab(void *p) { pthread_mutex_lock(&a); pthread_mutex_lock(&b); pthread_mutex_unlock(&b); pthread_mutex_unlock(&a); return p; }' \
  'static void *ba(void *p) { pthread_mutex_lock(&b); pthread_mutex_lock(&a); pthread_mutex_unlock(&a); pthread_mutex_unlock(&b); return p; }' \
  'int main(void) { pthread_t x, y; pthread_create(&x, 0, ab, 0); pthread_create(&y, 0, ba, 0); pthread_join(x, 0); pthread_join(y, 0); return 0; }' \
  >"$work/abba.c"
cc -pthread -o "$work/abba" "$work/abba.c" || fail "cc -pthread abba.c"
rc=0; timeout 120 env -u CHANLAB_EXEC_LIB "$prefix/bin/chanlab" exec -- "$work/abba" >"$work/abba.out" 2>&1 || rc=$?
[ $rc = 1 ] && grep -q '^DEADLOCK: ' "$work/abba.out" ||
  { cat "$work/abba.out" >&2; fail "the installed 'chanlab exec' did not report the deadlock (exit $rc)"; }

# 5. Every installed header compiles on its own from the prefix, in strict
# ISO C and in GNU C, with the project's warnings (harness_cmocka.h after
# <cmocka.h> and its prerequisites, as its comment says).
n=0
for h in "$prefix"/include/chanlab/*.h; do
  b=${h##*/} pre=
  [ "$b" = harness_cmocka.h ] &&
    pre=$'#include <stdarg.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <setjmp.h>\n#include <cmocka.h>'
  for std in c11 gnu11; do
    printf '%s\n#include <%s>\n' "$pre" "$b" |
      cc -std=$std -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror \
         -fsyntax-only -I"$prefix/include/chanlab" -x c - ||
      fail "$b does not compile on its own (-std=$std, -I$prefix/include/chanlab)"
    n=$((n + 1))
  done
done
echo "install: $n header compilations (each header alone, c11 and gnu11)"

# 6. The pkg-config module and the libraries it names.
pc=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs chanlab)
[[ " $pc " == *" -I$prefix/include/chanlab "* && " $pc " == *" -lchanlab_harness -lchanlab_csp "* ]] ||
  fail "pkg-config --cflags --libs chanlab says '$pc'"
# (ldd's whole output first: under pipefail, grep -q leaving at the first match
# can kill ldd with SIGPIPE and fail the pipeline — one run in three on a busy
# machine.)
deps=$(ldd build/test_pipeline)
grep -q "libchanlab_csp.so.$version => $prefix/lib/" <<<"$deps" ||
  fail "the pkg-config-built test does not use $prefix/lib/libchanlab_csp.so.$version"

# 7. The static libraries, through the CMake package.
cmake -S examples/pipeline -B build/pipeline-static -DCMAKE_PREFIX_PATH="$prefix" \
      -DCHANLAB_USE_STATIC_LIBS=ON >/dev/null
cmake --build build/pipeline-static >/dev/null
if ldd build/pipeline-static/test_pipeline | grep -Eq 'libchanlab_(csp|harness)\.so'; then
  fail "CHANLAB_USE_STATIC_LIBS=ON still links a shared chanlab library"
fi
static_out=$(build/pipeline-static/test_pipeline 2>&1) || { printf '%s\n' "$static_out" >&2; false; } ||
  fail "the example linked with the static libraries does not pass"
grep -q '\[  PASSED  \] 3 test(s)\.' <<<"$static_out" ||
  fail "the example linked with the static libraries did not run its 3 tests"
# 8. The shared libraries export the public API only (cmake/chanlab.map),
# and their frames stay out of a dump: the harness, a library of its own
# here, registers its code with the runtime (frames are told by address).
internal=$(nm -D --defined-only "$prefix"/lib/libchanlab_{csp,harness}.so | awk '{print $3}' |
           grep -v -E '^(csp_[a-z]|harness_[a-z]|__tsan_default_options$|__tsan_on_report$)' || true)
[ -z "$internal" ] || fail "the shared libraries export internals: $(echo $internal | head -c 300)"
cat >build/deadlock.c <<'CEOF'
#include <stdio.h>
#include <csp.h>
#include <harness.h>
static void stuck(void *arg)
{
    csp_recv(arg, NULL);
    __asm__ volatile("" ::: "memory");
}
static void entry(void *arg)
{
    csp_chan *c = csp_chan_make(0, 0, "never");
    csp_go(stuck, c, "stuck");
    csp_recv(c, NULL);
    __asm__ volatile("" ::: "memory");
}
int main(void)
{
    harness_options o = harness_defaults();
    o.mode = HARNESS_CONTROLLED;
    harness_result r;
    if (harness_run(entry, NULL, &o, &r) != 0)
        return 2;
    printf("%s\n%s", harness_verdict_name(r.verdict), r.dump ? r.dump : "");
    harness_result_free(&r);
    return 0;
}
CEOF
cc -g -fno-omit-frame-pointer -o build/deadlock build/deadlock.c \
   $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs chanlab) -Wl,-rpath,"$prefix/lib"
dump=$(build/deadlock) || fail "the shared-library deadlock program failed"
grep -qx DEADLOCK <<<"$dump" || { printf '%s\n' "$dump" >&2; fail "the shared-library program is not DEADLOCK"; }
grep -q '^    stuck at .*deadlock.c:6$' <<<"$dump" || { printf '%s\n' "$dump" >&2; fail "no 'stuck at deadlock.c:6' frame"; }
if grep '^    ' <<<"$dump" | grep -v 'deadlock.c:' >&2; then
  printf '%s\n' "$dump" >&2
  fail "a library frame is in the shared-library program's dump (above)"
fi
echo "install: PASS"
