// One run of redis_to_nsq, from the first connection to the summary: plan, print the topic
// map, take the --id lock, drain every selected source on its own thread while the display
// runs, then report. Returns the process exit code:
//   0  everything selected was moved
//   1  failed (Redis or nsqd unreachable at start, an error nsqd or Redis will not get over;
//      nothing was deleted from Redis that nsqd did not acknowledge)
//   2  bad usage
//   3  partial: some jobs were quarantined, or are still in Redis (beyond the horizon, or the
//      run was stopped before the sources were empty)
#pragma once

#include "tools/redis_to_nsq/options.h"

namespace nsq::redis_to_nsq {

int RunMigration(const Options& options);

}  // namespace nsq::redis_to_nsq
