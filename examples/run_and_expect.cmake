# Runs an example and checks what it printed: cmake -DCOMMAND="prog;arg" -DEXPECT="re1;re2" -P
# The example must exit 0 and its output must match every regular expression, in any order.
execute_process(COMMAND ${COMMAND} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc
                TIMEOUT 120)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "example exited with ${rc}")
endif()
foreach(re IN LISTS EXPECT)
  if(NOT out MATCHES "${re}")
    message(FATAL_ERROR "example output lacks: ${re}")
  endif()
endforeach()
