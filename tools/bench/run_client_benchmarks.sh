#!/usr/bin/env bash
# Benchmarks our C++ client library against an nsqd: each measurement runs twice, first with
# the raw nsq_bench writer/reader (wire codec over blocking sockets), then with the client
# modes (nsq::client::Producer / Consumer), and the table gives the client/raw ratio.
#   1. publish 1,000,000 messages of 200 B in MPUB batches of 200 (each call waits for OK)
#   2. consume the backlog left by 1 (RDY / max_in_flight 2500, FIN each)
#   3. PUB (batch 1), one round trip at a time per connection/producer, for RUNFOR
#   4. PUB (batch 1), PIPELINE commands outstanding per connection (client: the async API)
# 3 and 4 also stop at WRITE_COUNT messages: nsqd refuses publishes beyond --mem-queue-size.
# One nsqd serves every run (free loopback ports, temporary --data-path, --mem-queue-size
# 1000000); an unrecorded 1 M publish + drain warms it up first, and each topic is deleted
# after its run so every run meets the same empty nsqd. Raw output goes to stderr, the
# tables to stdout.
#
# usage: tools/bench/run_client_benchmarks.sh [path/to/nsqd]   (default: build/nsqd/nsqd)
# env:   RUNFOR (10s), WRITE_COUNT (1000000), READ_LIMIT (60s), PIPELINE (64),
#        CONNECTIONS (CPUs), NSQ_BENCH (default: build/tools/bench/nsq_bench)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
nsqd_bin=${1:-$repo/build/nsqd/nsqd}
bench=${NSQ_BENCH:-$repo/build/tools/bench/nsq_bench}
runfor=${RUNFOR:-10s}
write_count=${WRITE_COUNT:-1000000}
read_limit=${READ_LIMIT:-60s}
pipeline=${PIPELINE:-64}
connections=${CONNECTIONS:-$(nproc)}

[[ -x $nsqd_bin ]] || { echo "no nsqd binary at $nsqd_bin" >&2; exit 2; }
[[ -x $bench ]] || { echo "no nsq_bench at $bench (build target nsq_bench)" >&2; exit 2; }

work_dir=$(mktemp -d -t nsq_client_bench.XXXXXX)
nsqd_pid=""
cleanup() {
  if [[ -n $nsqd_pid ]]; then
    kill -TERM "$nsqd_pid" 2>/dev/null || true
    wait "$nsqd_pid" 2>/dev/null || true
  fi
  rm -rf "$work_dir"
}
trap cleanup EXIT

mkdir -p "$work_dir/data"
"$nsqd_bin" --tcp-address=127.0.0.1:0 --http-address=127.0.0.1:0 --data-path="$work_dir/data" \
  --mem-queue-size=1000000 >"$work_dir/nsqd.log" 2>&1 &
nsqd_pid=$!
tcp_address="" http_address=""
for _ in $(seq 1 200); do
  tcp_address=$(sed -n 's/.*TCP: listening on \([0-9.]*:[0-9]*\).*/\1/p' "$work_dir/nsqd.log")
  http_address=$(sed -n 's/.*HTTP: listening on \([0-9.]*:[0-9]*\).*/\1/p' "$work_dir/nsqd.log")
  [[ -n $tcp_address && -n $http_address ]] && break
  kill -0 "$nsqd_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $tcp_address || -z $http_address ]]; then
  echo "nsqd did not start listening; its log:" >&2
  cat "$work_dir/nsqd.log" >&2
  exit 1
fi
echo "# nsqd $nsqd_bin (pid $nsqd_pid) tcp $tcp_address http $http_address" >&2

nsq_bench() {
  local mode=$1
  shift
  "$bench" "$mode" --nsqd-tcp-address="$tcp_address" --connections="$connections" "$@"
}
# A subscription with RDY 0 creates TOPIC's channel "ch", so published messages queue for it.
create_channel() {
  nsq_bench reader --topic="$1" --channel=ch --rdy=0 --runfor=10ms --connections=1 >/dev/null
}
delete_topic() {
  curl -fsS -X POST "http://$http_address/topic/delete?topic=$1" >/dev/null ||
    echo "# could not delete topic $1" >&2
}

# measure MODE ARGS...: runs nsq_bench; sets msgs and rate (msgs/s) from its RESULT line, and
# detail to "msgs | seconds | msgs/s | MB/s" (or the failure) for the raw-output table.
measure() {
  local out="$work_dir/out" code=0
  nsq_bench "$@" >"$out" 2>&1 || code=$?
  cat "$out" >&2
  local result
  result=$(awk '/^RESULT / {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
      printf "%s %.3f %.0f %.1f", r["msgs"], r["seconds"], r["msgs_per_sec"], r["mb_per_sec"]
    }' "$out")
  if [[ $code -ne 0 || -z $result ]]; then
    msgs=0 rate=0 detail="failed: $(tail -n1 "$out") | | |"
    return
  fi
  local seconds mbs
  read -r msgs seconds rate mbs <<<"$result"
  detail="$msgs | $seconds | $rate | $mbs"
}

summary=() details=()
# pair LABEL RAW_RATE CLIENT_RATE: a summary row with the ratio.
pair() {
  local ratio
  ratio=$(awk -v c="$3" -v r="$2" 'BEGIN { if (r > 0) printf "%.2f", c / r; else print "-" }')
  summary+=("| $1 | $2 | $3 | $ratio |")
}

echo "# warm-up (not recorded): raw writer 1 M + drain" >&2
create_channel warmup
nsq_bench writer --topic=warmup --count="$write_count" --runfor="$read_limit" >/dev/null
nsq_bench reader --topic=warmup --count="$write_count" --runfor="$read_limit" >/dev/null
delete_topic warmup

# 1 + 2 for one side: publish the backlog, then drain it. $1 = raw|client, $2 = mode prefix.
publish_and_drain() {
  local side=$1 prefix=$2 topic="${1}_mpub"
  create_channel "$topic"
  echo "# $side: MPUB 200 x 200 B, $write_count msgs" >&2
  measure "${prefix}writer" --topic="$topic" --count="$write_count" --runfor="$read_limit" \
    --batch-size=200 --size=200
  details+=("| MPUB 200, publish | $side | $detail |")
  publish_rate=$rate
  drain_rate=0
  if [[ $msgs -gt 0 ]]; then
    echo "# $side: drain $msgs msgs" >&2
    measure "${prefix}reader" --topic="$topic" --channel=ch --count="$msgs" \
      --runfor="$read_limit" --rdy=2500 --size=200
    details+=("| consume the backlog | $side | $detail |")
    drain_rate=$rate
  fi
  delete_topic "$topic"
}
publish_and_drain raw ""
raw_publish=$publish_rate raw_drain=$drain_rate
publish_and_drain client client-
pair "MPUB 200 x 200 B, publish 1 M (sync)" "$raw_publish" "$publish_rate"
pair "consume that backlog (RDY / max_in_flight 2500)" "$raw_drain" "$drain_rate"

# batch1 SIDE LABEL MODE ARGS...: one batch-1 run on a fresh topic; sets rate.
batch1() {
  local side=$1 label=$2 mode=$3
  shift 3
  echo "# $side: $label" >&2
  measure "$mode" --topic="${side}_pub1" --batch-size=1 --size=200 --runfor="$runfor" \
    --count="$write_count" "$@"
  details+=("| $label | $side | $detail |")
  delete_topic "${side}_pub1"
}
batch1 raw "PUB, one at a time" writer
raw_rate=$rate
batch1 client "PUB, one at a time" client-writer
pair "PUB (batch 1), one round trip at a time, $runfor" "$raw_rate" "$rate"
batch1 raw "PUB, $pipeline outstanding" writer --pipeline="$pipeline"
raw_rate=$rate
batch1 client "PUB, $pipeline outstanding" client-writer --async --pipeline="$pipeline"
pair "PUB (batch 1), $pipeline outstanding (client: async API), $runfor" "$raw_rate" "$rate"

echo "nsqd: \`$nsqd_bin\`; $connections connections (raw) / producers and handler threads" \
  "(client) per nsq_bench process; write count cap $write_count"
echo
echo "| benchmark | raw nsq_bench msgs/s | C++ client msgs/s | client / raw |"
echo "|---|---|---|---|"
printf '%s\n' "${summary[@]}"
echo
echo "| run | side | messages | seconds | msgs/s | MB/s |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${details[@]}"
