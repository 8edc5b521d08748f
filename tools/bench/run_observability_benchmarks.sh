#!/usr/bin/env bash
# What observability costs: MPUB-200 publish and consume at the same time (nsq_bench writer and
# reader, two processes, 200-byte messages, FIN each) against an nsqd with everything off, then
# against one with everything on:
#   - statsd: --statsd-address pointing at a UDP sink (python3, else a port nobody reads) with
#     --statsd-interval=1s;
#   - end-to-end latency percentiles: --e2e-processing-latency-percentile=0.99,0.95;
#   - a Prometheus-style scrape: curl GET /metrics every second for the whole run.
# (PARTS picks a subset.) Each round runs both (alternating which goes first, each on a fresh nsqd); the table gives
# the medians over ROUNDS rounds of publish and consume msgs/s, the on/off ratios and nsqd's
# CPU per message (published + consumed).
#
# usage: tools/bench/run_observability_benchmarks.sh [path/to/nsqd]  (default: build/nsqd/nsqd)
# env:   RUNFOR (10s), ROUNDS (3), CONNECTIONS (CPUs), NSQ_BENCH (build/tools/bench/nsq_bench),
#        PARTS: what "on" turns on (default "statsd e2e scrape"; e.g. PARTS=e2e for one alone)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
nsqd_bin=${1:-$repo/build/nsqd/nsqd}
bench=${NSQ_BENCH:-$repo/build/tools/bench/nsq_bench}
runfor=${RUNFOR:-10s}
rounds=${ROUNDS:-3}
connections=${CONNECTIONS:-$(nproc)}
parts=${PARTS:-statsd e2e scrape}

[[ -x $nsqd_bin ]] || { echo "no nsqd binary at $nsqd_bin" >&2; exit 2; }
[[ -x $bench ]] || { echo "no nsq_bench at $bench (build target nsq_bench)" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is needed for the scrapes" >&2; exit 2; }

work_dir=$(mktemp -d -t nsq_obs_bench.XXXXXX)
# shellcheck source=tools/bench/bench_lib.sh
source "$repo/tools/bench/bench_lib.sh"
sink_pid="" scraper_pid=""
stop_scraper() {
  if [[ -n $scraper_pid ]]; then
    kill "$scraper_pid" 2>/dev/null || true
    wait "$scraper_pid" 2>/dev/null || true
    scraper_pid=""
  fi
}
cleanup() {
  stop_scraper
  stop_nsqd
  if [[ -n $sink_pid ]]; then kill "$sink_pid" 2>/dev/null || true; fi
  rm -rf "$work_dir"
}
trap cleanup EXIT

# The statsd daemon: a UDP socket that reads and drops, on a port the kernel picks.
statsd_port=""
if command -v python3 >/dev/null; then
  python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
while True:
    s.recv(65536)
' >"$work_dir/sink.port" &
  sink_pid=$!
  for _ in $(seq 1 100); do
    statsd_port=$(head -n1 "$work_dir/sink.port")
    [[ -n $statsd_port ]] && break
    sleep 0.05
  done
fi
if [[ -z $statsd_port ]]; then
  statsd_port=9  # discard: nobody reads, nsqd still sends every packet
  echo "# no python3: statsd packets go to 127.0.0.1:9, which nobody reads" >&2
fi

# run_pubsub SETTING ROUND: a fresh nsqd with SETTING's flags, writer and reader at once for
# RUNFOR; appends the publish and consume rates and nsqd's CPU us/msg to the SETTING's lists.
declare -A publish_rates consume_rates cpus
run_pubsub() {
  local setting=$1 round=$2 flags=()
  if [[ $setting == on && $parts == *statsd* ]]; then
    flags+=(--statsd-address="127.0.0.1:$statsd_port" --statsd-interval=1s)
  fi
  if [[ $setting == on && $parts == *e2e* ]]; then
    flags+=(--e2e-processing-latency-percentile=0.99 --e2e-processing-latency-percentile=0.95)
  fi
  start_nsqd "$setting.$round" --mem-queue-size=1000000 "${flags[@]}"
  if [[ $setting == on && $parts == *scrape* ]]; then
    (while :; do
      curl -fsS "http://$http_address/metrics" >/dev/null || true
      sleep 1
    done) &
    scraper_pid=$!
  fi
  create_channel obs_bench
  echo "# round $round, observability $setting: writer and reader at once, $runfor" >&2
  local reader_out="$work_dir/out.r" writer_out="$work_dir/out.w" reader_pid
  local writer_code=0 reader_code=0 ticks
  ticks=$(nsqd_cpu_ticks)
  nsq_bench reader --topic=obs_bench --channel=ch --runfor="$runfor" --size=200 \
    >"$reader_out" 2>&1 &
  reader_pid=$!
  nsq_bench writer --topic=obs_bench --runfor="$runfor" --batch-size=200 --size=200 \
    >"$writer_out" 2>&1 || writer_code=$?
  wait "$reader_pid" || reader_code=$?
  ticks=$(($(nsqd_cpu_ticks) - ticks))
  if [[ $setting == on ]]; then
    # The pushes and latencies happened: say so, so a broken setting is not measured as free.
    local page
    page=$(curl -fsS "http://$http_address/metrics")
    grep -E '^nsq_statsd_(pushes|packets_sent)_total' <<<"$page" >&2 || true
    grep -E '^nsq_channel_e2e_processing_latency_samples' <<<"$page" >&2 || true
  fi
  stop_scraper
  stop_nsqd
  parse_result "$writer_out" "$writer_code" 2>/dev/null
  publish_rates[$setting]+="$rate "
  local published=$msgs
  parse_result "$reader_out" "$reader_code" 2>/dev/null
  consume_rates[$setting]+="$rate "
  cpus[$setting]+="$(cpu_us_per_msg "$ticks" $((published + msgs))) "
}

# median VALUES...: the middle value (the lower middle of an even count).

for round in $(seq 1 "$rounds"); do
  if ((round % 2 == 1)); then order="off on"; else order="on off"; fi
  for setting in $order; do run_pubsub "$setting" "$round"; done
done

# shellcheck disable=SC2086  # the lists are space-separated numbers
{
  off_publish=$(median ${publish_rates[off]}) on_publish=$(median ${publish_rates[on]})
  off_consume=$(median ${consume_rates[off]}) on_consume=$(median ${consume_rates[on]})
  off_cpu=$(median ${cpus[off]}) on_cpu=$(median ${cpus[on]})
}

echo "nsqd: \`$nsqd_bin\`; $connections connections per nsq_bench process; MPUB 200 x 200 B" \
  "publish and consume at once for $runfor; medians of $rounds rounds"
echo
echo "| observability | publish msgs/s | consume msgs/s | nsqd CPU us/msg |"
echo "|---|---|---|---|"
echo "| all off | $off_publish | $off_consume | $off_cpu |"
echo "| on: $parts | $on_publish | $on_consume | $on_cpu |"
echo "| ratio on / off | $(ratio "$on_publish" "$off_publish") |" \
  "$(ratio "$on_consume" "$off_consume") | |"
echo
echo "rounds (publish, consume msgs/s): off ${publish_rates[off]}/ ${consume_rates[off]};" \
  "on ${publish_rates[on]}/ ${consume_rates[on]}"
