# tests/catalog_thumbnails.cmake — the thumbnails family (GOPL §8.5): every
# variant's verdict in every mode it declares, the schedule strategies, a
# bounded exhaustive search of the correct versions, and the demo on real
# images. Links the `patterns` OBJECT library directly (catalog.cmake says
# why); a TSan report in the test's own output fails it. Every run writes its
# workload to a fresh directory under TMPDIR: a RAM-backed one where there is
# one, since the exhaustive search makes some 16,000 of them.
add_executable(test_catalog_thumbnails test_catalog_thumbnails.c)
target_link_libraries(test_catalog_thumbnails PRIVATE catalog_util patterns)
add_test(NAME catalog_thumbnails COMMAND test_catalog_thumbnails)
set_tests_properties(catalog_thumbnails PROPERTIES LABELS catalog TIMEOUT 300
                     FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
if(IS_DIRECTORY /dev/shm)
  set_tests_properties(catalog_thumbnails PROPERTIES ENVIRONMENT TMPDIR=/dev/shm)
endif()
