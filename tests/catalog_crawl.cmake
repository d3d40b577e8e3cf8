# tests/catalog_crawl.cmake — the §8.6 family, crawl, and `chanlab demo crawl`.
#   catalog_crawl   every variant as expected in both modes, bugs found by two
#                   strategies and replayed (label catalog; links catalog_util
#                   and the patterns OBJECT library, as tests/catalog.cmake says)
#   crawl_links     URL resolution and link extraction on hostile HTML (unit)
#   crawl_demo      the demo against the generated site on loopback (catalog)
#   cli_prove_crawl `chanlab prove --family crawl` exits 0 (catalog)
# crawl_site serves the generated site for crawl_demo and bench/crawl_run.
add_executable(test_catalog_crawl test_catalog_crawl.c)
target_link_libraries(test_catalog_crawl PRIVATE catalog_util patterns)
add_test(NAME catalog_crawl COMMAND test_catalog_crawl)
set_tests_properties(catalog_crawl PROPERTIES LABELS catalog TIMEOUT 300
                     FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")

add_executable(test_crawl_links test_crawl_links.c)
target_link_libraries(test_crawl_links PRIVATE patterns PkgConfig::CMOCKA)
add_test(NAME crawl_links COMMAND test_crawl_links)
set_tests_properties(crawl_links PROPERTIES LABELS unit TIMEOUT 120)

add_executable(crawl_site crawl_site.c)
target_link_libraries(crawl_site PRIVATE patterns)
add_test(NAME crawl_demo COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/crawl_demo.sh
         $<TARGET_FILE:chanlab> $<TARGET_FILE:crawl_site>)
set_tests_properties(crawl_demo PROPERTIES LABELS catalog TIMEOUT 300
                     FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")

# The family through the command line: chanlab's verbs start the server
# themselves (pattern_prepare), as `chanlab prove` does for the whole catalog.
add_test(NAME cli_prove_crawl COMMAND chanlab prove --family crawl)
set_tests_properties(cli_prove_crawl PROPERTIES LABELS catalog TIMEOUT 180
                     FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
