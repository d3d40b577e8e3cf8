# tests/symbols.cmake — symbols a user can trust (test_symbols.c): inlined
# frames expanded, library frames dropped by address. The same program at
# -O0 and at -O2 (the later -O wins over the build type's).
foreach(opt O0 O2)
  add_executable(test_symbols_${opt} test_symbols.c symbols/runtime/src/csp_user.c)
  target_include_directories(test_symbols_${opt} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/symbols)
  target_compile_options(test_symbols_${opt} PRIVATE -${opt})
  target_link_libraries(test_symbols_${opt} PRIVATE harness PkgConfig::CMOCKA)
  add_test(NAME symbols_${opt} COMMAND test_symbols_${opt})
  set_tests_properties(symbols_${opt} PROPERTIES LABELS unit TIMEOUT 120
                       FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
endforeach()

# Every function of the two libraries is in chanlab_text (library_code.sh):
# what the address rule above rests on.
add_test(NAME library_code COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/library_code.sh ${PROJECT_BINARY_DIR})
set_tests_properties(library_code PROPERTIES LABELS unit TIMEOUT 60)
