#!/usr/bin/env bash
# Quick start (2): install what is missing, build, and run the whole test suite:
#   1. unit, integration (real daemons on free loopback ports), nsqjs compatibility and the
#      client library, in the Release build (build/), with nsqd on one shard
#      (NSQD_WORKER_THREADS=1; nsqd's own default is one shard per CPU);
#   2. the integration and compatibility tests again with nsqd on 4 shards;
#   3. ThreadSanitizer (preset "tsan", build-tsan/): the client's multi-threaded tests, then the
#      daemons' integration and nsqjs tests against nsqd (4 shards) and nsqlookupd built with
#      TSan; any report fails the stage;
#   4. AddressSanitizer + UBSan (preset "asan", build-asan/): the unit, integration and
#      compatibility suites, every test and daemon instrumented (nsqd at its default shards);
#   5. every fuzz target for 30 s (scripts/fuzz.sh; clang-14, build-fuzz/).
# NSQ_SKIP_TSAN=1, NSQ_SKIP_ASAN=1 and NSQ_SKIP_FUZZ=1 skip stages 3, 4 and 5. The tests start
# their own servers.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
./scripts/setup.sh
./scripts/build.sh
(cd build && NSQD_WORKER_THREADS=1 ctest --output-on-failure -j2 "$@")
# The tests that start nsqd once more with 4 shards (--worker-threads=4): topics owned by every
# shard, connections served on every shard, publishes and subscribers handed to the owner.
(cd build && NSQD_WORKER_THREADS=4 ctest --output-on-failure -j2 -L 'integration|compat' "$@")

if [ "${NSQ_SKIP_TSAN:-0}" != "1" ]; then
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan
  ctest --preset tsan
  # The Release test programs drive the TSan daemons (NSQD_BINARY / NSQLOOKUPD_BINARY); each
  # daemon writes its reports to a file of its own in $reports.
  reports="$(mktemp -d -t nsq-tsan.XXXXXX)"
  (cd build && NSQ_TEST_SANITIZED=1 NSQD_WORKER_THREADS=4 \
     NSQD_BINARY="$root/build-tsan/nsqd/nsqd" NSQLOOKUPD_BINARY="$root/build-tsan/lookupd/nsqlookupd" \
     TSAN_OPTIONS="log_path=$reports/report:suppressions=$root/tests/tsan.supp" \
     ctest --output-on-failure -j2 -L 'integration|compat' -E '^client_' "$@")
  if compgen -G "$reports/report.*" >/dev/null; then
    echo "ThreadSanitizer reported in the daemons:" >&2
    cat "$reports"/report.* >&2
    exit 1
  fi
  rm -rf "$reports"
fi

if [ "${NSQ_SKIP_ASAN:-0}" != "1" ]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  ctest --preset asan -L 'unit|integration|compat'
fi

if [ "${NSQ_SKIP_FUZZ:-0}" != "1" ]; then
  ./scripts/fuzz.sh all 30
fi
