// nsq_bench writer: upstream bench_writer. Each connection publishes MPUB batches (PUB when
// --batch-size=1) of --size-byte messages to --topic until --runfor has passed (or --count
// messages were claimed), keeping up to --pipeline commands outstanding; only messages whose
// command was answered OK are counted.
#pragma once

#include "absl/status/statusor.h"
#include "tools/bench/bench_flags.h"
#include "tools/bench/bench_run.h"

namespace nsq::bench {

absl::StatusOr<BenchResult> RunWriter(const BenchOptions& options);

}  // namespace nsq::bench
