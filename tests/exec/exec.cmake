# tests/exec/exec.cmake — `chanlab exec` on unmodified pthread programs (issue
# 15 §4; label exec). Included from tests/CMakeLists.txt with one line,
#   include(${CMAKE_CURRENT_SOURCE_DIR}/exec/exec.cmake)
# and self-contained: paths are relative to this file, the chanlab binary is
# the `chanlab` target.
#   exec_check_selftest    the verdict checker against a stand-in for chanlab
#   exec_plain_runs        without chanlab: every fixed form passes 200 plain
#                          runs and 200 under yield_shim.so (tests/exec/plain_runs.sh)
#   exec_NAME_buggy        `chanlab exec --strategy pct --schedules 1000` finds
#                          the bug: exit 1, the expected verdict in --json, the
#                          evidence named, and the failing schedule replays
#   exec_NAME_fixed        the same search over 1,000 schedules: exit 0, PASS
#   exec_NAME_exhaustive   the fixed form under --strategy exhaustive (the
#                          default preemption bound) covers its bounded space
#   exec_pigz              Debian's pigz under 100 PCT schedules round-trips
#                          (tests/exec/real_pigz.sh; skipped without pigz)
# The programs are built the way a user builds them — the C compiler of this
# build with `-pthread` and warnings as errors, NOT the project's flags (no
# CMAKE_C_FLAGS: the tsan and asan presets would instrument them, and chanlab
# must run a program as its author compiled it). request_stats is the
# exception: its bug is a data race, so it is built with clang
# -fsanitize=thread and expected RACE (TSan's report in the result).
set(CHANLAB_EXEC_SUITE_DIR ${CMAKE_CURRENT_LIST_DIR})
set(CHANLAB_EXEC_BIN ${CMAKE_CURRENT_BINARY_DIR}/exec)
set(CHANLAB_EXEC_CFLAGS -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -pthread)
file(MAKE_DIRECTORY ${CHANLAB_EXEC_BIN})

# NAME|VERDICT|EVIDENCE: what `chanlab exec` must report on the buggy form,
# and a text its message, dump or output must contain (the blocking call, the
# assertion's text, the leaked thread's function; none for config_rwlock,
# whose complaint goes to its stderr, which the result may not carry).
set(CHANLAB_EXEC_SUITE
    "bank_transfer|DEADLOCK|pthread_mutex_lock"
    "bank_withdraw|CRASH|account overdrawn"
    "logger_flush|DEADLOCK|pthread_cond_wait"
    "work_queue|LEAK|worker_run"
    "ring_buffer|CRASH|packet lost or out of order"
    "config_rwlock|WRONG_RESULT")
# Fixed forms small enough to exhaust at the default preemption bound within
# the schedule cap below.
# NAME|K: exhausted within K preemptions. Measured (exhaustive, preemption
# bound 2): bank_transfer 675 schedules, bank_withdraw 154, logger_flush 175,
# config_rwlock 24,696 (28 s); work_queue 191,602 (142 s) and ring_buffer
# 51,994 (80 s) are exhausted at bound 1 here, to keep the suite's time.
set(CHANLAB_EXEC_EXHAUSTIVE bank_transfer|2 bank_withdraw|2 logger_flush|2 work_queue|1
    ring_buffer|1 config_rwlock|2)
set(CHANLAB_EXEC_EXHAUSTIVE_CAP 200000)

set(chanlab_exec_outputs)
function(chanlab_exec_build name form compiler)
  set(src ${CHANLAB_EXEC_SUITE_DIR}/programs/${name}.c)
  set(out ${CHANLAB_EXEC_BIN}/${name}.${form})
  set(defs)
  if(form STREQUAL "fixed")
    set(defs -DFIXED)
  endif()
  add_custom_command(OUTPUT ${out}
    COMMAND ${compiler} ${CHANLAB_EXEC_CFLAGS} ${ARGN} ${defs} -o ${out} ${src}
    DEPENDS ${src}
    COMMENT "exec suite: ${name} (${form})"
    VERBATIM)
  set(chanlab_exec_outputs ${chanlab_exec_outputs} ${out} PARENT_SCOPE)
endfunction()

set(chanlab_exec_check python3 ${CHANLAB_EXEC_SUITE_DIR}/exec_check.py $<TARGET_FILE:chanlab>)
set(chanlab_exec_search --strategy pct --schedules 1000 --seed 1)

foreach(entry IN LISTS CHANLAB_EXEC_SUITE)
  string(REPLACE "|" ";" fields "${entry}")
  list(GET fields 0 name)
  list(GET fields 1 verdict)
  list(LENGTH fields nfields)
  set(evidence)
  if(nfields GREATER 2)
    list(GET fields 2 text)
    set(evidence --check-evidence "${text}")
  endif()
  chanlab_exec_build(${name} buggy ${CMAKE_C_COMPILER})
  chanlab_exec_build(${name} fixed ${CMAKE_C_COMPILER})
  add_test(NAME exec_${name}_buggy COMMAND ${chanlab_exec_check} ${verdict}
           ${evidence} --check-replay ${chanlab_exec_search}
           -- ${CHANLAB_EXEC_BIN}/${name}.buggy)
  add_test(NAME exec_${name}_fixed COMMAND ${chanlab_exec_check} PASS ${chanlab_exec_search}
           -- ${CHANLAB_EXEC_BIN}/${name}.fixed)
  set_tests_properties(exec_${name}_buggy exec_${name}_fixed PROPERTIES LABELS exec TIMEOUT 300)
endforeach()

# A sanitizer preset builds chanlab (not these programs) instrumented: the
# PCT searches above run its exec verb under the sanitizer; the exhaustive
# searches and the plain runs below would only repeat the default build's.
if(CMAKE_C_FLAGS MATCHES "-fsanitize")
  set(CHANLAB_EXEC_EXHAUSTIVE)
endif()
foreach(entry IN LISTS CHANLAB_EXEC_EXHAUSTIVE)
  string(REPLACE "|" ";" fields "${entry}")
  list(GET fields 0 name)
  list(GET fields 1 bound)
  add_test(NAME exec_${name}_exhaustive COMMAND ${chanlab_exec_check} PASS --check-exhausted
           --strategy exhaustive --preemption-bound ${bound} --schedules ${CHANLAB_EXEC_EXHAUSTIVE_CAP}
           -- ${CHANLAB_EXEC_BIN}/${name}.fixed)
  set_tests_properties(exec_${name}_exhaustive PROPERTIES LABELS exec TIMEOUT 300)
endforeach()

# The data race: ThreadSanitizer's build (clang, as the tsan preset uses).
find_program(CHANLAB_EXEC_CLANG clang)
if(CHANLAB_EXEC_CLANG)
  chanlab_exec_build(request_stats buggy ${CHANLAB_EXEC_CLANG} -fsanitize=thread)
  chanlab_exec_build(request_stats fixed ${CHANLAB_EXEC_CLANG} -fsanitize=thread)
  add_test(NAME exec_request_stats_buggy COMMAND ${chanlab_exec_check} RACE
           --check-evidence "ThreadSanitizer: data race" --check-replay ${chanlab_exec_search}
           -- ${CHANLAB_EXEC_BIN}/request_stats.buggy)
  add_test(NAME exec_request_stats_fixed COMMAND ${chanlab_exec_check} PASS ${chanlab_exec_search}
           -- ${CHANLAB_EXEC_BIN}/request_stats.fixed)
  set_tests_properties(exec_request_stats_buggy exec_request_stats_fixed PROPERTIES
                       LABELS "exec;tsan" TIMEOUT 300)
else()
  message(STATUS "exec suite: no clang; request_stats (RACE under TSan) is not built")
endif()

add_custom_target(exec_programs ALL DEPENDS ${chanlab_exec_outputs})

# The checker itself, against a stand-in (runs before chanlab exec exists).
add_test(NAME exec_check_selftest COMMAND bash ${CHANLAB_EXEC_SUITE_DIR}/exec_check_selftest.sh)
set_tests_properties(exec_check_selftest PROPERTIES LABELS "exec;unit" TIMEOUT 120)

# Without chanlab: the fixed forms are correct under the OS scheduler, plain
# and stressed (~30 s; how often the buggy forms fail is for plain_runs.sh run
# by hand, with --buggy-runs, not a pass/fail matter).
if(NOT CMAKE_C_FLAGS MATCHES "-fsanitize")
  add_test(NAME exec_plain_runs COMMAND bash ${CHANLAB_EXEC_SUITE_DIR}/plain_runs.sh
           --fixed-runs 200 --buggy-runs 0 --cc ${CMAKE_C_COMPILER})
  set_tests_properties(exec_plain_runs PROPERTIES LABELS exec TIMEOUT 300)
endif()

# A real program: Debian's pigz (pthreads through its yarn.c), unmodified.
add_test(NAME exec_pigz COMMAND bash ${CHANLAB_EXEC_SUITE_DIR}/real_pigz.sh
         $<TARGET_FILE:chanlab> 100)
set_tests_properties(exec_pigz PROPERTIES LABELS exec TIMEOUT 600 SKIP_RETURN_CODE 77)
