#!/usr/bin/env bash
# Quick start (1): install what is missing, build, and run a single node in the foreground:
# nsqlookupd (127.0.0.1:4160 TCP, :4161 HTTP) and nsqd (127.0.0.1:4150 TCP, :4151 HTTP,
# registered with that lookupd, data in ./data/nsqd). Ctrl-C stops both cleanly.
# Extra arguments are passed to nsqd.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
mkdir -p data/nsqd

./build/lookupd/nsqlookupd --tcp-address=127.0.0.1:4160 --http-address=127.0.0.1:4161 \
  --broadcast-address=127.0.0.1 &
lookupd_pid=$!
stop() {
  kill -TERM "$lookupd_pid" 2>/dev/null || true
  wait "$lookupd_pid" 2>/dev/null || true
}
trap stop EXIT

# Not exec: the trap must stop nsqlookupd once nsqd has exited (Ctrl-C reaches both).
./build/nsqd/nsqd --tcp-address=127.0.0.1:4150 --http-address=127.0.0.1:4151 \
  --broadcast-address=127.0.0.1 --lookupd-tcp-address=127.0.0.1:4160 \
  --data-path=data/nsqd "$@"
