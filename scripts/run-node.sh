#!/usr/bin/env bash
# Quick start (1): install what is missing, build, and run a single nsqd in the foreground with
# its data in ./data. Ctrl-C stops it cleanly. Extra arguments are passed to nsqd.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
mkdir -p data/nsqd
exec ./build/nsqd/nsqd --tcp-address=127.0.0.1:4150 --http-address=127.0.0.1:4151 \
  --data-path=data/nsqd "$@"
