#!/usr/bin/env bash
# Installs the Debian 12 packages this project needs, only those that are missing.
# Safe to run again; it does nothing when everything is present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libabsl-dev libsnappy-dev librocksdb-dev doctest-dev libtomlplusplus-dev
  zlib1g-dev
  # The auth server's topic/channel rules are regexes in Go's syntax; RE2 matches them in
  # linear time, as Go does.
  libre2-dev
  # TLS (nsqd, the client) and the tests' certificates and s_client checks.
  libssl-dev openssl
  redis-server
  # redis_to_nsq talks to Redis through hiredis; its tests make real Sidekiq jobs with Ruby
  # (tests/redis/sidekiq_fixture.rb).
  libhiredis-dev ruby ruby-sidekiq ruby-redis-namespace ruby-activejob pkg-config
  # A real Prometheus server scrapes nsqd's and nsqlookupd's /metrics in a test
  # (tests/integration/prometheus_test.cc starts its own on a free port).
  prometheus
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm run the nsqjs compatibility tests; any Node >= 18 with npm will do.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
else
  echo "setup: all packages present"
fi
