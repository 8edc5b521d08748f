# Installs the build tree into WORK_DIR/prefix, then, against it: configures and builds the
# outside project (C++14 asked, raised to 17 by the package) and runs its handler test; builds
# the examples installed under share/nsq_client/examples as a project of their own; and checks
# that a missing dependency fails find_package with a message naming the Debian package.
# Any failing step fails the test with that step's output.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${what} failed (${result}):\n${out}\n${err}")
  endif()
endfunction()

set(prefix ${WORK_DIR}/prefix)
run_step("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

run_step("configuring the outside project" ${CMAKE_COMMAND} -S ${OUTSIDE_SOURCE}
  -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${prefix} -DEXAMPLE=${EXAMPLE}
  -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
run_step("building the outside project" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
if(NOT EXISTS ${WORK_DIR}/build/producer_example)
  message(FATAL_ERROR "the outside project built no producer_example")
endif()
run_step("the outside project's handler test" ${WORK_DIR}/build/handler_test)

set(examples ${prefix}/share/nsq_client/examples)
foreach(file CMakeLists.txt producer.cc consumer.cc job_worker.cc)
  if(NOT EXISTS ${examples}/${file})
    message(FATAL_ERROR "${examples}/${file} was not installed")
  endif()
endforeach()
run_step("configuring the installed examples" ${CMAKE_COMMAND} -S ${examples}
  -B ${WORK_DIR}/examples -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
run_step("building the installed examples" ${CMAKE_COMMAND} --build ${WORK_DIR}/examples)
foreach(example producer consumer job_worker)
  if(NOT EXISTS ${WORK_DIR}/examples/nsq_client_example_${example})
    message(FATAL_ERROR "the installed examples built no nsq_client_example_${example}")
  endif()
endforeach()

# As on a machine without libsnappy-dev: find_package(nsq_client) fails and says what to install.
execute_process(COMMAND ${CMAKE_COMMAND} -S ${OUTSIDE_SOURCE} -B ${WORK_DIR}/missing
  -DCMAKE_PREFIX_PATH=${prefix} -DEXAMPLE=${EXAMPLE} -DCMAKE_DISABLE_FIND_PACKAGE_Snappy=TRUE
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(result EQUAL 0)
  message(FATAL_ERROR "find_package(nsq_client) succeeded without Snappy:\n${out}\n${err}")
endif()
string(REPLACE "\n" " " err_one_line "${err}")
string(REGEX REPLACE " +" " " err_one_line "${err_one_line}")
if(NOT err_one_line MATCHES "Snappy \\(Debian package libsnappy-dev\\)")
  message(FATAL_ERROR "without Snappy the error does not name libsnappy-dev:\n${err}")
endif()
