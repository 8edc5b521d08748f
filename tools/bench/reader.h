// nsq_bench reader: upstream bench_reader. Each connection subscribes to --topic/--channel with
// RDY --rdy and FINs every message (all FINs for one read() go out in one write), answering
// heartbeats with NOP, until --runfor has passed or --count messages arrived in total.
#pragma once

#include "absl/status/statusor.h"
#include "tools/bench/bench_flags.h"
#include "tools/bench/bench_run.h"

namespace nsq::bench {

absl::StatusOr<BenchResult> RunReader(const BenchOptions& options);

}  // namespace nsq::bench
