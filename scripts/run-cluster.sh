#!/usr/bin/env bash
# Runs a local 3-node cluster in the foreground: 2 nsqlookupd and 3 nsqd on 127.0.0.1, every
# nsqd registered with both lookupds, data in ./data/cluster/nsqdN, logs in ./data/cluster/*.log.
# Installs what is missing and builds first (like run-node.sh). Ctrl-C stops everything.
#
#   nsqlookupd 1  TCP 127.0.0.1:4160  HTTP 127.0.0.1:4161
#   nsqlookupd 2  TCP 127.0.0.1:4162  HTTP 127.0.0.1:4163
#   nsqd 1        TCP 127.0.0.1:4150  HTTP 127.0.0.1:4151
#   nsqd 2        TCP 127.0.0.1:4152  HTTP 127.0.0.1:4153
#   nsqd 3        TCP 127.0.0.1:4154  HTTP 127.0.0.1:4155
#
# Environment: NO_BUILD=1 skips setup and build; BUILD_DIR (default build) is where the
# binaries are; DATA_DIR (default data/cluster) is where data and logs go.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir="${BUILD_DIR:-build}"
data_dir="${DATA_DIR:-data/cluster}"
if [ "${NO_BUILD:-0}" != 1 ]; then
  ./scripts/setup.sh
  ./scripts/build.sh
fi
nsqd_bin="$build_dir/nsqd/nsqd"
lookupd_bin="$build_dir/lookupd/nsqlookupd"
for bin in "$nsqd_bin" "$lookupd_bin"; do
  [ -x "$bin" ] || { echo "run-cluster: $bin is missing (build first)" >&2; exit 1; }
done

lookupd_ports=(4160 4162)  # TCP; HTTP is the next port up
nsqd_ports=(4150 4152 4154)
pids=()
names=()

stop_all() {
  trap - INT TERM EXIT
  echo
  echo "run-cluster: stopping"
  # In reverse start order, one at a time: the nsqd nodes go while their lookupds still run.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  echo "run-cluster: stopped (data and logs kept in $data_dir)"
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

# start NAME LOG BINARY ARGS...: runs BINARY in the background with its output in LOG.
start() {
  local name="$1" log="$2"
  shift 2
  "$@" >"$log" 2>&1 &
  pids+=("$!")
  names+=("$name")
}

# wait_http NAME PORT: until GET /ping answers, or fail if the daemon died (port in use?).
wait_http() {
  local name="$1" port="$2" pid="${pids[${#pids[@]} - 1]}" log="$3"
  for _ in $(seq 100); do
    if curl -fsS "http://127.0.0.1:$port/ping" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run-cluster: $name exited during startup; last lines of $log:" >&2
      tail -n 20 "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "run-cluster: $name did not answer on 127.0.0.1:$port/ping" >&2
  exit 1
}

mkdir -p "$data_dir"
lookupd_flags=()
for i in "${!lookupd_ports[@]}"; do
  tcp="${lookupd_ports[i]}"
  http=$((tcp + 1))
  log="$data_dir/nsqlookupd$((i + 1)).log"
  start "nsqlookupd$((i + 1))" "$log" "$lookupd_bin" --tcp-address="127.0.0.1:$tcp" \
    --http-address="127.0.0.1:$http" --broadcast-address=127.0.0.1
  wait_http "nsqlookupd$((i + 1))" "$http" "$log"
  lookupd_flags+=("--lookupd-tcp-address=127.0.0.1:$tcp")
done
for i in "${!nsqd_ports[@]}"; do
  tcp="${nsqd_ports[i]}"
  http=$((tcp + 1))
  node_dir="$data_dir/nsqd$((i + 1))"
  log="$data_dir/nsqd$((i + 1)).log"
  mkdir -p "$node_dir"
  start "nsqd$((i + 1))" "$log" "$nsqd_bin" --tcp-address="127.0.0.1:$tcp" \
    --http-address="127.0.0.1:$http" --data-path="$node_dir" \
    --broadcast-address=127.0.0.1 "${lookupd_flags[@]}"
  wait_http "nsqd$((i + 1))" "$http" "$log"
done

cat <<EOF
run-cluster: up
  nsqlookupd1  TCP 127.0.0.1:4160  HTTP http://127.0.0.1:4161
  nsqlookupd2  TCP 127.0.0.1:4162  HTTP http://127.0.0.1:4163
  nsqd1        TCP 127.0.0.1:4150  HTTP http://127.0.0.1:4151   data $data_dir/nsqd1
  nsqd2        TCP 127.0.0.1:4152  HTTP http://127.0.0.1:4153   data $data_dir/nsqd2
  nsqd3        TCP 127.0.0.1:4154  HTTP http://127.0.0.1:4155   data $data_dir/nsqd3
  logs         $data_dir/*.log

Try it (from another terminal):
  for p in 4151 4153 4155; do curl -d "hello from :\$p" "http://127.0.0.1:\$p/pub?topic=jobs"; done
  curl 'http://127.0.0.1:4161/lookup?topic=jobs'    # the 3 producers of "jobs"
  curl 'http://127.0.0.1:4163/nodes'

Ctrl-C stops the cluster.
EOF

# Stay in the foreground until Ctrl-C, or until one daemon exits on its own.
while true; do
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[i]}" 2>/dev/null; then
      echo "run-cluster: ${names[i]} exited; see $data_dir/${names[i]}.log" >&2
      exit 1
    fi
  done
  # In the background, so a signal runs the trap at once instead of after the sleep.
  sleep 1 &
  wait $! || true
done
