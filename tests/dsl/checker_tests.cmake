# Included from tests/dsl/CMakeLists.txt: the tests of the YAML front end, the
# checker, graph export, the `check` and `graph` commands and the flows/ seeds.
target_sources(test_dsl PRIVATE
  diagnostic_kinds_test.cpp
  diagnostics_golden_test.cpp
  flows_test.cpp
  graph_export_test.cpp
  known_names_test.cpp
  loader_test.cpp
  robustness_test.cpp)
target_compile_definitions(test_dsl PRIVATE TRELLIS_SOURCE_DIR="${TRELLIS_SOURCE_ROOT}")

# `trellis check` as users run it: the seeds are clean, exit codes follow docs/cli.md#trellis-check.
file(GLOB seed_flows ${TRELLIS_SOURCE_ROOT}/flows/*.yaml)
# flows/trellis.yaml is the delivery configuration, not a flow (tests/runtime/delivery checks it).
list(FILTER seed_flows EXCLUDE REGEX "/trellis\\.yaml$")
add_test(NAME trellis_check_flows COMMAND trellis check ${seed_flows})
set(cli_expect ${CMAKE_CURRENT_SOURCE_DIR}/cli_expect.cmake)
add_test(NAME trellis_check_bad_flow
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=1
                 -DEXPECT_STDOUT=${CMAKE_CURRENT_SOURCE_DIR}/diagnostics/unknown_targets.expected
                 -P ${cli_expect} -- $<TARGET_FILE:trellis> check unknown_targets.yaml
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/diagnostics)
add_test(NAME trellis_check_warnings_only
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=0 -P ${cli_expect} --
                 $<TARGET_FILE:trellis> check diagnostics/unreachable.yaml
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
# A flow beside a trellis.yaml with `traits:` is checked against them (a warning: exit 0).
add_test(NAME trellis_check_declared_traits
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=0
                 -DEXPECT_STDOUT=${CMAKE_CURRENT_SOURCE_DIR}/declared_traits/greet.expected
                 -P ${cli_expect} -- $<TARGET_FILE:trellis> check greet.yaml
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/declared_traits)
add_test(NAME trellis_check_no_files
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 -P ${cli_expect} -- $<TARGET_FILE:trellis> check)
add_test(NAME trellis_check_unreadable_file
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 -P ${cli_expect} --
                 $<TARGET_FILE:trellis> check no_such_flow.yaml)
add_test(NAME trellis_graph_mermaid
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=0
                 -DEXPECT_STDOUT=${CMAKE_CURRENT_SOURCE_DIR}/graph/cart_reminder.mmd
                 -P ${cli_expect} -- $<TARGET_FILE:trellis> graph flows/cart_reminder.yaml
         WORKING_DIRECTORY ${TRELLIS_SOURCE_ROOT})
add_test(NAME trellis_graph_broken_flow
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=1 -P ${cli_expect} --
                 $<TARGET_FILE:trellis> graph --dot tests/dsl/diagnostics/unknown_targets.yaml
         WORKING_DIRECTORY ${TRELLIS_SOURCE_ROOT})
# The robustness test reads mutants with yaml-cpp itself, as an oracle
# independent of the loader.
find_package(yaml-cpp REQUIRED)
target_link_libraries(test_dsl PRIVATE yaml-cpp)
