#!/usr/bin/env bash
# Benchmarks an nsqd binary (ours or Go's) with nsq_bench and prints markdown tables:
#   1. writer: MPUB batches of 200 x 200-byte messages, publish only, for RUNFOR or until
#      WRITE_COUNT messages (default 1000000 = --mem-queue-size, so the backlog stays in memory)
#   2. reader: consumes the backlog left by 1 (stops when it has it all, or at READ_LIMIT)
#   3. writer and reader at the same time, two processes, on a separate topic
#   4. writer with --batch-size=1: PUB, one round trip at a time per connection (also capped
#      at WRITE_COUNT)
#   5. nsqd's peak RSS (VmHWM) once 1,000,000 messages of 200 bytes are queued in memory
#      (a fresh nsqd, so 1-4 do not count)
# Each row also gives nsqd's CPU per message (user + system time from /proc/<pid>/stat over the
# run; for 3, per message published or consumed), the broker's own cost, which the bench
# processes sharing the cores do not blur.
# nsqd runs on free loopback ports with a temporary --data-path and --mem-queue-size=1000000,
# and gets SIGTERM at the end. Progress and raw output go to stderr, the tables to stdout.
#
# usage: tools/bench/run_benchmarks.sh [path/to/nsqd]      (default: build/nsqd/nsqd)
# env:   RUNFOR        run time of 1, 3 and 4 (Go duration, default 10s)
#        WRITE_COUNT   most messages 1 and 4 publish (default 1000000; 0 = only RUNFOR limits)
#        READ_LIMIT    longest run of 2 (default 60s)
#        CONNECTIONS   connections per nsq_bench process (default: number of CPUs)
#        RSS_MESSAGES  messages queued for 5 (default 1000000)
#        NSQ_BENCH     the nsq_bench binary (default: build/tools/bench/nsq_bench)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
nsqd_bin=${1:-$repo/build/nsqd/nsqd}
bench=${NSQ_BENCH:-$repo/build/tools/bench/nsq_bench}
runfor=${RUNFOR:-10s}
write_count=${WRITE_COUNT:-1000000}
read_limit=${READ_LIMIT:-60s}
connections=${CONNECTIONS:-$(nproc)}
rss_messages=${RSS_MESSAGES:-1000000}
measure="$repo/tools/bench/measure.sh"

[[ -x $nsqd_bin ]] || { echo "no nsqd binary at $nsqd_bin" >&2; exit 2; }
[[ -x $bench ]] || { echo "no nsq_bench at $bench (build target nsq_bench)" >&2; exit 2; }

work_dir=$(mktemp -d -t nsq_bench.XXXXXX)
# shellcheck source=tools/bench/bench_lib.sh
source "$repo/tools/bench/bench_lib.sh"
cleanup() {
  stop_nsqd
  rm -rf "$work_dir"
}
trap cleanup EXIT

rows=()
last_msgs=0

# record NUMBER LABEL OUTPUT_FILE EXIT_CODE CPU: adds a table row from nsq_bench's RESULT line;
# CPU is nsqd's CPU per message of the run (us).
record() {
  local number=$1 label=$2 cpu=$5
  parse_result "$3" "$4"
  if [[ $msgs -eq 0 ]]; then
    rows+=("| $number | $label | ${detail%% |*} | | | | | |")
    last_msgs=0
    return
  fi
  local us
  us=$(awk -v s="$seconds" -v m="$msgs" 'BEGIN { printf "%.3f", s * 1e6 / m }')
  rows+=("| $number | $label | $msgs | $seconds | $rate | $mbs | $us | $cpu |")
  last_msgs=$msgs
}

# run NUMBER LABEL MODE ARGS...: one nsq_bench process, recorded.
run() {
  local number=$1 label=$2
  shift 2
  local out="$work_dir/out.$number.$RANDOM" code=0 ticks
  echo "# $number. $label" >&2
  ticks=$(nsqd_cpu_ticks)
  nsq_bench "$@" >"$out" 2>&1 || code=$?
  ticks=$(($(nsqd_cpu_ticks) - ticks))
  parse_result "$out" "$code" 2>/dev/null
  record "$number" "$label" "$out" "$code" "$(cpu_us_per_msg "$ticks" "$msgs")"
}

start_nsqd main --mem-queue-size=1000000

create_channel sub_bench
run 1 "writer, MPUB 200 x 200 B, publish only" writer --topic=sub_bench --runfor="$runfor" \
  --count="$write_count" --batch-size=200 --size=200
written=$last_msgs
if [[ $written -gt 0 ]]; then
  run 2 "reader, drain that backlog ($written msgs)" reader --topic=sub_bench --channel=ch \
    --count="$written" --runfor="$read_limit" --size=200
else
  rows+=("| 2 | reader, drain the backlog | skipped: nothing was written | | | | |")
fi

echo "# 3. writer and reader at once" >&2
create_channel pubsub_bench
reader_out="$work_dir/out.3r" writer_out="$work_dir/out.3w"
nsq_bench reader --topic=pubsub_bench --channel=ch --runfor="$runfor" --size=200 \
  >"$reader_out" 2>&1 &
reader_pid=$!
writer_code=0 reader_code=0 ticks=$(nsqd_cpu_ticks)
nsq_bench writer --topic=pubsub_bench --runfor="$runfor" --batch-size=200 --size=200 \
  >"$writer_out" 2>&1 || writer_code=$?
wait "$reader_pid" || reader_code=$?
ticks=$(($(nsqd_cpu_ticks) - ticks))
# The CPU figure is per message published or consumed (both rows carry it).
parse_result "$writer_out" "$writer_code" 2>/dev/null
both=$msgs
parse_result "$reader_out" "$reader_code" 2>/dev/null
cpu=$(cpu_us_per_msg "$ticks" $((both + msgs)))
record 3 "writer and reader at once: writer" "$writer_out" "$writer_code" "$cpu"
record 3 "writer and reader at once: reader" "$reader_out" "$reader_code" "$cpu"

run 4 "writer, PUB (batch 1), one round trip at a time" writer --topic=pub1_bench \
  --runfor="$runfor" --count="$write_count" --batch-size=1 --size=200

stop_nsqd

echo "# 5. peak RSS with $rss_messages messages of 200 B queued" >&2
start_nsqd rss --mem-queue-size=1000000
rss_before=$("$measure" "$nsqd_pid")
create_channel rss_bench
# A generous --runfor: the run ends when exactly --count messages were acknowledged.
run 5 "writer, $rss_messages msgs for the RSS figure" writer --topic=rss_bench \
  --count="$rss_messages" --runfor=600s --batch-size=200 --size=200
rss_after=$("$measure" "$nsqd_pid")
queued=$last_msgs
stop_nsqd

kib_to_mib() { awk -v kib="$1" 'BEGIN { printf "%.1f", kib / 1024 }'; }
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$2"; }

echo "nsqd: \`$nsqd_bin\`, $connections connections per nsq_bench process, runfor $runfor," \
  "write count ${write_count/#0/unlimited}"
echo
echo "| # | benchmark | messages | seconds | msgs/s | MB/s | us/op | nsqd CPU us/msg |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "| nsqd memory | MiB |"
echo "|---|---|"
echo "| RSS at start | $(kib_to_mib "$(field VmRSS_kB "$rss_before")") |"
echo "| RSS with $queued msgs x 200 B queued | $(kib_to_mib "$(field VmRSS_kB "$rss_after")") |"
echo "| peak RSS (VmHWM) | $(kib_to_mib "$(field VmHWM_kB "$rss_after")") |"
