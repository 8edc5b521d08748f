#!/usr/bin/env bash
# Benchmarks redis_to_nsq: JOBS Sidekiq jobs of about SIZE bytes (default 1,000,000 x 300 B),
# written by Sidekiq's own client (tests/redis/sidekiq_fixture.rb) into a local redis-server,
# moved into nsqd twice: durable nsqd (--mem-queue-size=0 --sync-every=1) and nsqd with its
# defaults. Prints a markdown table: jobs/s, the tool's peak RSS, nsqd's CPU per job (from
# /proc, so the tool and Redis sharing the cores do not blur it).
#
# usage: tools/redis_to_nsq/run_benchmark.sh
# env:   JOBS (1000000), SIZE (300), BATCH (the tool's --batch, 500)
# needs: a Release build (./scripts/build.sh), redis-server, ruby-sidekiq, GNU time
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
nsqd_bin=$repo/build/nsqd/nsqd
tool=$repo/build/tools/redis_to_nsq/redis_to_nsq
jobs=${JOBS:-1000000}
size=${SIZE:-300}
batch=${BATCH:-500}
bench=unused connections=1
[[ -x $tool && -x $nsqd_bin ]] || { echo "build first: ./scripts/build.sh" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }

work_dir=$(mktemp -d -t redis_to_nsq_bench.XXXXXX)
# shellcheck source=tools/bench/bench_lib.sh
source "$repo/tools/bench/bench_lib.sh"
redis_pid=""
cleanup() {
  stop_nsqd
  [[ -n $redis_pid ]] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  rm -rf "$work_dir"
}
trap cleanup EXIT

redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work_dir" \
  >"$work_dir/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 100); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
url="redis://127.0.0.1:$redis_port/0"

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

rows=()
run() {
  local label=$1
  shift
  redis-cli -p "$redis_port" flushall >/dev/null
  echo "# filling Redis with $jobs jobs of ~$size B (Sidekiq's push_bulk)" >&2
  ruby "$repo/tests/redis/sidekiq_fixture.rb" --redis-url "$url" --mode enqueue --queue bench \
    --count "$jobs" --size "$size" --quiet >&2
  start_nsqd "$label" "$@"
  local before after
  before=$(cpu_ticks "$nsqd_pid")
  /usr/bin/time -f '%e %M' -o "$work_dir/time" "$tool" --redis-url "$url" \
    --nsqd-tcp-address "$tcp_address" --batch "$batch" --progress log >"$work_dir/tool.log" 2>&1
  after=$(cpu_ticks "$nsqd_pid")
  local moved
  moved=$(curl -s "http://$http_address/stats?format=json&topic=bench" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["topics"][0]["message_count"])')
  stop_nsqd
  read -r seconds rss_kb <"$work_dir/time"
  local hz
  hz=$(getconf CLK_TCK)
  rows+=("$(awk -v l="$label" -v j="$moved" -v s="$seconds" -v r="$rss_kb" -v c=$((after - before)) \
    -v hz="$hz" 'BEGIN { printf "| %s | %d | %.2f | %.0f | %.1f | %.2f |", l, j, s, j / s,
      r / 1024, c / hz * 1e6 / j }')")
}

run "durable nsqd (--mem-queue-size=0 --sync-every=1)" --mem-queue-size=0 --sync-every=1
run "default nsqd" --mem-queue-size="$jobs"

echo "redis_to_nsq: $jobs Sidekiq jobs of ~$size B, --batch $batch, redis-server $(redis-server --version | awk '{print $3}')"
echo
echo "| target | jobs moved | seconds | jobs/s | tool peak RSS (MiB) | nsqd CPU per job (us) |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
