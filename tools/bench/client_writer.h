// nsq_bench client-writer: the writer's work done through our C++ client library. Each of
// --connections threads owns an nsq::client::Producer and publishes --size-byte messages to
// --topic with MultiPublish of --batch-size (Publish when it is 1), until --runfor has passed
// or --count messages were claimed. By default every call waits for nsqd's OK; with --async
// the callback API keeps up to --pipeline publishes outstanding per producer. Only messages
// whose publish succeeded are counted.
#pragma once

#include "absl/status/statusor.h"
#include "tools/bench/bench_flags.h"
#include "tools/bench/bench_run.h"

namespace nsq::bench {

absl::StatusOr<BenchResult> RunClientWriter(const BenchOptions& options);

}  // namespace nsq::bench
