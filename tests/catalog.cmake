# The catalog's shared test code; each family adds tests/catalog_FAMILY.cmake
# with a test_catalog_FAMILY.c that links catalog_util (label `catalog`).
add_library(catalog_util STATIC catalog_util.c)
target_link_libraries(catalog_util PUBLIC patterns harness PkgConfig::CMOCKA)
