# The catalog's shared test code; each family adds tests/catalog_FAMILY.cmake
# with a test_catalog_FAMILY.c (label `catalog`) that links BOTH catalog_util
# and the `patterns` OBJECT library directly: registrations live in object
# files, which a static library would drop when nothing references them.
add_library(catalog_util STATIC catalog_util.c)
target_include_directories(catalog_util PUBLIC ${PROJECT_SOURCE_DIR}/patterns/include)
target_link_libraries(catalog_util PUBLIC harness PkgConfig::CMOCKA)
