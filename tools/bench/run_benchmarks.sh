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
nsqd_pid=""
tcp_address=""
http_address=""

stop_nsqd() {
  if [[ -n $nsqd_pid ]]; then
    kill -TERM "$nsqd_pid" 2>/dev/null || true
    wait "$nsqd_pid" 2>/dev/null || true
    nsqd_pid=""
  fi
}
cleanup() {
  stop_nsqd
  rm -rf "$work_dir"
}
trap cleanup EXIT

# start_nsqd NAME: starts nsqd with its own data dir and waits until it reports its ports.
start_nsqd() {
  local data="$work_dir/$1" log="$work_dir/$1.log"
  mkdir -p "$data"
  "$nsqd_bin" --tcp-address=127.0.0.1:0 --http-address=127.0.0.1:0 --data-path="$data" \
    --mem-queue-size=1000000 >"$log" 2>&1 &
  nsqd_pid=$!
  for _ in $(seq 1 200); do
    tcp_address=$(sed -n 's/.*TCP: listening on \([0-9.]*:[0-9]*\).*/\1/p' "$log" | head -n1)
    http_address=$(sed -n 's/.*HTTP: listening on \([0-9.]*:[0-9]*\).*/\1/p' "$log" | head -n1)
    if [[ -n $tcp_address ]]; then
      echo "# nsqd $nsqd_bin (pid $nsqd_pid) tcp $tcp_address http ${http_address:-?}" >&2
      return 0
    fi
    kill -0 "$nsqd_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "nsqd did not start listening; its log:" >&2
  cat "$log" >&2
  exit 1
}

# nsq_bench MODE ARGS...: runs nsq_bench against the current nsqd.
nsq_bench() {
  local mode=$1
  shift
  "$bench" "$mode" --nsqd-tcp-address="$tcp_address" --connections="$connections" "$@"
}

# Creates TOPIC's channel "ch" up front (as upstream bench.sh did), so published messages go
# straight to it: a subscription with RDY 0 that receives nothing.
create_channel() {
  nsq_bench reader --topic="$1" --channel=ch --rdy=0 --runfor=10ms --connections=1 >/dev/null ||
    echo "# could not create channel $1/ch up front" >&2
}

rows=()
last_msgs=0

# record NUMBER LABEL OUTPUT_FILE EXIT_CODE: adds a table row from nsq_bench's RESULT line.
record() {
  local number=$1 label=$2 file=$3 code=$4
  cat "$file" >&2
  local result
  result=$(awk '/^RESULT / {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
      us = r["msgs"] > 0 ? r["seconds"] * 1e6 / r["msgs"] : 0
      printf "%s|%.2f|%.0f|%.1f|%.3f", r["msgs"], r["seconds"], r["msgs_per_sec"],
             r["mb_per_sec"], us
    }' "$file")
  if [[ $code -ne 0 || -z $result ]]; then
    rows+=("| $number | $label | failed: $(tail -n1 "$file") | | | | |")
    last_msgs=0
    return
  fi
  IFS='|' read -r msgs seconds ops mbs us <<<"$result"
  rows+=("| $number | $label | $msgs | $seconds | $ops | $mbs | $us |")
  last_msgs=$msgs
}

# run NUMBER LABEL MODE ARGS...: one nsq_bench process, recorded.
run() {
  local number=$1 label=$2
  shift 2
  local out="$work_dir/out.$number.$RANDOM" code=0
  echo "# $number. $label" >&2
  nsq_bench "$@" >"$out" 2>&1 || code=$?
  record "$number" "$label" "$out" "$code"
}

start_nsqd main

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
writer_code=0 reader_code=0
nsq_bench writer --topic=pubsub_bench --runfor="$runfor" --batch-size=200 --size=200 \
  >"$writer_out" 2>&1 || writer_code=$?
wait "$reader_pid" || reader_code=$?
record 3 "writer and reader at once: writer" "$writer_out" "$writer_code"
record 3 "writer and reader at once: reader" "$reader_out" "$reader_code"

run 4 "writer, PUB (batch 1), one round trip at a time" writer --topic=pub1_bench \
  --runfor="$runfor" --count="$write_count" --batch-size=1 --size=200

stop_nsqd

echo "# 5. peak RSS with $rss_messages messages of 200 B queued" >&2
start_nsqd rss
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
echo "| # | benchmark | messages | seconds | msgs/s | MB/s | us/op |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "| nsqd memory | MiB |"
echo "|---|---|"
echo "| RSS at start | $(kib_to_mib "$(field VmRSS_kB "$rss_before")") |"
echo "| RSS with $queued msgs x 200 B queued | $(kib_to_mib "$(field VmRSS_kB "$rss_after")") |"
echo "| peak RSS (VmHWM) | $(kib_to_mib "$(field VmHWM_kB "$rss_after")") |"
