# tests/catalog_du.cmake — the §8.8 and §8.9 families, du and cancel, and
# `chanlab demo du` (label catalog). Links catalog_util and the patterns
# OBJECT library directly (tests/catalog.cmake says why). The harness defines
# __tsan_default_options itself, so no tsan_options.c here.
add_executable(test_catalog_du test_catalog_du.c)
target_link_libraries(test_catalog_du PRIVATE catalog_util patterns)
add_test(NAME catalog_du COMMAND test_catalog_du)
set_tests_properties(catalog_du PROPERTIES LABELS catalog TIMEOUT 300
                     FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
