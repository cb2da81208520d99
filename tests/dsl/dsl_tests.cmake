# The flow DSL, fmt and YAML/DSL equivalence (issue 4); after checker_tests.cmake,
# whose cli_expect and TRELLIS_SOURCE_DIR it uses.
target_sources(test_dsl PRIVATE dsl_equivalence_test.cpp)

# `trellis fmt` as users run it (issue 4): docs/cli.md exit codes, conversion both
# ways, --check for CI, --write in place; every seed flow exists as .flow too,
# canonical and clean under `trellis check`.
file(GLOB seed_dsl_flows ${TRELLIS_SOURCE_ROOT}/flows/*.flow)
add_test(NAME trellis_check_dsl_flows COMMAND trellis check ${seed_dsl_flows})
add_test(NAME trellis_fmt_check_dsl_flows COMMAND trellis fmt --check ${seed_dsl_flows})
# The YAML seeds too, now that end-of-line comments survive formatting.
add_test(NAME trellis_fmt_check_yaml_flows COMMAND trellis fmt --check ${seed_flows})
add_test(NAME trellis_fmt_yaml_to_dsl
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=0
                 -DEXPECT_STDOUT=${TRELLIS_SOURCE_ROOT}/flows/cart_reminder.flow
                 -P ${cli_expect} -- $<TARGET_FILE:trellis> fmt --to dsl flows/cart_reminder.yaml
         WORKING_DIRECTORY ${TRELLIS_SOURCE_ROOT})
add_test(NAME trellis_fmt_dsl_to_yaml
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=0
                 -DEXPECT_STDOUT=${CMAKE_CURRENT_SOURCE_DIR}/format/cart_reminder.yaml
                 -P ${cli_expect} -- $<TARGET_FILE:trellis> fmt --to yaml format/cart_reminder.flow
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME trellis_fmt_check_not_canonical
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=1 -P ${cli_expect} --
                 $<TARGET_FILE:trellis> fmt --check fmt/messy.flow
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME trellis_fmt_check_canonical
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=0 -P ${cli_expect} --
                 $<TARGET_FILE:trellis> fmt --check format/cart_reminder.yaml format/shapes.flow
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME trellis_fmt_broken_flow
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=1 -P ${cli_expect} --
                 $<TARGET_FILE:trellis> fmt dsl_syntax/missing_arrow.flow
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME trellis_fmt_no_file
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 -P ${cli_expect} -- $<TARGET_FILE:trellis> fmt)
add_test(NAME trellis_fmt_bad_option
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 -P ${cli_expect} --
                 $<TARGET_FILE:trellis> fmt --to xml flows/cart_reminder.yaml
         WORKING_DIRECTORY ${TRELLIS_SOURCE_ROOT})
add_test(NAME trellis_fmt_unreadable_file
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 -P ${cli_expect} --
                 $<TARGET_FILE:trellis> fmt no_such_flow.flow)
add_test(NAME trellis_fmt_write
         COMMAND ${CMAKE_COMMAND} -DTRELLIS=$<TARGET_FILE:trellis>
                 -DINPUT=${CMAKE_CURRENT_SOURCE_DIR}/fmt/messy.flow
                 -DEXPECTED=${CMAKE_CURRENT_SOURCE_DIR}/fmt/messy.expected.flow
                 -DWORK=${CMAKE_CURRENT_BINARY_DIR}/fmt_write
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/fmt_write.cmake)
# `trellis check` on a .flow with a syntax error prints its golden file.
add_test(NAME trellis_check_dsl_syntax_error
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=1
                 -DEXPECT_STDOUT=${CMAKE_CURRENT_SOURCE_DIR}/dsl_syntax/missing_brace.expected
                 -P ${cli_expect} -- $<TARGET_FILE:trellis> check missing_brace.flow
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/dsl_syntax)
add_test(NAME trellis_fmt_help
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=0 -P ${cli_expect} -- $<TARGET_FILE:trellis> fmt --help)
# Comments wherever they stand (issue 18): fmt keeps every one, in both syntaxes.
add_test(NAME trellis_fmt_keeps_comments
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=0
                 -DEXPECT_STDOUT=${CMAKE_CURRENT_SOURCE_DIR}/fmt/commented.expected.yaml
                 -P ${cli_expect} -- $<TARGET_FILE:trellis> fmt fmt/commented.yaml
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME trellis_fmt_keeps_comments_to_dsl
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=0
                 -DEXPECT_STDOUT=${CMAKE_CURRENT_SOURCE_DIR}/fmt/commented.expected.flow
                 -P ${cli_expect} -- $<TARGET_FILE:trellis> fmt --to dsl fmt/commented.yaml
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME trellis_fmt_keeps_comments_to_yaml
         COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=0
                 -DEXPECT_STDOUT=${CMAKE_CURRENT_SOURCE_DIR}/fmt/commented.expected.yaml
                 -P ${cli_expect} -- $<TARGET_FILE:trellis> fmt --to yaml fmt/commented.expected.flow
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
