# Run by the CTest fixture compat_npm_install:
#   cmake -DSOURCE_DIR=<tests/compat> -DINSTALL_DIR=<build>/compat -DNPM=<npm> -P npm_install.cmake
# Copies package.json and .npmrc next to the build and installs the pinned nsqjs there. Skips
# the install when the same package.json was installed before, so repeated test runs need no
# network.
file(MAKE_DIRECTORY "${INSTALL_DIR}")
file(COPY "${SOURCE_DIR}/package.json" "${SOURCE_DIR}/.npmrc" DESTINATION "${INSTALL_DIR}")

set(stamp "${INSTALL_DIR}/node_modules/.nsq-compat-package.json")
if(EXISTS "${stamp}" AND EXISTS "${INSTALL_DIR}/node_modules/nsqjs/package.json")
  file(READ "${stamp}" installed)
  file(READ "${SOURCE_DIR}/package.json" wanted)
  if(installed STREQUAL wanted)
    message(STATUS "nsqjs already installed in ${INSTALL_DIR}")
    return()
  endif()
endif()

execute_process(
  COMMAND "${NPM}" install --no-audit --no-fund
  WORKING_DIRECTORY "${INSTALL_DIR}"
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "npm install failed (${result}) in ${INSTALL_DIR}")
endif()
file(COPY_FILE "${SOURCE_DIR}/package.json" "${stamp}")
