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
# shellcheck source=tools/bench/bench_lib.sh
source "$repo/tools/bench/bench_lib.sh"
cleanup() {
  stop_nsqd
  rm -rf "$work_dir"
}
trap cleanup EXIT

start_nsqd data --mem-queue-size=1000000

delete_topic() {
  curl -fsS -X POST "http://$http_address/topic/delete?topic=$1" >/dev/null ||
    echo "# could not delete topic $1" >&2
}

summary=() details=()
# pair LABEL RAW_RATE CLIENT_RATE: a summary row with the ratio.
pair() {
  summary+=("| $1 | $2 | $3 | $(ratio "$3" "$2") |")
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
