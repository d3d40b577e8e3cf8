# tests/exec_core.cmake — `chanlab exec` itself (preload/, cli/exec.c): small
# pthread programs of tests/exec_core/ built with plain `cc -pthread` (no
# chanlab header, no chanlab library) and checked by check.sh through the
# command line. Label `exec`. (tests/exec/ is the suite of buggy/fixed
# programs written against the same command line.)
set(EXEC_CORE_DIR ${CMAKE_CURRENT_BINARY_DIR}/exec_core)
set(EXEC_CORE_PROGRAMS lock_order lock_fixed primitives lost_wakeup verdicts)
foreach(p IN LISTS EXEC_CORE_PROGRAMS)
  add_executable(exec_core_${p} ${CMAKE_CURRENT_SOURCE_DIR}/exec_core/${p}.c)
  set_target_properties(exec_core_${p} PROPERTIES OUTPUT_NAME ${p}
                        RUNTIME_OUTPUT_DIRECTORY ${EXEC_CORE_DIR})
  target_link_libraries(exec_core_${p} PRIVATE Threads::Threads)
  # Plain programs: the warnings of the project apply, nothing else of it.
  target_compile_options(exec_core_${p} PRIVATE -Wno-missing-prototypes -UNDEBUG)
endforeach()
# A statically linked program, which exec refuses (if the toolchain can link one).
include(CheckCSourceCompiles)
set(CMAKE_REQUIRED_LINK_OPTIONS -static)
check_c_source_compiles("int main(void){return 0;}" CHANLAB_CAN_LINK_STATIC)
unset(CMAKE_REQUIRED_LINK_OPTIONS)
if(CHANLAB_CAN_LINK_STATIC)
  add_executable(exec_core_static_prog ${CMAKE_CURRENT_SOURCE_DIR}/exec_core/lock_fixed.c)
  set_target_properties(exec_core_static_prog PROPERTIES OUTPUT_NAME static_prog
                        RUNTIME_OUTPUT_DIRECTORY ${EXEC_CORE_DIR})
  target_link_libraries(exec_core_static_prog PRIVATE Threads::Threads)
  target_link_options(exec_core_static_prog PRIVATE -static)
endif()

foreach(case lock_order replay depth lock_fixed primitives lost_wakeup verdicts usage)
  add_test(NAME exec_core_${case}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/exec_core/check.sh $<TARGET_FILE:chanlab>
                   ${EXEC_CORE_DIR} ${case})
  set_tests_properties(exec_core_${case} PROPERTIES LABELS exec TIMEOUT 300)
endforeach()
