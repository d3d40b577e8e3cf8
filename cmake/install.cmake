# cmake/install.cmake — `cmake --install BUILD --prefix P`: P/bin/chanlab (and
# libchanlab_exec.so, the preload library of `chanlab exec`), the
# runtime and the harness as static and shared libraries in P/lib, every public
# header under P/include/chanlab/, a pkg-config module `chanlab` and a CMake
# package (find_package(chanlab) → chanlab::csp, chanlab::harness).
#
# The installed libraries are built from the in-tree targets' own source lists,
# include directories, definitions and link libraries (read from the targets,
# never listed here), compiled once more as position-independent objects that
# both the static and the shared library use: the in-tree libcsp.a and
# libharness.a stay as they are for the tests and the CLI.
#
# File names: libchanlab_csp.{a,so} and libchanlab_harness.{a,so}
# (`-lchanlab_harness -lchanlab_csp`), not the in-tree libcsp/libharness:
# installed into /usr/local they must not meet another project's libcsp
# (the CubeSat Space Protocol library has that name).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# chanlab_installed_library(NAME TARGET): chanlab_NAME_static and
# chanlab_NAME_shared from TARGET's sources. In-tree link dependencies on
# another installed library (harness → csp) are mapped to the same variant.
function(chanlab_installed_library name target)
  get_target_property(sources ${target} SOURCES)
  get_target_property(dir ${target} SOURCE_DIR)
  set(abs)
  foreach(s IN LISTS sources)
    cmake_path(ABSOLUTE_PATH s BASE_DIRECTORY ${dir} OUTPUT_VARIABLE a)
    list(APPEND abs ${a})
  endforeach()
  get_target_property(links ${target} LINK_LIBRARIES)
  if(NOT links)
    set(links)
  endif()

  add_library(chanlab_${name}_objects OBJECT ${abs})
  set_target_properties(chanlab_${name}_objects PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_include_directories(chanlab_${name}_objects PRIVATE $<TARGET_PROPERTY:${target},INCLUDE_DIRECTORIES>)
  target_compile_definitions(chanlab_${name}_objects PRIVATE $<TARGET_PROPERTY:${target},COMPILE_DEFINITIONS>)
  target_compile_options(chanlab_${name}_objects PRIVATE $<TARGET_PROPERTY:${target},COMPILE_OPTIONS>)
  # Compile-time usage requirements only (an OBJECT library links nothing).
  target_link_libraries(chanlab_${name}_objects PRIVATE ${links})

  foreach(kind static shared)
    string(TOUPPER ${kind} KIND)
    set(lib chanlab_${name}_${kind})
    add_library(${lib} ${KIND} $<TARGET_OBJECTS:chanlab_${name}_objects>)
    set(mapped)
    foreach(l IN LISTS links)
      if(TARGET chanlab_${l}_${kind})
        list(APPEND mapped chanlab_${l}_${kind})
      else()
        list(APPEND mapped ${l})
      endif()
    endforeach()
    target_link_libraries(${lib} PUBLIC ${mapped})
    target_include_directories(${lib} INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/chanlab>)
    set_target_properties(${lib} PROPERTIES OUTPUT_NAME chanlab_${name} EXPORT_NAME ${name}_${kind})
  endforeach()
  # SONAME libchanlab_NAME.so.MAJOR.MINOR.PATCH: before 1.0 no release
  # promises the ABI of the one before, so the whole version names it.
  set_target_properties(chanlab_${name}_shared PROPERTIES
    VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION}
    INSTALL_RPATH "$ORIGIN")
  # Only the public API is exported (cmake/chanlab.map): a program cannot
  # bind to csp__/harness__ internals that the next release may change.
  target_link_options(chanlab_${name}_shared PRIVATE
    "LINKER:--version-script=${CMAKE_CURRENT_LIST_DIR}/chanlab.map")
  set_property(TARGET chanlab_${name}_shared APPEND PROPERTY LINK_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/chanlab.map)
endfunction()

chanlab_installed_library(csp csp)
chanlab_installed_library(harness harness)

install(TARGETS chanlab RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The preload library of `chanlab exec`, which finds it at
# BINDIR/../LIBDIR (CHANLAB_EXEC_LIBDIR, cli/CMakeLists.txt).
install(TARGETS chanlab_exec LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS chanlab_csp_static chanlab_csp_shared chanlab_harness_static chanlab_harness_shared
        EXPORT chanlabTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Every public header of the two layers, whatever is added there.
file(GLOB CHANLAB_PUBLIC_HEADERS CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/runtime/include/*.h ${PROJECT_SOURCE_DIR}/harness/include/*.h)
install(FILES ${CHANLAB_PUBLIC_HEADERS} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/chanlab)

set(CHANLAB_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/chanlab)
install(EXPORT chanlabTargets NAMESPACE chanlab:: DESTINATION ${CHANLAB_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/chanlabConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/chanlabConfig.cmake INSTALL_DESTINATION ${CHANLAB_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/chanlabConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/chanlabConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/chanlabConfigVersion.cmake
        DESTINATION ${CHANLAB_CMAKE_DIR})

# chanlab.pc names the prefix that `cmake --install --prefix P` was given
# (not the configure-time CMAKE_INSTALL_PREFIX): the directories are filled
# in now, the prefix when the install runs, just before the file is copied.
set(CHANLAB_PC_PREFIX "@CMAKE_INSTALL_PREFIX@")
configure_file(${CMAKE_CURRENT_LIST_DIR}/chanlab.pc.in ${CMAKE_CURRENT_BINARY_DIR}/chanlab.pc.in @ONLY)
install(CODE "configure_file(\"${CMAKE_CURRENT_BINARY_DIR}/chanlab.pc.in\"
                             \"${CMAKE_CURRENT_BINARY_DIR}/chanlab.pc\" @ONLY)")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/chanlab.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
