# tests/report.cmake — the HTML report and the Chrome traces (DESIGN.md §6;
# label report).
#   report_html     `chanlab run ID --html` (both modes) and `prove --html`
#                   write folders tests/report_check.py accepts: trace-event
#                   format (fields, B/E balanced per track, flow ids matched),
#                   a row and page per observation, one lane per task, nothing
#                   outside the folder
#   report_browser  headless Chromium builds the index and leak-on-error's page
#                   offline: every row, one lane per task, a clean console;
#                   screenshots in the build's report-screenshots/ (skipped
#                   without chromium; ./quickstart test installs it)
add_test(NAME report_html COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/report_html.sh
         $<TARGET_FILE:chanlab> ${PROJECT_SOURCE_DIR})
set_tests_properties(report_html PROPERTIES LABELS report TIMEOUT 600
                     FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
add_test(NAME report_browser COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/report_browser.sh
         $<TARGET_FILE:chanlab> ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/report-screenshots)
set_tests_properties(report_browser PROPERTIES LABELS report TIMEOUT 900 SKIP_RETURN_CODE 77
                     FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
# report_formats  results.json (prove, run, replay, list) validates against
#                 reports/results.schema.json; junit.xml has only what the
#                 strict JUnit schema accepts, line breaks in attributes escaped
add_test(NAME report_formats COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/report_formats.sh
         $<TARGET_FILE:chanlab> ${PROJECT_SOURCE_DIR})
set_tests_properties(report_formats PROPERTIES LABELS "report;unit" TIMEOUT 600
                     FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
# report_writers  the writers on a report made by hand: JUnit attribute
#                 escapes, schema_version, a synthetic trace's B/E and flows
add_executable(test_report_writers test_report_writers.c)
target_link_libraries(test_report_writers PRIVATE reports PkgConfig::CMOCKA)
add_test(NAME report_writers COMMAND test_report_writers)
set_tests_properties(report_writers PROPERTIES LABELS "report;unit" TIMEOUT 60)
