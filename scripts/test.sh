#!/usr/bin/env bash
# Quick start (2): install what is missing, build, and run the whole test suite: unit,
# integration (real daemons on free loopback ports), nsqjs compatibility, the client library,
# then the client's multi-threaded tests again under ThreadSanitizer (CMake preset "tsan";
# NSQ_SKIP_TSAN=1 skips that stage). The tests start their own servers.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
(cd build && ctest --output-on-failure -j2 "$@")

if [ "${NSQ_SKIP_TSAN:-0}" != "1" ]; then
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan
  ctest --preset tsan
fi
