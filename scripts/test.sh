#!/usr/bin/env bash
# Quick start (2): install what is missing, build, and run the whole test suite: unit,
# integration (real daemons on free loopback ports), nsqjs compatibility, the client library,
# the integration and compatibility tests again with nsqd on 4 shards,
# then the client's multi-threaded tests again under ThreadSanitizer (CMake preset "tsan";
# NSQ_SKIP_TSAN=1 skips that stage). The tests start their own servers.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
(cd build && ctest --output-on-failure -j2 "$@")
# The tests that start nsqd once more with 4 shards (--worker-threads=4): connections served on
# every shard, their commands handed to shard 0.
(cd build && NSQD_WORKER_THREADS=4 ctest --output-on-failure -j2 -L 'integration|compat' "$@")

if [ "${NSQ_SKIP_TSAN:-0}" != "1" ]; then
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan
  ctest --preset tsan
fi
