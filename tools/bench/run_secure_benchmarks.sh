#!/usr/bin/env bash
# What TLS and compression cost: the same work through our C++ client (nsq_bench client-*
# modes) over a plain connection, then with TLS, snappy, deflate and TLS + snappy, against one
# nsqd started with a self-signed certificate (made here with openssl). For each wire:
#   1. publish WRITE_COUNT messages of 200 B in MPUB batches of 200 (each call waits for OK)
#   2. consume that backlog (max_in_flight 2500, FIN each)
# The table gives msgs/s, the ratio to plain, and nsqd's CPU per message (user + system time
# from /proc/<pid>/stat over the run, which the benchmark clients on the same cores do not
# blur). Bodies are 200 x 'x' as in upstream's bench, so compression has it easy; the CPU
# column is the honest cost.
#
# usage: tools/bench/run_secure_benchmarks.sh [path/to/nsqd]   (default: build/nsqd/nsqd)
# Each round runs every wire in turn; the table gives each figure's median over ROUNDS rounds
# (one run is under a second, and the two cores are shared with the clients: single runs vary
# by tens of percent).
# env:   WRITE_COUNT (2000000), READ_LIMIT (60s), CONNECTIONS (CPUs), ROUNDS (5), WIRES ("plain
#        tls snappy deflate tls+snappy"), NSQ_BENCH (default: build/tools/bench/nsq_bench)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
nsqd_bin=${1:-$repo/build/nsqd/nsqd}
bench=${NSQ_BENCH:-$repo/build/tools/bench/nsq_bench}
write_count=${WRITE_COUNT:-2000000}
read_limit=${READ_LIMIT:-60s}
connections=${CONNECTIONS:-$(nproc)}
wires=${WIRES:-plain tls snappy deflate tls+snappy}
rounds=${ROUNDS:-5}

[[ -x $nsqd_bin ]] || { echo "no nsqd binary at $nsqd_bin" >&2; exit 2; }
[[ -x $bench ]] || { echo "no nsq_bench at $bench (build target nsq_bench)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "openssl is needed for the certificate" >&2; exit 2; }

work_dir=$(mktemp -d -t nsq_secure_bench.XXXXXX)
# shellcheck source=tools/bench/bench_lib.sh
source "$repo/tools/bench/bench_lib.sh"
cleanup() {
  stop_nsqd
  rm -rf "$work_dir"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$work_dir/key.pem" -out "$work_dir/cert.pem" \
  2>/dev/null
start_nsqd data --mem-queue-size="$write_count" --tls-cert="$work_dir/cert.pem" \
  --tls-key="$work_dir/key.pem"

delete_topic() {
  curl -fsS -X POST "http://$http_address/topic/delete?topic=$1" >/dev/null ||
    echo "# could not delete topic $1" >&2
}

# wire_flags WIRE: the nsq_bench flags of one wire ("tls+snappy" -> --tls --snappy).
wire_flags() {
  local wire=$1 flags=()
  [[ $wire == *tls* ]] && flags+=(--tls "--tls-ca-file=$work_dir/cert.pem")
  [[ $wire == *snappy* ]] && flags+=(--snappy)
  [[ $wire == *deflate* ]] && flags+=(--deflate)
  echo "${flags[@]}"
}

# measure_cpu MODE ARGS...: measure, and cpu set to nsqd's CPU us per message of the run.
measure_cpu() {
  local before after
  before=$(nsqd_cpu_ticks)
  measure "$@"
  after=$(nsqd_cpu_ticks)
  cpu=$(cpu_us_per_msg $((after - before)) "$msgs")
}

echo "# warm-up (not recorded): plain client publish + drain" >&2
create_channel warmup
nsq_bench client-writer --topic=warmup --count="$write_count" --runfor="$read_limit" >/dev/null
nsq_bench client-reader --topic=warmup --count="$write_count" --runfor="$read_limit" >/dev/null
delete_topic warmup

# median VALUES...: the middle value (the lower middle of an even count).

declare -A publish_rates drain_rates publish_cpus drain_cpus
for round in $(seq 1 "$rounds"); do
  for wire in $wires; do
    read -r -a flags <<<"$(wire_flags "$wire")"
    topic="secure_${wire//+/_}"
    create_channel "$topic"
    echo "# round $round, $wire: MPUB 200 x 200 B, $write_count msgs" >&2
    measure_cpu client-writer --topic="$topic" --count="$write_count" --runfor="$read_limit" \
      --batch-size=200 --size=200 "${flags[@]}"
    publish_rates[$wire]+="$rate " publish_cpus[$wire]+="$cpu "
    if [[ $msgs -gt 0 ]]; then
      echo "# round $round, $wire: drain $msgs msgs" >&2
      measure_cpu client-reader --topic="$topic" --channel=ch --count="$msgs" \
        --runfor="$read_limit" --rdy=2500 --size=200 "${flags[@]}"
      drain_rates[$wire]+="$rate " drain_cpus[$wire]+="$cpu "
    fi
    delete_topic "$topic"
  done
done

rows=()
plain_publish=0 plain_drain=0
for wire in $wires; do
  # shellcheck disable=SC2086  # the lists are space-separated numbers
  {
    publish_rate=$(median ${publish_rates[$wire]}) publish_cpu=$(median ${publish_cpus[$wire]})
    drain_rate=$(median ${drain_rates[$wire]:-0}) drain_cpu=$(median ${drain_cpus[$wire]:--})
  }
  if [[ $wire == plain ]]; then
    plain_publish=$publish_rate plain_drain=$drain_rate
  fi
  rows+=("| $wire | $publish_rate | $(ratio "$publish_rate" "$plain_publish") | $publish_cpu |\
 $drain_rate | $(ratio "$drain_rate" "$plain_drain") | $drain_cpu |")
done

echo "nsqd: \`$nsqd_bin\`; $connections producers / handler threads per nsq_bench process;" \
  "$write_count messages of 200 B per wire and round; medians of $rounds rounds"
echo
echo "| wire | publish msgs/s | / plain | nsqd CPU us/msg | consume msgs/s | / plain |" \
  "nsqd CPU us/msg |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
