# tests/catalog_countdown.cmake — the §8.7 families, countdown and select
# (label catalog). Links catalog_util and the patterns OBJECT library directly
# (tests/catalog.cmake says why). The harness defines __tsan_default_options
# itself, so no tsan_options.c here.
add_executable(test_catalog_countdown test_catalog_countdown.c)
target_link_libraries(test_catalog_countdown PRIVATE catalog_util patterns)
add_test(NAME catalog_countdown COMMAND test_catalog_countdown)
set_tests_properties(catalog_countdown PROPERTIES LABELS catalog TIMEOUT 300
                     FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
