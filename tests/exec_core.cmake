# tests/exec_core.cmake — `chanlab exec` itself (preload/, cli/exec.c): small
# pthread programs of tests/exec_core/ built with plain `cc -pthread` (no
# chanlab header, no chanlab library) and checked by check.sh through the
# command line. Label `exec`. (tests/exec/ is the suite of buggy/fixed
# programs written against the same command line.)
set(EXEC_CORE_DIR ${CMAKE_CURRENT_BINARY_DIR}/exec_core)
set(EXEC_CORE_PROGRAMS lock_order lock_fixed primitives lost_wakeup verdicts forks stdin_lines)
foreach(p IN LISTS EXEC_CORE_PROGRAMS)
  add_executable(exec_core_${p} ${CMAKE_CURRENT_SOURCE_DIR}/exec_core/${p}.c)
  set_target_properties(exec_core_${p} PROPERTIES OUTPUT_NAME ${p}
                        RUNTIME_OUTPUT_DIRECTORY ${EXEC_CORE_DIR})
  target_link_libraries(exec_core_${p} PRIVATE Threads::Threads)
  # Plain programs: the warnings of the project apply, nothing else of it
  # (no sanitizer, whatever the preset: the sanitizer builds are below).
  target_compile_options(exec_core_${p} PRIVATE -Wno-missing-prototypes -UNDEBUG -fno-sanitize=all)
  target_link_options(exec_core_${p} PRIVATE -fno-sanitize=all)
endforeach()

# The same programs built with a sanitizer, as a user would (cc
# -fsanitize=...): TSan's races are RACE, ASan builds run under the scheduler.
include(CheckCSourceCompiles)
set(EXEC_CORE_SANITIZED)
foreach(san thread address)
  set(CMAKE_REQUIRED_FLAGS -fsanitize=${san})
  set(CMAKE_REQUIRED_LINK_OPTIONS -fsanitize=${san})
  check_c_source_compiles("int main(void){return 0;}" CHANLAB_CC_SANITIZE_${san})
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
endforeach()
set(EXEC_CORE_TSAN_PROGRAMS verdicts lock_fixed lost_wakeup)
set(EXEC_CORE_ASAN_PROGRAMS lock_order primitives)
foreach(san tsan asan)
  if(san STREQUAL tsan)
    set(flag thread)
  else()
    set(flag address)
  endif()
  if(NOT CHANLAB_CC_SANITIZE_${flag})
    continue()
  endif()
  string(TOUPPER ${san} SAN)
  foreach(p IN LISTS EXEC_CORE_${SAN}_PROGRAMS)
    add_executable(exec_core_${p}_${san} ${CMAKE_CURRENT_SOURCE_DIR}/exec_core/${p}.c)
    set_target_properties(exec_core_${p}_${san} PROPERTIES OUTPUT_NAME ${p}_${san}
                          RUNTIME_OUTPUT_DIRECTORY ${EXEC_CORE_DIR})
    target_link_libraries(exec_core_${p}_${san} PRIVATE Threads::Threads)
    target_compile_options(exec_core_${p}_${san} PRIVATE -Wno-missing-prototypes -UNDEBUG -fsanitize=${flag})
    target_link_options(exec_core_${p}_${san} PRIVATE -fsanitize=${flag})
  endforeach()
  list(APPEND EXEC_CORE_SANITIZED ${san})
endforeach()
# lost_wakeup's fix (a predicate loop), small enough to exhaust.
add_executable(exec_core_lost_wakeup_fixed ${CMAKE_CURRENT_SOURCE_DIR}/exec_core/lost_wakeup.c)
set_target_properties(exec_core_lost_wakeup_fixed PROPERTIES OUTPUT_NAME lost_wakeup_fixed
                      RUNTIME_OUTPUT_DIRECTORY ${EXEC_CORE_DIR})
target_link_libraries(exec_core_lost_wakeup_fixed PRIVATE Threads::Threads)
target_compile_definitions(exec_core_lost_wakeup_fixed PRIVATE FIXED)
target_compile_options(exec_core_lost_wakeup_fixed PRIVATE -fno-sanitize=all)
target_link_options(exec_core_lost_wakeup_fixed PRIVATE -fno-sanitize=all)

# A statically linked program, which exec refuses (if the toolchain can link one).
set(CMAKE_REQUIRED_FLAGS -fno-sanitize=all)
set(CMAKE_REQUIRED_LINK_OPTIONS -static -fno-sanitize=all)
check_c_source_compiles("int main(void){return 0;}" CHANLAB_CAN_LINK_STATIC_PLAIN)
unset(CMAKE_REQUIRED_FLAGS)
unset(CMAKE_REQUIRED_LINK_OPTIONS)
if(CHANLAB_CAN_LINK_STATIC_PLAIN)
  add_executable(exec_core_static_prog ${CMAKE_CURRENT_SOURCE_DIR}/exec_core/lock_fixed.c)
  set_target_properties(exec_core_static_prog PROPERTIES OUTPUT_NAME static_prog
                        RUNTIME_OUTPUT_DIRECTORY ${EXEC_CORE_DIR})
  target_link_libraries(exec_core_static_prog PRIVATE Threads::Threads)
  target_compile_options(exec_core_static_prog PRIVATE -fno-sanitize=all)
  target_link_options(exec_core_static_prog PRIVATE -static -fno-sanitize=all)
endif()

foreach(case lock_order replay depth lock_fixed primitives lost_wakeup verdicts stdin free json usage
             ${EXEC_CORE_SANITIZED})
  add_test(NAME exec_core_${case}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/exec_core/check.sh $<TARGET_FILE:chanlab>
                   ${EXEC_CORE_DIR} ${case})
  set_tests_properties(exec_core_${case} PROPERTIES LABELS exec TIMEOUT 300)
endforeach()
