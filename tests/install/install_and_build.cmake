# Installs the build tree into WORK_DIR/prefix, then configures and builds the outside project
# against it. Any failing step fails the test with that step's output.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${what} failed (${result}):\n${out}\n${err}")
  endif()
endfunction()

run_step("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run_step("configuring the outside project" ${CMAKE_COMMAND} -S ${OUTSIDE_SOURCE}
  -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DEXAMPLE=${EXAMPLE}
  -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
run_step("building the outside project" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
if(NOT EXISTS ${WORK_DIR}/build/producer_example)
  message(FATAL_ERROR "the outside project built no producer_example")
endif()
