# tests/cli.cmake — the `chanlab` command (DESIGN.md §6).
#   cli                   every bad input exits 2 with one line naming what was
#                         wrong and what is accepted; --help everywhere; list,
#                         explain, run, replay and the demos (label unit)
#   cli_prove_countdown   `chanlab prove --family countdown` exits 0: every
#   cli_prove_select      verdict observed as expected (label catalog)
#   cli_explain_all       every buggy variant's explanation shows its BUG(...) lines
# The TSan reports of runs are captured by the harness; one in chanlab's own
# output is about the parent side and fails the test (TSan's exit code is 0).
add_executable(test_cli test_cli.c)
target_link_libraries(test_cli PRIVATE PkgConfig::CMOCKA)
target_compile_definitions(test_cli PRIVATE CHANLAB_EXE="$<TARGET_FILE:chanlab>")
add_dependencies(test_cli chanlab)
add_test(NAME cli COMMAND test_cli)
set_tests_properties(cli PROPERTIES LABELS unit TIMEOUT 300
                     FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")

foreach(family countdown select)
  add_test(NAME cli_prove_${family} COMMAND chanlab prove --family ${family})
  set_tests_properties(cli_prove_${family} PROPERTIES LABELS catalog TIMEOUT 120
                       FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
endforeach()

# Issue 16 §2: every correct variant's controlled observation in `chanlab
# prove` carries a completed proof, and no buggy one has any
# (tests/prove_proofs.sh), in every family. du, cancel, crawl and chat:
# proofs on a smaller declared workload; the others: on their own.
foreach(family countdown select du thumbnails crawl cancel chat)
  add_test(NAME prove_proofs_${family}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/prove_proofs.sh $<TARGET_FILE:chanlab> ${family})
  set_tests_properties(prove_proofs_${family} PROPERTIES LABELS catalog TIMEOUT 300
                       FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
endforeach()

# `chanlab explain` teaches the bug: every buggy variant of the catalog shows
# at least one BUG(...) line (tests/explain_all.sh, over `chanlab list --json`).
add_test(NAME cli_explain_all COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/explain_all.sh $<TARGET_FILE:chanlab>)
set_tests_properties(cli_explain_all PROPERTIES LABELS "unit;catalog" TIMEOUT 120)

# The crawl family's simulated site memoizes its pages and their links under
# control (patterns/crawlsite.c, "The memo"): runs with and without it
# observe the same (tests/crawl_memo.sh).
add_test(NAME crawl_memo COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/crawl_memo.sh $<TARGET_FILE:chanlab>)
set_tests_properties(crawl_memo PROPERTIES LABELS catalog TIMEOUT 600)
