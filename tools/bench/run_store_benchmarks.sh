#!/usr/bin/env bash
# Benchmarks nsqd's store (durability) settings against its memory path, in one run, and
# prints markdown tables with the ratios:
#   1. memory path (--mem-queue-size=1000000): MPUB 200 x 200 B publish of COUNT messages, then
#      drain them (RDY 2500, FIN each), then PUB batch 1 (one round trip at a time) for RUNFOR
#   2. store path (--mem-queue-size=0: every message goes through RocksDB): the same
#   3. durable mode (--mem-queue-size=0 --sync-every=1: OK only once the WAL is fsynced): MPUB
#      200 for RUNFOR (at most COUNT), and PUB batch 1 for RUNFOR; CONNECTIONS connections
#      share each fsync (group commit)
#   4. restart with a backlog: COUNT messages published in store mode, SIGTERM (timed), then
#      start again and time start-to-first-delivery; the data dir's size along the way, and
#      after the backlog is drained (compaction shrinks it)
# Each section gets a fresh nsqd (free loopback ports, temporary --data-path). Progress and
# raw output go to stderr, the tables to stdout.
#
# usage: tools/bench/run_store_benchmarks.sh [path/to/nsqd]      (default: build/nsqd/nsqd)
# env:   COUNT (1000000), RUNFOR (10s), READ_LIMIT (120s), CONNECTIONS (CPUs),
#        NSQ_BENCH (default: build/tools/bench/nsq_bench)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
nsqd_bin=${1:-$repo/build/nsqd/nsqd}
bench=${NSQ_BENCH:-$repo/build/tools/bench/nsq_bench}
count=${COUNT:-1000000}
runfor=${RUNFOR:-10s}
read_limit=${READ_LIMIT:-120s}
connections=${CONNECTIONS:-$(nproc)}

[[ -x $nsqd_bin ]] || { echo "no nsqd binary at $nsqd_bin" >&2; exit 2; }
[[ -x $bench ]] || { echo "no nsq_bench at $bench (build target nsq_bench)" >&2; exit 2; }

work_dir=$(mktemp -d -t nsq_store_bench.XXXXXX)
# shellcheck source=tools/bench/bench_lib.sh
source "$repo/tools/bench/bench_lib.sh"
cleanup() {
  stop_nsqd
  rm -rf "$work_dir"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
dir_mib() { du -sb "$1" | awk '{ printf "%.1f", $1 / 1048576 }'; }
rows=()

# publish_drain_pub1 NAME: MPUB COUNT, drain them, PUB batch 1 for RUNFOR, against the
# current nsqd; sets publish_rate, drain_rate, pub1_rate.
publish_drain_pub1() {
  local name=$1
  create_channel mpub
  echo "# $name: MPUB 200 x 200 B, $count msgs" >&2
  measure writer --topic=mpub --count="$count" --runfor="$read_limit" --batch-size=200 --size=200
  rows+=("| $name | MPUB 200, publish $count | $detail |")
  publish_rate=$rate
  drain_rate=0
  if [[ $msgs -gt 0 ]]; then
    echo "# $name: drain $msgs msgs" >&2
    measure reader --topic=mpub --channel=ch --count="$msgs" --runfor="$read_limit" \
      --rdy=2500 --size=200
    rows+=("| $name | consume that backlog | $detail |")
    drain_rate=$rate
  fi
  create_channel pub1
  echo "# $name: PUB batch 1 for $runfor" >&2
  measure writer --topic=pub1 --count="$count" --runfor="$runfor" --batch-size=1 --size=200
  rows+=("| $name | PUB batch 1, $runfor | $detail |")
  pub1_rate=$rate
}

start_nsqd memory --mem-queue-size=1000000
publish_drain_pub1 memory
memory_publish=$publish_rate memory_drain=$drain_rate memory_pub1=$pub1_rate
stop_nsqd

start_nsqd store --mem-queue-size=0
publish_drain_pub1 "store (--mem-queue-size=0)"
store_publish=$publish_rate store_drain=$drain_rate store_pub1=$pub1_rate
stop_nsqd

start_nsqd durable --mem-queue-size=0 --sync-every=1
create_channel mpub
echo "# durable: MPUB 200 for $runfor" >&2
measure writer --topic=mpub --count="$count" --runfor="$runfor" --batch-size=200 --size=200
rows+=("| durable (--mem-queue-size=0 --sync-every=1) | MPUB 200, $runfor | $detail |")
durable_publish=$rate
create_channel pub1
echo "# durable: PUB batch 1 for $runfor" >&2
measure writer --topic=pub1 --count="$count" --runfor="$runfor" --batch-size=1 --size=200
rows+=("| durable (--mem-queue-size=0 --sync-every=1) | PUB batch 1, $runfor | $detail |")
durable_pub1=$rate
stop_nsqd

echo "# restart: $count msgs in the store, SIGTERM, start, first delivery" >&2
start_nsqd restart --mem-queue-size=0
create_channel backlog
measure writer --topic=backlog --count="$count" --runfor="$read_limit" --batch-size=200 \
  --size=200
backlog=$msgs
size_full=$(dir_mib "$work_dir/restart")
t0=$(now_ms)
stop_nsqd
shutdown_ms=$(($(now_ms) - t0))
t0=$(now_ms)
start_nsqd restart --mem-queue-size=0
listening_ms=$(($(now_ms) - t0))
# The reader stops after its first message; it may have received (and finished) a few more.
first_code=0
nsq_bench reader --topic=backlog --channel=ch --count=1 --connections=1 --runfor=60s \
  --size=200 >"$work_dir/first.out" 2>&1 || first_code=$?
first_ms=$(($(now_ms) - t0))
parse_result "$work_dir/first.out" "$first_code"
first_msgs=$msgs
restored_line=$(grep -o 'restored .*' "$work_dir/restart.log" | tail -n1 || true)
measure reader --topic=backlog --channel=ch --count=$((backlog - first_msgs)) \
  --runfor="$read_limit" --rdy=2500 --size=200
after_restart_drain=$rate
# Compaction of the drained range runs in the background: give it up to 30 s.
size_drained=$(dir_mib "$work_dir/restart")
for _ in $(seq 1 60); do
  size_drained=$(dir_mib "$work_dir/restart")
  awk -v d="$size_drained" -v f="$size_full" 'BEGIN { exit !(d < f / 4) }' && break
  sleep 0.5
done
stop_nsqd

echo "nsqd: \`$nsqd_bin\`, $connections connections per nsq_bench process, 200-byte messages"
echo
echo "| setting | benchmark | messages | seconds | msgs/s | MB/s |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "| ratio | value |"
echo "|---|---|"
echo "| store path / memory path, MPUB 200 publish | $(ratio "$store_publish" "$memory_publish") |"
echo "| store path / memory path, consume | $(ratio "$store_drain" "$memory_drain") |"
echo "| store path / memory path, PUB batch 1 | $(ratio "$store_pub1" "$memory_pub1") |"
echo "| durable / memory path, MPUB 200 publish | $(ratio "$durable_publish" "$memory_publish") |"
echo "| durable / memory path, PUB batch 1 | $(ratio "$durable_pub1" "$memory_pub1") |"
echo
echo "| restart with $backlog messages in the store | value |"
echo "|---|---|"
echo "| SIGTERM to exit | $shutdown_ms ms |"
echo "| start to listening | $listening_ms ms |"
echo "| start to first delivery | $first_ms ms |"
echo "| consume the rest after the restart | $after_restart_drain msgs/s |"
echo "| data dir with the backlog | $size_full MiB |"
echo "| data dir once drained (and compacted) | $size_drained MiB |"
echo "| nsqd's start-up log | ${restored_line:-?} |"
