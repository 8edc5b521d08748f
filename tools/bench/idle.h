// nsq_bench idle: holds --connections connections to nsqd that IDENTIFY and then only answer
// heartbeats, as idle consumers and producers of a big fleet do, for --runfor. Once every one
// has its IDENTIFY answered it prints "IDLE ready=N" (so a script can measure nsqd's memory
// with exactly N idle connections), and at the end "IDLE done=N". All from one thread.
#pragma once

#include "absl/status/status.h"
#include "tools/bench/bench_flags.h"

namespace nsq::bench {

absl::Status RunIdle(const BenchOptions& options);

}  // namespace nsq::bench
