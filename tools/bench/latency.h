// nsq_bench latency: publish→deliver latency at a fixed rate. One connection publishes --rate
// messages per second on a fixed schedule (open loop: it never waits for an answer before the
// next send, so a slow broker shows as latency instead of slowing the load), each body
// stamped with its scheduled send time; another connection subscribed to --topic/--channel
// receives them and records now - stamp. After --runfor it reports the percentiles:
//
//   [bench_latency] rate: 50000/s - msgs: 500000 - p50: 61us - p99: 240us - p99.9: 900us - max: 2.1ms
//   RESULT mode=latency msgs=500000 seconds=10.000 msgs_per_sec=50000.0 p50_us=61 p99_us=240 ...
//
// --batch-size 1 sends PUB; larger values send MPUB of that many (stamped alike).
#pragma once

#include "absl/status/status.h"
#include "tools/bench/bench_flags.h"

namespace nsq::bench {

absl::Status RunLatency(const BenchOptions& options);

}  // namespace nsq::bench
