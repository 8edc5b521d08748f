// nsq_bench client-reader: the reader's work done through our C++ client library. One
// nsq::client::Consumer with max_in_flight --rdy subscribes to --topic/--channel on
// --nsqd-tcp-address; its handler runs on --connections threads and counts each message
// (the consumer FINs it), until --runfor has passed or --count messages arrived.
#pragma once

#include "absl/status/statusor.h"
#include "tools/bench/bench_flags.h"
#include "tools/bench/bench_run.h"

namespace nsq::bench {

absl::StatusOr<BenchResult> RunClientReader(const BenchOptions& options);

}  // namespace nsq::bench
