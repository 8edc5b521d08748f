#!/usr/bin/env bash
# What connections cost nsqd: memory per idle connection, a crowd of active clients on top of
# them, and what is left once they are gone. One nsqd (free loopback ports, temporary
# --data-path), then:
#   1. IDLE (10000) connections that IDENTIFY and then only answer heartbeats (nsq_bench idle):
#      nsqd's RSS before and with them, per connection
#   2. while they stay: PUBLISHERS (1000) connections publishing PUB (batch 1, one round trip
#      at a time) and CONSUMERS (1000) connections consuming one channel of that topic, for
#      RUNFOR (10s): msgs/s each way, nsqd's CPU per message (/proc/<pid>/stat) and peak RSS
#   3. every connection closed: nsqd's RSS
#   4. the same IDLE connections once more, and closed again: RSS (freed memory is reused)
# nsqd's file limit is raised to what the connections need. Tables to stdout, progress to
# stderr.
#
# usage: tools/bench/run_connection_benchmarks.sh [path/to/nsqd]   (default: build/nsqd/nsqd)
# env:   IDLE (10000), PUBLISHERS (1000), CONSUMERS (1000), RUNFOR (10s),
#        NSQ_BENCH (default: build/tools/bench/nsq_bench)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
nsqd_bin=${1:-$repo/build/nsqd/nsqd}
bench=${NSQ_BENCH:-$repo/build/tools/bench/nsq_bench}
idle=${IDLE:-10000}
publishers=${PUBLISHERS:-1000}
consumers=${CONSUMERS:-1000}
runfor=${RUNFOR:-10s}
connections=1  # bench_lib's default; every call below sets its own

[[ -x $nsqd_bin ]] || { echo "no nsqd binary at $nsqd_bin" >&2; exit 2; }
[[ -x $bench ]] || { echo "no nsq_bench at $bench (build target nsq_bench)" >&2; exit 2; }

needed_files=$((idle + publishers + consumers + 1024))
if [[ $(ulimit -Hn) != unlimited && $(ulimit -Hn) -lt $needed_files ]]; then
  echo "the hard file limit ($(ulimit -Hn)) is below the $needed_files this run needs" >&2
  exit 2
fi
ulimit -n "$needed_files"

work_dir=$(mktemp -d -t nsq_conn_bench.XXXXXX)
# shellcheck source=tools/bench/bench_lib.sh
source "$repo/tools/bench/bench_lib.sh"
idle_pid=""
cleanup() {
  [[ -n $idle_pid ]] && kill "$idle_pid" 2>/dev/null
  stop_nsqd
  rm -rf "$work_dir"
}
trap cleanup EXIT

rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$nsqd_pid/status"; }
hwm_kb() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$nsqd_pid/status"; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f MiB", kb / 1024 }'; }

# hold_idle: starts $idle idle connections in the background and waits until all are set up.
hold_idle() {
  local out="$work_dir/idle.out"
  "$bench" idle --nsqd-tcp-address="$tcp_address" --connections="$idle" --runfor=1h \
    >"$out" 2>&1 &
  idle_pid=$!
  while ! grep -q '^IDLE ready=' "$out"; do
    if ! kill -0 "$idle_pid" 2>/dev/null; then
      cat "$out" >&2
      exit 1
    fi
    sleep 0.1
  done
}

# release_idle: closes the idle connections and waits until nsqd has let every client go.
release_idle() {
  kill "$idle_pid"
  wait "$idle_pid" 2>/dev/null || true
  idle_pid=""
  wait_for_no_clients
}

# wait_for_no_clients: until nsqd's /stats lists no client (the closes are processed).
wait_for_no_clients() {
  for _ in $(seq 1 600); do
    [[ $(curl -fsS "http://$http_address/stats?format=json" | grep -c '"client_id"') -eq 0 ]] &&
      return 0
    sleep 0.1
  done
  echo "# nsqd still lists clients" >&2
}

start_nsqd data
# One connection and one publish first, so what every connection shares is paid up front.
nsq_bench writer --topic=warm --count=1 --runfor=5s >/dev/null
wait_for_no_clients
baseline=$(rss_kb)

echo "# 1. $idle idle connections" >&2
hold_idle
with_idle=$(rss_kb)
per_idle=$(awk -v a="$with_idle" -v b="$baseline" -v n="$idle" 'BEGIN { printf "%.1f", (a - b) * 1024 / n / 1000 }')

echo "# 2. + $publishers publishers and $consumers consumers for $runfor" >&2
create_channel crowd
ticks_before=$(nsqd_cpu_ticks)
"$bench" reader --nsqd-tcp-address="$tcp_address" --topic=crowd --channel=ch \
  --connections="$consumers" --rdy=100 --runfor="$runfor" >"$work_dir/reader.out" 2>&1 &
reader_pid=$!
writer_code=0
"$bench" writer --nsqd-tcp-address="$tcp_address" --topic=crowd --batch-size=1 \
  --connections="$publishers" --runfor="$runfor" >"$work_dir/writer.out" 2>&1 || writer_code=$?
reader_code=0
wait "$reader_pid" || reader_code=$?
ticks_after=$(nsqd_cpu_ticks)
with_crowd_peak=$(hwm_kb)
parse_result "$work_dir/writer.out" "$writer_code"
published=$msgs publish_rate=$rate
parse_result "$work_dir/reader.out" "$reader_code"
consumed=$msgs consume_rate=$rate
cpu=$(cpu_us_per_msg $((ticks_after - ticks_before)) $((published + consumed)))

echo "# 3. closing everything" >&2
release_idle
after_close=$(rss_kb)

echo "# 4. $idle idle connections again, then closed" >&2
hold_idle
second_idle=$(rss_kb)
release_idle
after_second=$(rss_kb)

echo "nsqd: \`$nsqd_bin\`; $idle idle connections (nsq_bench idle), then $publishers PUB" \
  "connections and $consumers consumer connections (RDY 100) on one topic/channel for $runfor"
echo
echo "| measurement | value |"
echo "|---|---|"
echo "| nsqd RSS, no clients | $(mib "$baseline") |"
echo "| with $idle idle connections | $(mib "$with_idle") = $per_idle KB per connection |"
echo "| + $publishers publishers, $consumers consumers: published | $published ($publish_rate msgs/s) |"
echo "| consumed | $consumed ($consume_rate msgs/s) |"
echo "| nsqd CPU per message published or consumed | $cpu us |"
echo "| nsqd peak RSS (VmHWM) with all $((idle + publishers + consumers)) connections | $(mib "$with_crowd_peak") |"
echo "| RSS once every connection closed | $(mib "$after_close") |"
echo "| with $idle idle connections again | $(mib "$second_idle") |"
echo "| closed again | $(mib "$after_second") |"
