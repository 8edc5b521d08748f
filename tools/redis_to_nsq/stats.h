// What the migrator has done per source, shared between the thread that drains a source (it
// counts) and the display (it reads). Counters only grow; all atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "tools/redis_to_nsq/key_layout.h"

namespace nsq::redis_to_nsq {

struct SourceStats {
  SourceStats(Source source, std::string topic) : source(std::move(source)), topic(std::move(topic)) {}

  const Source source;
  // Lists: the queue's topic. Sorted sets: empty (each member names its queue).
  const std::string topic;

  std::atomic<int64_t> moved{0};        // published and acknowledged
  std::atomic<int64_t> quarantined{0};  // moved to the quarantine list instead
  // Published again because an earlier attempt may have reached nsqd: leftovers of a previous
  // run found in the processing key, and retries after a lost reply. Upper bound on duplicates.
  std::atomic<int64_t> republished{0};
  std::atomic<int64_t> remaining{-1};   // jobs still in the source (the display polls it)
  std::atomic<bool> finished{false};    // the drain thread is done with it
};

}  // namespace nsq::redis_to_nsq
