#!/usr/bin/env bash
# Prints the memory figures of a running process from /proc/<pid>/status, machine-readable:
#   VmHWM_kB=123456 VmRSS_kB=120000
# VmHWM is the peak resident set size since the process started; VmRSS the current one.
#
# usage: tools/bench/measure.sh <pid>
set -euo pipefail

if [[ $# -ne 1 || ! "$1" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 <pid>" >&2
  exit 2
fi
status_file="/proc/$1/status"
if [[ ! -r "$status_file" ]]; then
  echo "$0: no process $1" >&2
  exit 1
fi
awk '$1 == "VmHWM:" { hwm = $2 } $1 == "VmRSS:" { rss = $2 }
     END { printf "VmHWM_kB=%s VmRSS_kB=%s\n", hwm, rss }' "$status_file"
