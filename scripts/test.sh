#!/usr/bin/env bash
# Quick start (2): install what is missing, build, and run the whole test suite (unit,
# integration, nsqjs compatibility). The tests start their own servers on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
cd build
ctest --output-on-failure -j2 "$@"
