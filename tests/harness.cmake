# tests/harness.cmake — cmocka tests of the free-mode harness (DESIGN.md §3).
# Included by tests/CMakeLists.txt (which has already found
# PkgConfig::CMOCKA). One binary per concern; each program under test is
# small and carries its expected verdict next to it.
#
# The harness library defines __tsan_default_options and __tsan_on_report
# itself, so these binaries do not link tsan_options.c (a duplicate symbol).
# Every test has the label `unit` and a TIMEOUT; each binary also arms
# alarm() (harness_util.h), below the TIMEOUT.
#
#   harness_verdicts    PASS, LEAK (tasks, ticker), DEADLOCK (wait group,
#                       mutex), HANG (busy poll, CPU spin), PANIC, CRASH
#   harness_measures    WRONG_RESULT, RACE, RESOURCE, SLOW, NONDETERMINISTIC,
#                       `seen` and precedence, ignore_tasks, the captured
#                       output (log), leaked descriptors
#   harness_robust      the parent survives crashes, hangs (answered and not),
#                       100 leaked tasks, a leaked thread that is no task,
#                       exit() mid-run; a short CPU burst is no hang
#   harness_inprocess   in_process runs agree with forked ones
#   harness_api         bad input, HARNESS_CONTROLLED accepted, a nested call,
#                       verdict names and precedence, harness_cmocka.h
#                       (passing and, in a child, failing)
#   harness_env         the CHANLAB_* overrides: bad values named, good ones
#                       applied, a rerun line set in the environment replays
foreach(name verdicts measures robust inprocess api cmocka wait env)
  add_executable(test_harness_${name} test_harness_${name}.c)
  target_link_libraries(test_harness_${name} PRIVATE harness PkgConfig::CMOCKA)
  add_test(NAME harness_${name} COMMAND test_harness_${name})
  # The runs' own output is captured into harness_result.log; a TSan report
  # in the test's output is about the test process itself (the harness's
  # parent side, or an in-process run) and fails the test even though the
  # harness makes TSan exit with status 0.
  set_tests_properties(harness_${name} PROPERTIES LABELS unit TIMEOUT 180
                       FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
endforeach()

# The record wire format (harness/src/record.c): every field round-trips.
# Built against the harness's private headers, as a white-box test.
add_executable(test_record test_record.c)
target_include_directories(test_record PRIVATE ${PROJECT_SOURCE_DIR}/harness/src)
target_link_libraries(test_record PRIVATE harness PkgConfig::CMOCKA)
add_test(NAME record COMMAND test_record)
set_tests_properties(record PROPERTIES LABELS unit TIMEOUT 60)
