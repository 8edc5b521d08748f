# Shared by the run_*benchmarks.sh scripts (sourced, not run): starting nsqd on free loopback
# ports, running nsq_bench against it and reading its RESULT line. The sourcing script sets
# nsqd_bin, bench, connections and work_dir (a temporary directory it removes) first.

nsqd_pid=""
tcp_address=""
http_address=""

# stop_nsqd: SIGTERM (a clean shutdown) and wait for the exit.
stop_nsqd() {
  if [[ -n $nsqd_pid ]]; then
    kill -TERM "$nsqd_pid" 2>/dev/null || true
    wait "$nsqd_pid" 2>/dev/null || true
    nsqd_pid=""
  fi
}

# start_nsqd NAME [FLAGS...]: starts nsqd with data dir $work_dir/NAME (kept if it exists) and
# the flags, and waits until it reports both ports.
start_nsqd() {
  local name=$1
  shift
  local data="$work_dir/$name" log="$work_dir/$name.log"
  mkdir -p "$data"
  : >"$log"
  "$nsqd_bin" --tcp-address=127.0.0.1:0 --http-address=127.0.0.1:0 --data-path="$data" "$@" \
    >"$log" 2>&1 &
  nsqd_pid=$!
  tcp_address="" http_address=""
  for _ in $(seq 1 600); do
    tcp_address=$(sed -n 's/.*TCP: listening on \([0-9.]*:[0-9]*\).*/\1/p' "$log" | head -n1)
    http_address=$(sed -n 's/.*HTTP: listening on \([0-9.]*:[0-9]*\).*/\1/p' "$log" | head -n1)
    if [[ -n $tcp_address && -n $http_address ]]; then
      echo "# nsqd $nsqd_bin $* (pid $nsqd_pid) tcp $tcp_address http $http_address" >&2
      return 0
    fi
    kill -0 "$nsqd_pid" 2>/dev/null || break
    sleep 0.05
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

# create_channel TOPIC: a subscription with RDY 0 creates TOPIC's channel "ch" up front (as
# upstream bench.sh did), so published messages queue for it.
create_channel() {
  nsq_bench reader --topic="$1" --channel=ch --rdy=0 --runfor=10ms --connections=1 >/dev/null ||
    echo "# could not create channel $1/ch up front" >&2
}

# parse_result FILE EXIT_CODE: sets msgs, seconds, rate (msgs/s), mbs (MB/s) from the RESULT
# line nsq_bench wrote to FILE, and detail to "msgs | seconds | msgs/s | MB/s" (or the failure);
# msgs=0 and rate=0 when it failed. Copies FILE to stderr.
parse_result() {
  local file=$1 code=$2
  cat "$file" >&2
  local result
  result=$(awk '/^RESULT / {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
      printf "%s %.3f %.0f %.1f", r["msgs"], r["seconds"], r["msgs_per_sec"], r["mb_per_sec"]
    }' "$file")
  if [[ $code -ne 0 || -z $result ]]; then
    msgs=0 seconds=0 rate=0 mbs=0 detail="failed: $(tail -n1 "$file") | | |"
    return
  fi
  read -r msgs seconds rate mbs <<<"$result"
  detail="$msgs | $seconds | $rate | $mbs"
}

# measure MODE ARGS...: runs nsq_bench and parse_result's its output.
measure() {
  local out="$work_dir/out.$RANDOM" code=0
  nsq_bench "$@" >"$out" 2>&1 || code=$?
  parse_result "$out" "$code"
}

# median N...: the median of the numbers (the lower middle one of an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# best VALUES...: the largest value (for rates: the round the shared machine disturbed least).
best() { printf '%s\n' "$@" | sort -g | tail -n1; }

# paired_ratio "A1 A2 ..." "B1 B2 ...": the median of A[i] / B[i], each pair measured in the
# same round (so a machine that speeds up or slows down between rounds cancels out).
paired_ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    n = split(a, x, " "); split(b, y, " "); m = 0
    for (i = 1; i <= n; i++) if (y[i] > 0) r[++m] = x[i] / y[i]
    if (m == 0) { print "-"; exit }
    for (i = 2; i <= m; i++) {  # insertion sort: a handful of rounds
      v = r[i]
      for (j = i - 1; j >= 1 && r[j] > v; j--) r[j + 1] = r[j]
      r[j + 1] = v
    }
    printf "%.2f", r[int((m + 1) / 2)]
  }'
}

# ratio A B: A / B with two decimals ("-" when B is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# nsqd_cpu_ticks: nsqd's user + system CPU time so far, in clock ticks (/proc/<pid>/stat).
nsqd_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$nsqd_pid/stat"; }

# cpu_us_per_msg TICKS MSGS: microseconds of CPU per message ("-" when MSGS is 0).
cpu_us_per_msg() {
  awk -v t="$1" -v m="$2" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { if (m > 0) printf "%.2f", t * 1e6 / hz / m; else print "-" }'
}
