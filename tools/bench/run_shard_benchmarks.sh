#!/usr/bin/env bash
# Benchmarks nsqd's event loops (--worker-threads, --busy-poll) and its scaling over cores:
# every scenario against each configuration, in the same run, and prints one markdown table
# with msgs/s and nsqd's CPU per message (user + system from /proc/<pid>/stat over the run,
# which the bench processes sharing the cores do not blur), medians of ROUNDS rounds.
#
# Scenarios (200-byte messages, CONNECTIONS connections per nsq_bench process):
#   pub       MPUB 200 x 200 B, publish WRITE_COUNT messages (kept in memory)
#   consume   drain that backlog (RDY 2500 per connection, FIN each)
#   together  writer and reader at once for RUNFOR (CPU per message published or consumed)
#   topics    the same with TOPICS topics, one writer and one reader connection per topic
#   pub1      PUB batch 1, one round trip at a time per connection, for RUNFOR
#   latency   publish -> deliver at RATE msgs/s for RUNFOR (the receiver asks nsqd to flush
#             every loop turn: output_buffer_timeout -1); p50 / p99 / p99.9 / max in us
#   neighbour the same latency run on topic "lat" beside a heavy neighbour on topic "big": MPUBs
#             of NEIGHBOUR_BATCH messages at NEIGHBOUR_RATE msgs/s with its own consumer
#             (does one topic's load raise another's p99?). On a fresh nsqd; with 2 loops the
#             topics hash to different loops, and each run's subscriber (at SUB) and publisher
#             (at its second publish) move to their topic's loop, so the loops share nothing
#             but the machine's two cores.
#
# Configurations: CONFIGS, one per line, "label|cpus|nsqd flags"; nsqd runs under
# `taskset -c cpus` (the bench clients are not pinned). The default compares one and two
# loops on both cores, two loops with a 50 us busy poll, and one loop pinned to one core
# (with the second line, the scaling from one core to two).
#
# usage: tools/bench/run_shard_benchmarks.sh [path/to/nsqd]   (default: build/nsqd/nsqd)
# env:   ROUNDS (3), RUNFOR (5s; whole seconds), WRITE_COUNT (1000000), TOPICS (4), RATE (50000),
#        NEIGHBOUR_RATE (1000000), NEIGHBOUR_BATCH (10000), CONNECTIONS (number of CPUs),
#        CONFIGS, NSQ_BENCH (default build/tools/bench/nsq_bench)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
nsqd_real=${1:-$repo/build/nsqd/nsqd}
bench=${NSQ_BENCH:-$repo/build/tools/bench/nsq_bench}
rounds=${ROUNDS:-3}
runfor=${RUNFOR:-5s}
write_count=${WRITE_COUNT:-1000000}
topics=${TOPICS:-4}
rate_target=${RATE:-50000}
neighbour_rate=${NEIGHBOUR_RATE:-1000000}
neighbour_batch=${NEIGHBOUR_BATCH:-10000}
connections=${CONNECTIONS:-$(nproc)}
last_cpu=$(($(nproc) - 1))
configs=${CONFIGS:-"1 loop, $(nproc) cores|0-$last_cpu|--worker-threads=1
2 loops, $(nproc) cores|0-$last_cpu|--worker-threads=2
2 loops + busy-poll 50us|0-$last_cpu|--worker-threads=2 --busy-poll=50us
1 loop, pinned to 1 core|0|--worker-threads=1"}

[[ -x $nsqd_real ]] || { echo "no nsqd binary at $nsqd_real" >&2; exit 2; }
[[ -x $bench ]] || { echo "no nsq_bench at $bench (build target nsq_bench)" >&2; exit 2; }
command -v taskset >/dev/null || { echo "taskset is needed (Debian package util-linux)" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is needed (Debian package curl)" >&2; exit 2; }

work_dir=$(mktemp -d -t nsq_shard_bench.XXXXXX)
# shellcheck source=tools/bench/bench_lib.sh
source "$repo/tools/bench/bench_lib.sh"
cleanup() {
  stop_nsqd
  rm -rf "$work_dir"
}
trap cleanup EXIT

# start_nsqd runs $nsqd_bin: a wrapper that pins the real binary to this configuration's cpus.
nsqd_bin="$work_dir/nsqd-pinned"
pin_to() {
  printf '#!/bin/sh\nexec taskset -c %s %q "$@"\n' "$1" "$nsqd_real" >"$nsqd_bin"
  chmod +x "$nsqd_bin"
}

declare -A rates cpus lat
# latency_cell FILE: "p50/p99/p99.9/max" from a latency run's RESULT line.
latency_cell() {
  awk '/^RESULT / { for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
    printf "%s/%s/%s/%s", r["p50_us"], r["p99_us"], r["p999_us"], r["max_us"] }' "$1"
}

# topic_messages TOPIC: the topic's message_count in nsqd's /stats (0 before it exists).
topic_messages() {
  curl -fsS "http://$http_address/stats?format=json&topic=$1" |
    sed -n 's/.*"message_count":\([0-9]*\).*/\1/p' | head -n1 | grep . || echo 0
}

# run_neighbour KEY: the neighbour scenario (see the top) on a fresh nsqd; appends the "lat"
# run's percentiles to lat[KEY].
run_neighbour() {
  local key=$1 nout="$work_dir/n.$RANDOM" out="$work_dir/lat.$RANDOM" code=0
  local seconds=${runfor%s}
  nsq_bench latency --topic=big --channel=ch --rate="$neighbour_rate" \
    --batch-size="$neighbour_batch" --runfor="$((seconds + 2))s" --size=200 >"$nout" 2>&1 &
  local neighbour=$!
  # Its publisher is connected once the topic counts messages.
  local tries=0
  while [[ $(topic_messages big) -eq 0 ]]; do
    ((++tries < 500)) || { echo "the neighbour did not start" >&2; exit 1; }
    kill -0 "$neighbour" 2>/dev/null || { cat "$nout" >&2; exit 1; }
    sleep 0.01
  done
  nsq_bench latency --topic=lat --channel=ch --rate="$rate_target" --runfor="$runfor" \
    --output-buffer-timeout=-1 --size=200 >"$out" 2>&1 || code=$?
  wait "$neighbour" || echo "# the neighbour run failed: $(tail -n1 "$nout")" >&2
  cat "$out" "$nout" >&2
  [[ $code -eq 0 ]] || { lat[$key]+="failed "; return; }
  lat[$key]+="$(latency_cell "$out") "
}
# run_one KEY MODE ARGS...: one nsq_bench process; its rate and nsqd's CPU per message.
run_one() {
  local key=$1
  shift
  local out="$work_dir/out.$RANDOM" code=0 before
  before=$(nsqd_cpu_ticks)
  nsq_bench "$@" >"$out" 2>&1 || code=$?
  parse_result "$out" "$code"
  rates[$key]+="$rate "
  cpus[$key]+="$(cpu_us_per_msg $(($(nsqd_cpu_ticks) - before)) "$msgs") "
}

# run_pair KEY EXTRA_ARGS...: a writer and a reader at once on one topic (or TOPICS topics).
run_pair() {
  local key=$1 topic=$2
  shift 2
  local wout="$work_dir/w.$RANDOM" rout="$work_dir/r.$RANDOM" wcode=0 rcode=0 before both
  before=$(nsqd_cpu_ticks)
  nsq_bench reader --topic="$topic" --channel=ch --runfor="$runfor" --size=200 --rdy=2500 "$@" \
    >"$rout" 2>&1 &
  local reader=$!
  nsq_bench writer --topic="$topic" --runfor="$runfor" --batch-size=200 --size=200 "$@" \
    >"$wout" 2>&1 || wcode=$?
  wait "$reader" || rcode=$?
  local ticks=$(($(nsqd_cpu_ticks) - before))
  parse_result "$wout" "$wcode"
  both=$msgs
  rates[${key}_pub]+="$rate "
  parse_result "$rout" "$rcode"
  rates[${key}_sub]+="$rate "
  cpus[$key]+="$(cpu_us_per_msg "$ticks" $((both + msgs))) "
}

labels=()
while IFS='|' read -r label cpu_list flags; do
  [[ -n $label ]] && labels+=("$label|$cpu_list|$flags")
done <<<"$configs"

for round in $(seq 1 "$rounds"); do
  for i in "${!labels[@]}"; do
    IFS='|' read -r label cpu_list flags <<<"${labels[$i]}"
    echo "# round $round: $label (cpus $cpu_list, $flags)" >&2
    pin_to "$cpu_list"
    # shellcheck disable=SC2086  # the configuration's flags are words
    start_nsqd "c$i.r$round" --mem-queue-size="$write_count" $flags
    create_channel pub
    run_one "$i.pub" writer --topic=pub --count="$write_count" --runfor=60s --batch-size=200 \
      --size=200
    run_one "$i.consume" reader --topic=pub --channel=ch --count="$msgs" --runfor=60s \
      --rdy=2500 --size=200
    create_channel pair
    run_pair "$i.together" pair
    for t in $(seq 0 $((topics - 1))); do create_channel "many_$t"; done
    run_pair "$i.topics" many --topics="$topics" --connections="$topics"
    run_one "$i.pub1" writer --topic=pub1 --runfor="$runfor" --batch-size=1 --size=200
    out="$work_dir/lat.$RANDOM" code=0
    nsq_bench latency --topic=lat --channel=ch --rate="$rate_target" --runfor="$runfor" \
      --output-buffer-timeout=-1 --size=200 >"$out" 2>&1 || code=$?
    cat "$out" >&2
    lat[$i]+="$(latency_cell "$out") "
    stop_nsqd
    start_nsqd "n$i.r$round" --mem-queue-size="$write_count" $flags
    run_neighbour "$i.neighbour"
    stop_nsqd
  done
done

cell() { echo "$(median ${rates[$1]}) ($(median ${cpus[$2]}) us)"; }
echo "nsqd: \`$nsqd_real\`; $connections connections per nsq_bench process ($topics for" \
  "'topics'); 200-byte messages; medians of $rounds rounds; msgs/s (nsqd CPU us per message)"
echo
header="| scenario |" rule="|---|"
for entry in "${labels[@]}"; do
  header+=" ${entry%%|*} |"
  rule+="---|"
done
echo "$header"
echo "$rule"
row() {
  local name=$1 rate_key=$2 cpu_key=$3 line="| $1 |"
  for i in "${!labels[@]}"; do line+=" $(cell "$i.$rate_key" "$i.$cpu_key") |"; done
  echo "$line"
}
row "MPUB-200 publish $write_count" pub pub
row "consume that backlog" consume consume
row "together: publish" together_pub together
row "together: consume" together_sub together
row "$topics topics together: publish" topics_pub topics
row "$topics topics together: consume" topics_sub topics
row "PUB batch 1, round trips" pub1 pub1
# latency_row TITLE SUFFIX: per configuration, the round whose p99 is the median.
latency_row() {
  local line="| $1 |"
  for i in "${!labels[@]}"; do
    line+=" $(printf '%s\n' ${lat[$i$2]} | sort -t/ -k2 -g | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }') |"
  done
  echo "$line"
}
latency_row "latency at $rate_target/s, p50/p99/p99.9/max us (median of p99)" ""
latency_row "the same beside MPUB-$neighbour_batch at $neighbour_rate/s on another topic" ".neighbour"
