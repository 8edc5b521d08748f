#!/usr/bin/env bash
# Benchmarks our C++ client library against the raw nsq_bench modes (wire codec over blocking
# sockets) on the same nsqd in the same run. Each row runs both sides every round (which goes
# first alternates by round, so a drifting machine favours neither), and the table gives each
# figure's median over ROUNDS rounds, the median of the rounds' client/raw ratios, the ratio of
# each side's best round, nsqd's CPU per message (user + system from /proc/<pid>/stat over the
# run) and the nsq_bench process's own CPU per message (what the raw tool or the library spent
# on its side):
#   sync PUB    PUB (batch 1), one round trip at a time per connection/producer, for RUNFOR
#   async PUB   PUB (batch 1), PIPELINE commands outstanding per connection (client: PublishAsync)
#   MPUB-200    publish WRITE_COUNT messages of 200 B in MPUB batches of 200, each waiting for OK
#   consume     drain that backlog (RDY / max_in_flight 2500, FIN each)
# The client's blocking publishes go over its caller-thread connection (the library's default,
# Config::sync_publish_on_caller_thread). The blocking rows (sync PUB, MPUB-200) also run the
# client with that option off (nsq_bench client-writer --caller-thread=false): side "iothread",
# every call through the producer's I/O thread; its backlog is drained by a consumer whose
# handler runs on its I/O thread (concurrency 0, client-reader --inline-handler).
# Both sides connect (and the consumers subscribe) before the clock starts. The PUB rows also
# stop at WRITE_COUNT messages: nsqd refuses publishes beyond --mem-queue-size. One nsqd serves
# every run (free loopback ports, temporary --data-path, --mem-queue-size WRITE_COUNT); an
# unrecorded publish + drain warms it up first, and each topic is deleted after its run so
# every run meets the same empty nsqd. Raw output goes to stderr, the tables to stdout.
#
# usage: tools/bench/run_client_benchmarks.sh [path/to/nsqd]   (default: build/nsqd/nsqd)
# env:   RUNFOR (5s), WRITE_COUNT (1000000), READ_LIMIT (60s), PIPELINE (64), ROUNDS (9),
#        CONNECTIONS (CPUs), NSQ_BENCH (default: build/tools/bench/nsq_bench)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
nsqd_bin=${1:-$repo/build/nsqd/nsqd}
bench=${NSQ_BENCH:-$repo/build/tools/bench/nsq_bench}
runfor=${RUNFOR:-5s}
write_count=${WRITE_COUNT:-1000000}
read_limit=${READ_LIMIT:-60s}
pipeline=${PIPELINE:-64}
rounds=${ROUNDS:-9}
connections=${CONNECTIONS:-$(nproc)}

[[ -x $nsqd_bin ]] || { echo "no nsqd binary at $nsqd_bin" >&2; exit 2; }
[[ -x $bench ]] || { echo "no nsq_bench at $bench (build target nsq_bench)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is needed (Debian package time)" >&2; exit 2; }

work_dir=$(mktemp -d -t nsq_client_bench.XXXXXX)
# shellcheck source=tools/bench/bench_lib.sh
source "$repo/tools/bench/bench_lib.sh"
cleanup() {
  stop_nsqd
  rm -rf "$work_dir"
}
trap cleanup EXIT

start_nsqd data --mem-queue-size="$write_count"

delete_topic() {
  curl -fsS -X POST "http://$http_address/topic/delete?topic=$1" >/dev/null ||
    echo "# could not delete topic $1" >&2
}

# median VALUES...: the middle value (the lower middle of an even count).

# run_side KEY MODE ARGS...: one nsq_bench run; appends its msgs/s, nsqd CPU us/msg and the
# bench process's CPU us/msg to rates[KEY], nsqd_cpus[KEY], bench_cpus[KEY]; sets msgs.
declare -A rates nsqd_cpus bench_cpus
run_side() {
  local key=$1 mode=$2
  shift 2
  local out="$work_dir/out.$RANDOM" times="$work_dir/times.$RANDOM" code=0 before after
  before=$(nsqd_cpu_ticks)
  /usr/bin/time -f "%U %S" -o "$times" "$bench" "$mode" --nsqd-tcp-address="$tcp_address" \
    --connections="$connections" "$@" >"$out" 2>&1 || code=$?
  after=$(nsqd_cpu_ticks)
  parse_result "$out" "$code"
  rates[$key]+="$rate "
  nsqd_cpus[$key]+="$(cpu_us_per_msg $((after - before)) "$msgs") "
  bench_cpus[$key]+="$(awk -v m="$msgs" '{ if (m > 0) printf "%.2f", ($1 + $2) * 1e6 / m;
    else print "-" }' "$times") "
  echo "# $key: $detail" >&2
}

# sides ROUND [iothread]: "raw client [iothread]" in odd rounds, reversed in even ones.
sides() {
  local all=(raw client ${2:-})
  if (($1 % 2)); then echo "${all[@]}"; else printf '%s\n' "${all[@]}" | tac | xargs; fi
}
# prefix SIDE: the nsq_bench mode prefix of a side.
prefix() { [[ $1 == raw ]] || echo client-; }
# writer_flag SIDE: --caller-thread=false for the iothread side; reader_flag SIDE:
# --inline-handler.
writer_flag() { [[ $1 != iothread ]] || echo --caller-thread=false; }
reader_flag() { [[ $1 != iothread ]] || echo --inline-handler; }

echo "# warm-up (not recorded): raw writer + drain" >&2
create_channel warmup
nsq_bench writer --topic=warmup --count="$write_count" --runfor="$read_limit" >/dev/null
nsq_bench reader --topic=warmup --count="$write_count" --runfor="$read_limit" >/dev/null
delete_topic warmup

for round in $(seq 1 "$rounds"); do
  for side in $(sides "$round" iothread); do
    p=$(prefix "$side")
    echo "# round $round, $side: sync PUB for $runfor" >&2
    # shellcheck disable=SC2046  # an optional flag
    run_side "sync_$side" "${p}writer" --topic="${side}_pub1" --batch-size=1 --size=200 \
      --runfor="$runfor" --count="$write_count" $(writer_flag "$side")
    delete_topic "${side}_pub1"
  done
  for side in $(sides "$round"); do
    p=$(prefix "$side") async=()
    [[ $side == client ]] && async=(--async)
    echo "# round $round, $side: async PUB, $pipeline outstanding" >&2
    run_side "async_$side" "${p}writer" --topic="${side}_pubp" --batch-size=1 --size=200 \
      --runfor="$runfor" --count="$write_count" --pipeline="$pipeline" "${async[@]}"
    delete_topic "${side}_pubp"
  done
  for side in $(sides "$round" iothread); do
    p=$(prefix "$side") topic="${side}_mpub"
    create_channel "$topic"
    echo "# round $round, $side: MPUB 200 x 200 B, $write_count msgs" >&2
    # shellcheck disable=SC2046  # an optional flag
    run_side "mpub_$side" "${p}writer" --topic="$topic" --count="$write_count" \
      --runfor="$read_limit" --batch-size=200 --size=200 $(writer_flag "$side")
    if [[ $msgs -gt 0 ]]; then
      echo "# round $round, $side: drain $msgs msgs" >&2
      # shellcheck disable=SC2046  # an optional flag
      run_side "consume_$side" "${p}reader" --topic="$topic" --channel=ch --count="$msgs" \
        --runfor="$read_limit" --rdy=2500 --size=200 $(reader_flag "$side")
    else
      rates[consume_$side]+="0 "  # nothing to drain: the round still counts, as a failure
    fi
    delete_topic "$topic"
  done
done

echo "nsqd: \`$nsqd_bin\`; $connections connections (raw) / producers or consumers" \
  "(client) per nsq_bench process; 200-byte messages; medians of $rounds rounds"
echo
echo "| benchmark | raw nsq_bench msgs/s | C++ client msgs/s | client / raw, per round |" \
  "client / raw, best rounds | nsqd CPU us/msg raw / client |" \
  "bench process CPU us/msg raw / client |"
echo "|---|---|---|---|---|---|---|"
# row KEY CLIENT_SIDE LABEL: each side's median rate; the median of the rounds' client/raw
# ratios (the two sides of a round run back to back); the ratio of each side's best round (on
# this shared 2-core machine a run goes at full speed or, when its threads are placed badly, at
# about half: the best rounds compare the two at full speed); CPU medians.
row() {
  local key=$1 side=$2 label=$3
  # shellcheck disable=SC2086  # the lists are space-separated numbers
  echo "| $label | $(median ${rates[${key}_raw]}) | $(median ${rates[${key}_${side}]}) |" \
    "$(paired_ratio "${rates[${key}_${side}]}" "${rates[${key}_raw]}") |" \
    "$(ratio "$(best ${rates[${key}_${side}]})" "$(best ${rates[${key}_raw]})") |" \
    "$(median ${nsqd_cpus[${key}_raw]}) / $(median ${nsqd_cpus[${key}_${side}]}) |" \
    "$(median ${bench_cpus[${key}_raw]}) / $(median ${bench_cpus[${key}_${side}]}) |"
}
row sync client "sync PUB (batch 1, one round trip at a time, $runfor)"
row sync iothread "sync PUB, client with sync_publish_on_caller_thread=false"
row async client "async PUB (batch 1, $pipeline outstanding; client: PublishAsync)"
row mpub client "MPUB-200, publish $write_count (each call waits for OK)"
row mpub iothread "MPUB-200, client with sync_publish_on_caller_thread=false"
row consume client "consume that backlog (RDY / max_in_flight 2500, FIN each)"
row consume iothread "consume, client handler on its I/O thread (concurrency 0)"
