#!/usr/bin/env bash
# Runs the libFuzzer targets in fuzz/: scripts/fuzz.sh [target|all] [seconds] (default: all, 30 s
# each). Installs clang-14 and libFuzzer if missing, configures and builds the "fuzz" preset
# (build-fuzz/) when needed, and runs each target on a copy of its seed corpus
# (fuzz/corpus/<target>/) in a temp dir, so the committed corpus stays small. Exits non-zero on
# the first finding and says where the crashing input was saved.
#
# FUZZ_WORK_DIR=<dir> keeps the work dir (corpus copies, crash inputs, logs) in <dir>; by
# default it is a fresh temp dir, removed when no target found anything.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(v2_command_fuzz v1_lookup_fuzz identify_json_fuzz http_target_fuzz mpub_body_fuzz
         store_codec_fuzz snappy_stream_fuzz deflate_stream_fuzz)
which="${1:-all}"
seconds="${2:-30}"
if [ "$which" != "all" ]; then
  found=0
  for t in "${targets[@]}"; do [ "$t" = "$which" ] && found=1; done
  if [ "$found" != 1 ]; then
    echo "fuzz: unknown target '$which' (one of: all ${targets[*]})" >&2
    exit 2
  fi
  targets=("$which")
fi

# clang-14 and its libFuzzer / sanitizer runtimes (plus everything the tree needs).
./scripts/setup.sh
missing=()
for p in clang-14 libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "fuzz: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

[ -f build-fuzz/CMakeCache.txt ] || cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

work="${FUZZ_WORK_DIR:-$(mktemp -d -t nsq-fuzz.XXXXXX)}"
mkdir -p "$work"
status=0
for t in "${targets[@]}"; do
  corpus="$work/$t/corpus"
  artifacts="$work/$t/artifacts"
  rm -rf "$corpus"
  mkdir -p "$corpus" "$artifacts"
  cp fuzz/corpus/"$t"/* "$corpus"/
  echo "fuzz: $t for ${seconds}s (log: $work/$t/fuzz.log)"
  start=$(date +%s)
  rc=0
  # -timeout: one input taking over 10 s is a finding (a hang) too.
  "build-fuzz/fuzz/$t" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    >"$work/$t/fuzz.log" 2>&1 || rc=$?
  end=$(date +%s)
  tail -n 12 "$work/$t/fuzz.log" | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done)" || true
  if [ "$rc" != 0 ]; then
    echo "fuzz: $t FOUND A PROBLEM after $((end - start))s (exit $rc):" >&2
    grep -E "ERROR|FUZZ_CHECK|runtime error|SUMMARY" "$work/$t/fuzz.log" | head -n 5 >&2 || true
    echo "fuzz: crash input(s): $(ls "$artifacts"/* 2>/dev/null | tr '\n' ' ')" >&2
    echo "fuzz: reproduce with: build-fuzz/fuzz/$t <input>; full log: $work/$t/fuzz.log" >&2
    status=1
    break
  fi
  echo "fuzz: $t ran $((end - start))s without a finding"
done
if [ "$status" = 0 ] && [ -z "${FUZZ_WORK_DIR:-}" ]; then rm -rf "$work"; fi
exit "$status"
