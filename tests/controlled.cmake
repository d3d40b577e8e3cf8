# tests/controlled.cmake — cmocka tests of controlled mode (DESIGN.md §2–3,
# §7): the fibers backend, the deterministic scheduler, its strategies and
# schedule strings, replay, virtual time. Included by tests/CMakeLists.txt
# (which has already found PkgConfig::CMOCKA).
#
# The harness library defines __tsan_default_options and __tsan_on_report,
# so these binaries do not link tsan_options.c. Every test has the label
# `unit` and a TIMEOUT; each binary also arms alarm() (controlled_util.h).
# A TSan report in a test's own output (this process: an in-process run)
# fails it, even though the harness makes TSan exit with status 0.
#
#   controlled_search     every strategy (RANDOM, PCT, BYTES, EXHAUSTIVE)
#                         finds a bug that needs two preemptions; EXHAUSTIVE
#                         proves the fixed twin; replay x20 (short and
#                         explicit form); select choices and timer order are
#                         decisions
#   controlled_verdicts   DEADLOCK, LEAK (tasks, csp_tick), HANG (step bound,
#                         livelock, wall bound), PANIC, WRONG_RESULT, CRASH,
#                         with free mode's dump format
#   controlled_time       virtual time: the countdown, sleeps and timers in
#                         deadline order, a select timeout; the same output
#                         in free mode
#   controlled_schedules  malformed and unfitting schedule strings are refused
#   controlled_memory     100,000 schedules (10,000 sanitized) in one process:
#                         flat VmRSS and descriptors
#   controlled_sched      csp_sched_run driven directly: which decisions are
#                         asked, run ends, stats (never calls harness_run)
#   controlled_coverage   interleaving coverage: same schedule same cells,
#                         different interleavings different cells, observe-only
#   controlled_events     the event timeline: what it records, identical on
#                         replay, a small ring keeps the last events, off is off
#   controlled_tsan       races between fibers, hand-offs, schedule after
#                         schedule (TSan builds only; skips otherwise)
#   dpor                  partial-order reduction reaches the final states the
#                         unreduced EXHAUSTIVE reaches (generated programs, no
#                         bound and bounds 1, 2; programs that block in selects,
#                         closes and rendezvous; written-out cases), in far
#                         fewer schedules
#   exhaustive_sound      EXHAUSTIVE reaches the outcomes 100,000 RANDOM
#                         schedules reach, in counts worked out by hand; the
#                         stopper is not a livelock, a busy poll is
foreach(name search verdicts time schedules memory sched tsan coverage events)
  add_executable(test_controlled_${name} test_controlled_${name}.c)
  target_link_libraries(test_controlled_${name} PRIVATE harness PkgConfig::CMOCKA)
  add_test(NAME controlled_${name} COMMAND test_controlled_${name})
  set_tests_properties(controlled_${name} PROPERTIES LABELS unit TIMEOUT 300
                       FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
endforeach()
set_tests_properties(controlled_tsan PROPERTIES LABELS "unit;tsan" SKIP_RETURN_CODE 77)

add_executable(test_exhaustive_sound test_exhaustive_sound.c)
target_link_libraries(test_exhaustive_sound PRIVATE harness PkgConfig::CMOCKA)
add_test(NAME exhaustive_sound COMMAND test_exhaustive_sound)
add_executable(test_dpor test_dpor.c)
target_link_libraries(test_dpor PRIVATE harness PkgConfig::CMOCKA)
add_test(NAME dpor COMMAND test_dpor)
set_tests_properties(dpor PROPERTIES LABELS unit TIMEOUT 300
                     FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
set_tests_properties(exhaustive_sound PROPERTIES LABELS unit TIMEOUT 300
                     FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
