# tests/install.cmake — the `install` test (label unit): installs this build
# into a scratch prefix with the commands of the README's "Use chanlab in
# your project" (compared with the README verbatim), builds and runs
# examples/pipeline against it through find_package(chanlab) and through
# pkg-config, and checks the installed layout, `chanlab --version`, every
# installed header compiling on its own, and the static libraries. Skipped
# (77) in a sanitizer build. See install_test.sh.
add_test(NAME install
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install_test.sh ${PROJECT_SOURCE_DIR}
                 ${PROJECT_BINARY_DIR} ${PROJECT_VERSION} "${CMAKE_C_FLAGS}")
set_tests_properties(install PROPERTIES LABELS unit TIMEOUT 300 SKIP_RETURN_CODE 77)

# The README's runtime and cmocka examples, built with its commands and run:
# the cmocka example's output is the README's, line for line (readme_examples.sh).
add_test(NAME readme_examples
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/readme_examples.sh ${PROJECT_SOURCE_DIR}
                 ${PROJECT_BINARY_DIR} "${CMAKE_C_FLAGS}")
set_tests_properties(readme_examples PROPERTIES LABELS unit TIMEOUT 120 SKIP_RETURN_CODE 77)
